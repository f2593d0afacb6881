"""Data-sharing agreements and what they let out of, and into, a node.

Pure: plain values in, plain values out; no broker, no store. The service feeds
local events to :func:`prepare_outgoing` and received messages to
:func:`check_incoming`, then does the I/O.

An agreement, as loaded from the node config (see ``schemas.py``)::

    Agreement(id="indicateurs-vers-region", peer="region-06", direction="out",
              rules={"indicators.values_approved": EventRule(
                  "indicators.values_approved",
                  fields=("indicator", "period", "cells"),
                  cell_fields=("org_unit", "sex"), count_fields=("count",))},
              aggregates_only=True, suppression_threshold=5,
              valid_from=datetime(2026, 1, 1, tzinfo=UTC), valid_until=None)

Aggregates travel as ``cells``: a list of dicts with dimension fields and count
fields. A cell whose count is at or below the threshold is *suppressed*: its
counts are removed and ``"suppressed": true`` is set, so the value never leaves
the node. When exactly one cell of a table would be suppressed, the next
smallest is suppressed too, so it cannot be recovered by subtraction from the
others (secondary suppression).
"""

from __future__ import annotations

import enum
import functools
import hashlib
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from marshmallow import ValidationError

from shared.envelope import Envelope, EnvelopeSchema
from shared.errors import Invalid
from shared.signing import (
    SIGNATURE_VERSION,
    key_id_for,
    sign_batch,
    sign_for,
    unpack_batch,
    verify_mapping,
    verify_proof,
    without_address,
)

Direction = Literal["in", "out"]
DEFAULT_CLOCK_SKEW = timedelta(minutes=5)
# Payload fields (top level and in each cell) that say which org unit a value
# is for; ``mrc_code`` is a bare census-division code ("2402" is ``cd:2402``).
TERRITORY_FIELDS = ("org_unit", "mrc_code")
BATCH_MAX = 500  # events under one batch signature
_ENVELOPES = EnvelopeSchema()  # one instance: building a schema costs more than a load


class Reason(enum.StrEnum):
    """Why a message was refused or withheld: the label of the metrics."""

    MALFORMED = "malformed"
    UNKNOWN_PEER = "unknown_peer"
    UNSIGNED = "unsigned"
    WRONG_KEY = "wrong_key"
    BAD_SIGNATURE = "bad_signature"
    TYPE_NOT_AGREED = "type_not_agreed"
    AGREEMENT_EXPIRED = "agreement_expired"
    FIELD_NOT_AGREED = "field_not_agreed"
    SMALL_CELL = "small_cell"
    NOT_AGGREGATE = "not_aggregate"
    SUPPRESSED = "suppressed"
    NO_AGREEMENT = "no_agreement"
    NOT_ADDRESSED = "not_addressed"
    WRONG_RECIPIENT = "wrong_recipient"
    WRONG_AGREEMENT = "wrong_agreement"
    OCCURRED_IN_FUTURE = "occurred_in_future"
    OUTSIDE_TERRITORY = "outside_territory"
    NOT_ADOPTED = "agreement_not_adopted"


# A batch message is refused whole when one of its events fails one of these:
# the batch is then not what the peer signed (or not from a peer at all).
BATCH_FATAL = frozenset(
    {
        Reason.MALFORMED,
        Reason.UNKNOWN_PEER,
        Reason.UNSIGNED,
        Reason.WRONG_KEY,
        Reason.BAD_SIGNATURE,
    }
)


@dataclass(frozen=True)
class EventRule:
    event_type: str
    fields: tuple[str, ...]
    cells_field: str = "cells"
    cell_fields: tuple[str, ...] | None = None
    count_fields: tuple[str, ...] = ("count",)


@dataclass(frozen=True)
class Agreement:
    id: str
    peer: str
    direction: Direction
    rules: Mapping[str, EventRule]
    suppression_threshold: int = 0
    aggregates_only: bool = False
    valid_from: datetime | None = None
    valid_until: datetime | None = None

    def is_valid_at(self, at: datetime) -> bool:
        if self.valid_from is not None and at < self.valid_from:
            return False
        return self.valid_until is None or at < self.valid_until


@dataclass(frozen=True)
class Peer:
    """A node we trust for what its key signs, and only for its territory.

    ``territory`` is as declared (org-unit ids: ``cd:2402``, ``region:11``);
    ``units`` is those units and every unit under them (municipalities of an
    MRC, MRCs of a region), from the Quebec geography, computed at load time.
    A peer with no territory speaks for no unit.
    """

    id: str
    public_key: Ed25519PublicKey
    upstream_uri: str | None = None
    management_url: str | None = None
    territory: tuple[str, ...] = ()
    units: frozenset[str] = frozenset()

    @functools.cached_property
    def key_id(self) -> str:
        return key_id_for(self.id, self.public_key)


@dataclass(frozen=True)
class NodeConfig:
    node_id: str
    role: Literal["mrc", "coordinator"]
    territory: str
    key_path: str
    amqp_uri: str
    management_url: str
    vhost: str
    peers: Mapping[str, Peer]
    agreements: tuple[Agreement, ...] = field(default_factory=tuple)
    clock_skew: timedelta = DEFAULT_CLOCK_SKEW
    # the board whose resolutions adopt this node's agreements: when set, an
    # agreement takes effect only once that board adopted it as written
    board: str | None = None

    def agreements_for(self, direction: Direction) -> list[Agreement]:
        return [a for a in self.agreements if a.direction == direction]


# --- adoption by the board ------------------------------------------------------


def agreement_digest(agreement: Agreement) -> str:
    """The fingerprint of an agreement as the node administrator wrote it: the
    board adopts this text, and an edit of node.yaml needs a new resolution."""
    text = json.dumps(
        {
            "id": agreement.id,
            "peer": agreement.peer,
            "direction": agreement.direction,
            "rules": {
                t: {
                    "fields": list(r.fields),
                    "cells_field": r.cells_field,
                    "cell_fields": None
                    if r.cell_fields is None
                    else list(r.cell_fields),
                    "count_fields": list(r.count_fields),
                }
                for t, r in sorted(agreement.rules.items())
            },
            "suppression_threshold": agreement.suppression_threshold,
            "aggregates_only": agreement.aggregates_only,
            "valid_from": agreement.valid_from.isoformat()
            if agreement.valid_from
            else None,
            "valid_until": agreement.valid_until.isoformat()
            if agreement.valid_until
            else None,
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def adoption_key(agreement_id: str, digest: str) -> str:
    return f"{agreement_id}|{digest}"


def is_adopted(
    agreement: Agreement, config: NodeConfig, adopted: Collection[str] | None
) -> bool:
    """In force by the board: always on a node without a ``board``; else only
    if that board's resolution adopted this very text (same digest)."""
    if config.board is None:
        return True
    key = adoption_key(agreement.id, agreement_digest(agreement))
    return adopted is not None and key in adopted


# --- outgoing -------------------------------------------------------------------


@dataclass(frozen=True)
class Outgoing:
    """One signed event for one peer."""

    agreement_id: str
    peer: str
    data: dict[str, Any]
    events: int = 1  # a batch message (``shared.signing.sign_batch``) holds more


@dataclass(frozen=True)
class Withheld:
    agreement_id: str | None
    reason: Reason


def is_small(value: Any, threshold: int) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and value <= threshold
    )


def suppress_cells(
    cells: list[Mapping[str, Any]],
    count_fields: tuple[str, ...],
    threshold: int,
    cell_fields: tuple[str, ...] | None = None,
) -> list[dict[str, Any]]:
    """Replace small counts by ``suppressed: true``; project each cell."""

    def total(cell: Mapping[str, Any]) -> float:
        values = [cell.get(f) for f in count_fields]
        return sum(v for v in values if isinstance(v, int | float))

    small = {
        i
        for i, cell in enumerate(cells)
        if any(is_small(cell.get(f), threshold) for f in count_fields)
    }
    if len(small) == 1 and len(cells) > 1:
        rest = [i for i in range(len(cells)) if i not in small]
        small.add(min(rest, key=lambda i: total(cells[i])))
    out = []
    for i, cell in enumerate(cells):
        keep = set(cell_fields) if cell_fields is not None else set(cell)
        projected = {
            k: v for k, v in cell.items() if k in keep and k not in count_fields
        }
        if i in small:
            projected["suppressed"] = True
        else:
            projected.update({f: cell[f] for f in count_fields if f in cell})
        out.append(projected)
    return out


def apply_rule(
    payload: Mapping[str, Any], rule: EventRule, agreement: Agreement
) -> dict[str, Any] | Reason:
    """Project, check aggregation and suppress; a :class:`Reason` if nothing may go."""
    cells = payload.get(rule.cells_field)
    has_cells = isinstance(cells, list) and all(isinstance(c, dict) for c in cells)
    top_counts = [f for f in rule.count_fields if f in payload]
    if agreement.aggregates_only and not has_cells and not top_counts:
        return Reason.NOT_AGGREGATE
    projected = {k: v for k, v in payload.items() if k in rule.fields}
    for name in top_counts:
        if name in projected and is_small(
            payload[name], agreement.suppression_threshold
        ):
            return Reason.SUPPRESSED
    if has_cells and rule.cells_field in projected:
        projected[rule.cells_field] = suppress_cells(
            cells,  # type: ignore[arg-type]
            rule.count_fields,
            agreement.suppression_threshold,
            rule.cell_fields,
        )
    return projected


def _addressed(
    envelope: Envelope,
    config: NodeConfig,
    now: datetime,
    peer: str | None,
    adopted: Collection[str] | None,
) -> tuple[list[tuple[Agreement, dict[str, Any]]], list[Withheld]]:
    """Each agreement's projected, addressed (unsigned) copy of one local event,
    and what was held back."""
    copies: list[tuple[Agreement, dict[str, Any]]] = []
    withheld: list[Withheld] = []
    for agreement in config.agreements_for("out"):
        if peer is not None and agreement.peer != peer:
            continue
        rule = agreement.rules.get(envelope.event_type)
        if rule is None:
            continue
        if not is_adopted(agreement, config, adopted):
            withheld.append(Withheld(agreement.id, Reason.NOT_ADOPTED))
            continue
        if envelope.occurred_at > now + config.clock_skew:
            withheld.append(Withheld(agreement.id, Reason.OCCURRED_IN_FUTURE))
            continue
        if not agreement.is_valid_at(envelope.occurred_at):
            withheld.append(Withheld(agreement.id, Reason.AGREEMENT_EXPIRED))
            continue
        result = apply_rule(envelope.payload, rule, agreement)
        if isinstance(result, Reason):
            withheld.append(Withheld(agreement.id, result))
            continue
        outgoing = replace(
            envelope,
            payload=result,
            origin_node=config.node_id,
            signature=None,
            key_id=None,
        )
        data = _ENVELOPES.dump(outgoing)
        data.update(
            recipient=agreement.peer,
            agreement_id=agreement.id,
            signature_version=SIGNATURE_VERSION,
        )
        copies.append((agreement, data))
    if not copies and not withheld:
        withheld.append(Withheld(None, Reason.NO_AGREEMENT))
    return copies, withheld


def prepare_outgoing(
    envelope: Envelope,
    config: NodeConfig,
    private_key: Ed25519PrivateKey,
    now: datetime,
    peer: str | None = None,
    adopted: Collection[str] | None = None,
) -> tuple[list[Outgoing], list[Withheld]]:
    """What each peer (or only ``peer``) gets from one local event, signed; and
    what was held back.

    The federated event keeps the local ``event_id`` so a redelivered local event
    is the same federated event, which the peer de-duplicates. Each copy is signed
    for its peer and agreement (:func:`shared.signing.sign_for`). An agreement
    covers the events that *occurred* while it was in force, so a replay after
    its end still sends them and nothing from before its start leaves; an event
    dated beyond ``now`` plus the clock skew is withheld, as the peer would
    refuse it.
    """
    key_id = key_id_for(config.node_id, private_key.public_key())
    copies, withheld = _addressed(envelope, config, now, peer, adopted)
    sent = [
        Outgoing(
            agreement.id,
            agreement.peer,
            sign_for(
                without_address(data),
                private_key,
                key_id,
                recipient=agreement.peer,
                agreement_id=agreement.id,
            ),
        )
        for agreement, data in copies
    ]
    return sent, withheld


def prepare_batches(
    envelopes: list[Envelope],
    config: NodeConfig,
    private_key: Ed25519PrivateKey,
    now: datetime,
    peer: str | None = None,
    adopted: Collection[str] | None = None,
    max_size: int = BATCH_MAX,
    as_messages: bool = False,
) -> tuple[list[Outgoing], list[tuple[Envelope, Withheld]]]:
    """What :func:`prepare_outgoing` sends of many events, signed in batches:
    one signature per peer and agreement (and ``max_size`` events,
    :func:`shared.signing.sign_batch`). Each event goes as its own message with
    its ``batch_proof`` (so the wire carries one message per event, as before),
    or with ``as_messages`` the batch goes as one message; and what was held back.
    """
    key_id = key_id_for(config.node_id, private_key.public_key())
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    held: list[tuple[Envelope, Withheld]] = []
    for envelope in envelopes:
        copies, withheld = _addressed(envelope, config, now, peer, adopted)
        held.extend((envelope, item) for item in withheld)
        for agreement, data in copies:
            groups.setdefault((agreement.peer, agreement.id), []).append(data)
    sent: list[Outgoing] = []
    for (to, agreement_id), items in groups.items():
        for start in range(0, len(items), max_size):
            chunk = items[start : start + max_size]
            message = sign_batch(chunk, private_key, key_id)
            if not as_messages:  # one message per event, each with its proof
                sent.extend(
                    Outgoing(agreement_id, to, m) for m in unpack_batch(message)
                )
            else:
                sent.append(Outgoing(agreement_id, to, message, events=len(chunk)))
    return sent, held


# --- journal and replay ----------------------------------------------------------


def journaled_types(config: NodeConfig) -> frozenset[str]:
    """The local event types the journal keeps: those an outgoing agreement names."""
    return frozenset(t for a in config.agreements_for("out") for t in a.rules)


def parse_moment(name: str, value: Any, *, end_of_day: bool = False) -> datetime:
    """An ISO date or datetime (UTC when it has no offset) for replay bounds.

    A bare date is its first instant, or with ``end_of_day`` the first instant of
    the next day (the day is included, as for ``valid_until``). Anything else is
    :class:`Invalid` naming the field ``name``.
    """
    moment: datetime | None = None
    if isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            if len(text) == 10:
                day = date.fromisoformat(text)
                if end_of_day:
                    day += timedelta(days=1)
                moment = datetime.combine(day, time(), tzinfo=UTC)
            else:
                moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            moment = None
    if moment is None:
        raise Invalid(
            {
                name: [
                    f"date ou date-heure ISO attendue (AAAA-MM-JJ), reçu {value!r} / "
                    f"ISO date or datetime expected (YYYY-MM-DD), got {value!r}"
                ]
            },
            f"champ « {name} » : date ou date-heure ISO attendue, reçu {value!r}.",
            f'field "{name}": ISO date or datetime expected, got {value!r}.',
        )
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def check_replay_peer(config: NodeConfig, peer: Any) -> str:
    """``peer`` if the node knows it; :class:`Invalid` naming ``peer`` otherwise."""
    if isinstance(peer, str) and peer in config.peers:
        return peer
    known = ", ".join(sorted(config.peers)) or "-"
    raise Invalid(
        {
            "peer": [
                f"pair inconnu : {peer!r} (connus : {known}) / "
                f"unknown peer: {peer!r} (known: {known})"
            ]
        },
        f"champ « peer » : pair inconnu : {peer!r} (connus : {known}).",
        f'field "peer": unknown peer {peer!r} (known: {known}).',
    )


# --- incoming -------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    accepted: bool
    reason: Reason | None = None
    detail: str = ""
    envelope: Envelope | None = None
    peer: str | None = None
    agreement_id: str | None = None


def _reject(reason: Reason, detail: str, peer: str | None = None) -> Verdict:
    return Verdict(False, reason, detail, peer=peer)


def check_incoming(
    data: Mapping[str, Any],
    config: NodeConfig,
    now: datetime,
    adopted: Collection[str] | None = None,
    verified: set[tuple[bytes, bytes]] | None = None,
) -> Verdict:
    """Accept a received message only if signed by a known peer, for this node,
    under an agreement with that peer, and speaking only for its territory.

    Checks in order: known peer, signature present, key id of that peer,
    signature valid, envelope shape, signed for this node (``recipient``) under
    one of its incoming agreements with that peer (``agreement_id``), the type
    in that agreement, ``occurred_at`` not beyond ``now`` plus the clock skew,
    the agreement in force at ``occurred_at`` (not at arrival: a replay of what
    occurred while it was in force is accepted after its end), payload within
    the agreed fields, no small cell, every org unit named in the payload
    within the peer's territory. De-duplication by ``event_id`` needs the store
    and is the service's job.
    """
    if not isinstance(data, Mapping):
        return _reject(Reason.MALFORMED, "not a JSON object")
    peer_id = data.get("origin_node")
    peer = config.peers.get(peer_id) if isinstance(peer_id, str) else None
    if peer is None:
        return _reject(Reason.UNKNOWN_PEER, f"origin_node {peer_id!r}")
    proof = data.get("batch_proof")
    if proof is not None:  # one event of a signed batch, live or replayed alone
        key_id = proof.get("key_id") if isinstance(proof, Mapping) else None
        if key_id != peer.key_id:
            return _reject(Reason.WRONG_KEY, f"batch_proof.key_id {key_id!r}", peer.id)
        if not verify_proof(data, peer.public_key, verified):
            detail = "batch_proof does not reach a root signed by the peer"
            return _reject(Reason.BAD_SIGNATURE, detail, peer.id)
    else:
        if not data.get("signature"):
            return _reject(Reason.UNSIGNED, "no signature", peer.id)
        if data.get("key_id") != peer.key_id:
            detail = f"key_id {data.get('key_id')!r}"
            return _reject(Reason.WRONG_KEY, detail, peer.id)
        if not verify_mapping(data, peer.public_key):
            return _reject(Reason.BAD_SIGNATURE, "signature does not verify", peer.id)
    try:
        envelope: Envelope = _ENVELOPES.load(without_address(data))
    except ValidationError as exc:
        return _reject(Reason.MALFORMED, str(exc.messages), peer.id)
    version = data.get("signature_version")
    if version != SIGNATURE_VERSION:
        detail = f"signature_version {version!r}, {SIGNATURE_VERSION} expected"
        return _reject(Reason.NOT_ADDRESSED, detail, peer.id)
    recipient = data.get("recipient")
    if recipient != config.node_id:
        return _reject(Reason.WRONG_RECIPIENT, f"recipient {recipient!r}", peer.id)
    agreement_id = data.get("agreement_id")
    agreement = next(
        (
            a
            for a in config.agreements_for("in")
            if a.id == agreement_id and a.peer == peer.id
        ),
        None,
    )
    if agreement is None:
        detail = f"agreement_id {agreement_id!r}: no incoming agreement with {peer.id}"
        return _reject(Reason.WRONG_AGREEMENT, detail, peer.id)
    if not is_adopted(agreement, config, adopted):
        detail = (
            f"accord « {agreement.id} » non adopté par l'instance {config.board} / "
            f'agreement "{agreement.id}" not adopted by board {config.board}'
        )
        return _reject(Reason.NOT_ADOPTED, detail, peer.id)
    rule = agreement.rules.get(envelope.event_type)
    if rule is None:
        return _reject(Reason.TYPE_NOT_AGREED, envelope.event_type, peer.id)
    occurred = envelope.occurred_at
    if occurred > now + config.clock_skew:
        detail = f"occurred_at {occurred.isoformat()} after {now.isoformat()}"
        return _reject(Reason.OCCURRED_IN_FUTURE, detail, peer.id)
    if not agreement.is_valid_at(occurred):
        detail = f"{agreement.id} not in force at occurred_at {occurred.isoformat()}"
        return _reject(Reason.AGREEMENT_EXPIRED, detail, peer.id)
    extra = sorted(set(envelope.payload) - set(rule.fields))
    if extra:
        return _reject(Reason.FIELD_NOT_AGREED, ", ".join(extra), peer.id)
    if _has_small_cell(envelope.payload, rule, agreement.suppression_threshold):
        return _reject(Reason.SMALL_CELL, rule.cells_field, peer.id)
    outside = units_outside(envelope.payload, rule, peer)
    if outside:
        detail = f"{', '.join(outside)} not in {peer.id}'s territory"
        return _reject(Reason.OUTSIDE_TERRITORY, detail, peer.id)
    return Verdict(True, envelope=envelope, peer=peer.id, agreement_id=agreement.id)


def units_outside(payload: Mapping[str, Any], rule: EventRule, peer: Peer) -> list[str]:
    """The org units the payload names (top level and cells) that are not in the
    peer's territory, in order; an unknown or non-text unit is outside too.

    ``{"org_unit": "cd:2403", "cells": [{"org_unit": "csd:2403005"}]}`` from
    ``mrc-2402`` (territory ``cd:2402``) gives ``["cd:2403", "csd:2403005"]``.
    """
    named: list[Any] = []
    cells = payload.get(rule.cells_field)
    for item in [payload, *(cells if isinstance(cells, list) else [])]:
        if not isinstance(item, Mapping):
            continue
        for name in TERRITORY_FIELDS:
            if name not in item or (name == "mrc_code" and item[name] is None):
                continue
            value = item[name]
            if name == "mrc_code" and isinstance(value, str):
                value = f"cd:{value}"
            named.append(value)
    outside: list[str] = []
    for unit in named:
        text = unit if isinstance(unit, str) else repr(unit)
        if (
            not isinstance(unit, str) or unit not in peer.units
        ) and text not in outside:
            outside.append(text)
    return outside


def _has_small_cell(
    payload: Mapping[str, Any], rule: EventRule, threshold: int
) -> bool:
    if any(is_small(payload.get(f), threshold) for f in rule.count_fields):
        return True
    cells = payload.get(rule.cells_field)
    if not isinstance(cells, list):
        return False
    return any(
        isinstance(c, dict)
        and any(is_small(c.get(f), threshold) for f in rule.count_fields)
        for c in cells
    )
