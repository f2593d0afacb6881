"""The federation service: agreed local events out, verified peer events in.

Out: ``share`` consumes every local domain event (``#`` on the node's events
exchange, idempotent by ``event_id``), and hands what agreements allow, signed,
to ``maillage.federation.to.<peer>`` with publisher confirms; RabbitMQ
federation carries it. A redelivered local event is re-published under the same
``event_id``, which the peer de-duplicates.

In: ``receive`` reads ``maillage.federation.inbox`` (filled by the federation
links set by ``maillage federation apply``), verifies each message and, in one
store transaction, records it (unique per peer and ``event_id``) and adds
``federation.event_received`` to the outbox. A refused message is counted,
logged and stored with its reason, and ``federation.event_rejected`` is emitted.

Journal: ``share`` also records, in the consumer's transaction, each local event
of a type an outgoing agreement names (``journal``, keyed by ``event_id``).
``replay(peer, since, until=None)`` sends the journal again to one peer, in
``event_id`` order, through the same projection, suppression, signing and
agreement checks as live sharing; the peer de-duplicates what it already has.
"""

from __future__ import annotations

import functools
import json
import logging
from datetime import timedelta
from typing import Any

from kombu import Queue, binding
from nameko.timer import timer
from pymongo import ASCENDING, IndexModel

from services.federation import metrics
from services.federation.dependencies import Federation
from services.federation.domain import (
    BATCH_FATAL,
    Agreement,
    Reason,
    Verdict,
    adoption_key,
    agreement_digest,
    check_incoming,
    check_replay_peer,
    is_adopted,
    journaled_types,
    parse_moment,
)
from services.federation.events import (
    EVENT_RECEIVED,
    EVENT_REJECTED,
    RESOLUTION_ADOPTED,
)
from services.federation.management import ManagementError
from services.federation.management import status as link_status
from services.federation.repository import JOURNAL, RECEIVED, REJECTED
from services.federation.schemas import load_config
from services.federation.topology import INBOX
from shared import service as kit
from shared.consumer import EventConsumer, apply_batch, consume_batch
from shared.envelope import Envelope, event_id_floor, utcnow
from shared.errors import Invalid
from shared.outbox import Outbox
from shared.rpc import rpc
from shared.signing import is_batch, unpack_batch
from shared.store import Store

log = logging.getLogger(__name__)
ADOPTIONS = "adoptions"  # agreement texts the board adopted: "<id>|<digest>"
REPLAY_BATCH = 500  # journal entries read, prepared and confirmed at a time
RECEIVE_CHUNK = 250  # received events (or refusals) recorded per store transaction


class RawMessage(str):
    """A message body as received; the kit's dispatcher reads ``correlation_id``."""

    correlation_id: str | None = None


class InboxConsumer(EventConsumer):
    """The kit's batched consumer, reading the federation inbox as raw JSON.

    Signatures are checked on the bytes as sent, so nothing is parsed into an
    :class:`Envelope` before the service has verified it; nothing is
    dead-lettered here either: refusals are the service's to count and record.
    """

    @property
    def queue_name(self) -> str:
        return INBOX

    def queues(self) -> list[Queue]:
        return [Queue(INBOX, durable=True)]

    def _decode(self, message: Any) -> Any:
        body = message.body
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        return RawMessage(text)


class AgreedEventsConsumer(EventConsumer):
    """The kit's consumer, bound only to the event types an agreement sends.

    Binding ``#`` would make the federation service read every local event
    (and its own ``federation.event_received``) only to drop most of them.
    Types are read from ``NODE_CONFIG`` at start-up; a type removed from the
    agreements later may still arrive through an old binding and is then
    withheld by the policy, which is checked for every event anyway.
    """

    NOTHING = "federation.nothing_to_share"  # a node without out-agreements

    def setup(self) -> None:
        super().setup()
        path = self.container.config.get("NODE_CONFIG")
        types: set[str] = set()
        if path:
            for agreement in load_config(path).agreements_for("out"):
                types.update(agreement.rules)
        self.event_types = tuple(sorted(types)) or (self.NOTHING,)

    def queues(self) -> list[Queue]:
        # One Queue with all its bindings: kombu's Consumer keeps one Queue per
        # name, so one Queue object per type would bind only the last type.
        (first,) = super().queues()[:1]
        return [
            Queue(
                first.name,
                bindings=[
                    binding(self.exchange, routing_key=event_type)
                    for event_type in self.event_types
                ],
                durable=True,
                queue_arguments=first.queue_arguments,
            )
        ]


def share_entrypoint(**options: Any) -> Any:
    def decorator(handler: Any) -> Any:
        @functools.wraps(handler)
        def run_batch(self: Any, batch: list[Envelope]) -> int:
            return apply_batch(self, None, batch, batch_handler=handler)

        return AgreedEventsConsumer.decorator((), **options)(run_batch)

    return decorator


def receive_entrypoint(**options: Any) -> Any:
    return InboxConsumer.decorator(("#",), **options)


class FederationService(kit.ServiceBase):  # base not in module scope: nameko run
    name = "federation"
    store = Store(
        indexes={
            RECEIVED: [IndexModel([("peer", ASCENDING), ("received_at", ASCENDING)])],
            REJECTED: [IndexModel([("reason", ASCENDING), ("at", ASCENDING)])],
        }
    )
    outbox = Outbox()
    federation = Federation()

    @share_entrypoint()
    def share(self, envelopes: list[Envelope], session: Any) -> None:
        # What we received is never sent on (nor journaled): no loops between nodes.
        local = [env for env in envelopes if env.service != self.name]
        types = journaled_types(self.federation.config)
        now = utcnow()
        journal = [
            {
                "_id": env.event_id,
                "event_type": env.event_type,
                "journaled_at": now,
                "envelope": env.to_dict(),
            }
            for env in local
            if env.event_type in types
        ]
        if journal:  # once per event: the consumer skips what it already applied
            self.store.db[JOURNAL].insert_many(journal, session=session)
        self.federation.share(local, self._adopted(session))

    # --- the board decides what leaves -----------------------------------------
    def _adopted(self, session: Any = None) -> frozenset[str]:
        """``agreement_id|digest`` of every agreement text the board adopted."""
        docs = self.store.db[ADOPTIONS].find({}, {"_id": 1}, session=session)
        return frozenset(d["_id"] for d in docs)

    @consume_batch(RESOLUTION_ADOPTED)
    def on_resolution_adopted(self, envelopes: list[Envelope], session: Any) -> None:
        """A public resolution of this node's board (``node.board``) whose item
        carried an agreement's reference records that text as adopted; another
        board's resolution adopts nothing here."""
        board = self.federation.config.board
        for envelope in envelopes:
            payload = envelope.payload
            ref = payload.get("definition")
            if not isinstance(ref, dict) or ref.get("service") != "federation":
                continue
            if board is None or payload.get("board_id") != board:
                log.warning(
                    "agreement %s adopted by %s, not by this node's board %s",
                    ref.get("id"),
                    payload.get("board_id"),
                    board,
                )
                continue
            if payload.get("closed_session"):
                continue
            key = adoption_key(str(ref.get("id")), str(ref.get("digest")))
            self.store.db[ADOPTIONS].replace_one(
                {"_id": key},
                {
                    "_id": key,
                    "agreement_id": str(ref.get("id")),
                    "digest": str(ref.get("digest")),
                    "board_id": board,
                    "resolution_id": payload.get("resolution_id"),
                    "number": payload.get("number"),
                    "adopted_on": str(payload.get("adopted_on") or ""),
                },
                upsert=True,
                session=session,
            )

    @rpc
    def agreement_reference(self, agreement_id: str) -> dict[str, Any]:
        """What a board secretary places on the agenda for the board to adopt
        an agreement as node.yaml writes it now::

            {"service": "federation", "kind": "agreement",
             "id": "indicateurs-vers-region", "digest": "sha256:...",
             "content": {... the agreement as listed by agreements()}}
        """
        for a in self.federation.config.agreements:
            if a.id == agreement_id:
                return {
                    "service": "federation",
                    "kind": "agreement",
                    "id": a.id,
                    "digest": agreement_digest(a),
                    "content": _describe(a),
                }
        raise Invalid(
            {"agreement_id": ["accord inconnu / unknown agreement"]},
            f"champ « agreement_id » : accord inconnu « {agreement_id} ».",
            f'field "agreement_id": unknown agreement "{agreement_id}".',
        )

    @rpc
    def agreements_in_force(self) -> list[dict[str, Any]]:
        """The agreements adopted by the board (as written) and valid now: what
        may leave or arrive, public."""
        rows = []
        adoptions = {d["_id"]: d for d in self.store.db[ADOPTIONS].find({})}
        config = self.federation.config
        for a in config.agreements:
            if not a.is_valid_at(utcnow()) or not is_adopted(
                a, config, adoptions.keys()
            ):
                continue
            found = adoptions.get(adoption_key(a.id, agreement_digest(a)))
            adopted = None
            if found is not None:
                adopted = {
                    k: found.get(k)
                    for k in ("board_id", "resolution_id", "number", "adopted_on")
                }
            rows.append(_describe(a) | {"adopted": adopted})
        return rows

    @timer(interval=3600)
    def prune_journal(self) -> int:
        """Forget journal entries made more than ``FEDERATION_JOURNAL_DAYS`` ago
        (400 by default, a year of history and some margin): what a replay can
        still send. Returns how many were removed."""
        moment = utcnow() - timedelta(days=self.federation.journal_days)
        old = {"_id": {"$lt": event_id_floor(moment)}}
        journal = self.store.db[JOURNAL]
        removed = 0
        while ids := [d["_id"] for d in journal.find(old, {"_id": 1}).limit(1000)]:
            journal.delete_many({"_id": {"$in": ids}})
            removed += len(ids)
        if removed:
            log.info("journal: %d entries older than %s forgotten", removed, moment)
        return removed

    @rpc
    def replay(self, peer: str, since: str, until: str | None = None) -> dict[str, int]:
        """Send journaled events made from ``since`` (to ``until``, a date being
        included) to ``peer`` again, as live sharing would now.

        ``sent`` counts the events of which a copy went, ``withheld`` those the
        agreements with that peer refuse (type not agreed, agreement not in
        force when the event occurred, not an aggregate, suppressed).
        """
        config = self.federation.config
        check_replay_peer(config, peer)
        start = parse_moment("since", since)
        end = None if until is None else parse_moment("until", until, end_of_day=True)
        if end is not None and end <= start:
            raise Invalid(
                {"until": ["doit suivre « since » / must come after since"]},
                "champ « until » : doit suivre « since ».",
                'field "until": must come after since.',
            )
        ids: dict[str, str] = {"$gte": event_id_floor(start)}
        if end is not None:
            ids["$lt"] = event_id_floor(end)
        journal = self.store.db[JOURNAL]
        adopted = self._adopted()
        sent = withheld = 0
        publisher = self.federation.replay_publisher()
        try:
            while True:
                docs = list(
                    journal.find({"_id": ids})
                    .sort("_id", ASCENDING)
                    .limit(REPLAY_BATCH)
                )
                if not docs:
                    break
                ids.pop("$gte", None)
                ids["$gt"] = docs[-1]["_id"]
                outgoing = []
                for doc in docs:
                    envelope = Envelope.from_dict(doc["envelope"])
                    copies = self.federation.prepare(envelope, peer, adopted)
                    if copies:
                        sent += 1
                        outgoing.extend(copies)
                    else:
                        withheld += 1
                if outgoing:
                    publisher.publish_many(outgoing)
        finally:
            publisher.close()
        log.info(
            "replay to %s from %s: %d sent, %d withheld", peer, since, sent, withheld
        )
        return {"sent": sent, "withheld": withheld}

    @receive_entrypoint()
    def receive(self, bodies: list[str]) -> int:
        config = self.federation.config
        now = utcnow()
        adopted = self._adopted()
        verified: set[tuple[bytes, bytes]] = set()  # one Ed25519 check per batch
        checked: list[tuple[str, Any, Verdict | None, int]] = []
        for text in bodies:
            try:
                data = json.loads(text)
            except ValueError:
                data = None
            if is_batch(data):
                checked.extend(self._check_batch(text, data, now, adopted, verified))
                continue
            verdict = (
                check_incoming(data, config, now, adopted, verified)
                if isinstance(data, dict)
                else None
            )
            checked.append((text, data, verdict, 1))
        checked = _refuse_tainted_batches(checked)
        applied = 0  # one transaction per RECEIVE_CHUNK entries: a backlog of big
        for start in range(0, len(checked), RECEIVE_CHUNK):  # batches stays quick
            applied += self._apply_checked(checked[start : start + RECEIVE_CHUNK], now)
        return applied

    def _check_batch(
        self,
        text: str,
        message: dict[str, Any],
        now: Any,
        adopted: frozenset[str],
        verified: set[tuple[bytes, bytes]],
    ) -> list[tuple[str, Any, Verdict | None, int]]:
        """Each event of a batch message with its verdict, or the whole batch
        refused once (with how many events it held) when one of its events does
        not verify: an altered event taints the batch that carried it."""
        try:
            members = unpack_batch(message)
        except ValueError as exc:
            verdict = Verdict(False, Reason.MALFORMED, f"batch: {exc}")
            return [(text, message, verdict, 1)]
        checked = []
        for i, data in enumerate(members):
            verdict = check_incoming(
                data, self.federation.config, now, adopted, verified
            )
            if not verdict.accepted and verdict.reason in BATCH_FATAL:
                detail = (
                    f"lot de {len(members)} refusé ({verdict.reason.value}), "
                    f"dès l'événement {i} / batch of {len(members)} refused "
                    f"({verdict.reason.value}) from event {i}: {verdict.detail}"
                )
                whole = Verdict(False, verdict.reason, detail, peer=verdict.peer)
                return [(text, message, whole, len(members))]
            raw = "" if verdict.accepted else json.dumps(data, separators=(",", ":"))
            checked.append((raw, data, verdict, 1))
        return checked

    def _apply_checked(
        self, checked: list[tuple[str, Any, Verdict | None, int]], now: Any
    ) -> int:
        """Record, in one store transaction, every accepted event (once) and
        every refusal, with their outbox events."""

        def body(session: Any) -> list[tuple[str, str | None, str, int]]:
            db = self.store.db
            outcomes: list[tuple[str, str | None, str, int]] = []
            keys = [
                f"{v.peer}:{d['event_id']}"
                for _, d, v, _n in checked
                if v and v.accepted
            ]
            seen = {
                doc["_id"]
                for doc in db[RECEIVED].find(
                    {"_id": {"$in": keys}}, {"_id": 1}, session=session
                )
            }
            received, rejected = [], []
            for text, data, verdict, events in checked:
                if verdict is None or not verdict.accepted:
                    reason = verdict.reason.value if verdict else Reason.MALFORMED.value
                    peer = verdict.peer if verdict else None
                    detail = verdict.detail if verdict else "not a JSON object"
                    rejected.append(
                        {
                            "reason": reason,
                            "peer": peer,
                            "detail": detail,
                            "raw": text[:10_000],
                            "at": now,
                            "events": events,
                        }
                    )
                    self.outbox.add(
                        EVENT_REJECTED,
                        {"peer": peer, "reason": reason, "detail": detail},
                        session=session,
                    )
                    outcomes.append(("rejected", peer, reason, events))
                    continue
                key = f"{verdict.peer}:{data['event_id']}"
                if key in seen:
                    outcomes.append(("duplicate", verdict.peer, "", 1))
                    continue
                seen.add(key)
                received.append(
                    {
                        "_id": key,
                        "peer": verdict.peer,
                        "agreement_id": verdict.agreement_id,
                        "event_type": data["event_type"],
                        "received_at": now,
                        "envelope": data,
                    }
                )
                self.outbox.add(
                    EVENT_RECEIVED,
                    {
                        "peer": verdict.peer,
                        "agreement_id": verdict.agreement_id,
                        "event": _without_proof(data),
                    },
                    session=session,
                )
                outcomes.append(("applied", verdict.peer, data["event_type"], 1))
            if received:
                db[RECEIVED].insert_many(received, session=session)
            if rejected:
                db[REJECTED].insert_many(rejected, session=session)
            return outcomes

        outcomes = self.store.run_transaction(body)
        applied = 0
        for status_, peer, what, events in outcomes:
            if status_ == "rejected":
                metrics.REJECTED.labels(what, metrics.peer_label(peer)).inc(events)
                log.warning("federated message rejected: %s from %s", what, peer)
            elif status_ == "duplicate":
                metrics.DUPLICATES.labels(peer).inc()
            else:
                metrics.RECEIVED.labels(peer, what).inc()
                applied += 1
        return applied

    @rpc
    def agreements(self) -> list[dict[str, Any]]:
        """The node's agreements, for the boards (through the gateway)."""
        rows = []
        config = self.federation.config
        adopted = self._adopted()
        for a in config.agreements:
            rows.append(
                _describe(a)
                | {
                    "agreement_id": a.id,
                    "valid_now": a.is_valid_at(utcnow()),
                    "adopted": is_adopted(a, config, adopted),
                }
            )
        return rows

    @rpc
    def links(self) -> list[dict[str, Any]]:
        """Link states and lag, as ``maillage federation status`` shows them."""
        if not self.federation.config.management_url:
            return []  # not federated
        return link_status(self.federation.config)

    @rpc
    def activity(self, last: int = 20) -> dict[str, Any]:
        """What peers sent and what was refused, for the federation page:
        events received per peer and type (with the latest), refusals per
        reason and per day and reason, and the ``last`` refusals with their
        reason and detail (never the raw message, which may hold anything)::

            {"received": [{"peer": "mrc-2437", "event_type": "...", "count": 3,
                           "last": "2026-04-02T10:00:00+00:00"}],
             "refused": [{"reason": "bad_signature", "count": 2}],
             "refused_by_day": [{"day": "2026-04-02", "reason": "...", "count": 2}],
             "last_refused": [{"at": "...", "peer": null, "reason": "...",
                               "detail": "..."}]}
        """
        db = self.store.db
        received: dict[tuple[str, str], dict[str, Any]] = {}
        for doc in db[RECEIVED].find(
            {}, {"peer": 1, "event_type": 1, "received_at": 1}
        ):
            row = received.setdefault(
                (str(doc.get("peer")), str(doc.get("event_type"))),
                {"count": 0, "last": None},
            )
            row["count"] += 1
            at = doc.get("received_at")
            if at is not None and (row["last"] is None or at > row["last"]):
                row["last"] = at
        by_reason: dict[str, int] = {}
        by_day: dict[tuple[str, str], int] = {}
        for doc in db[REJECTED].find({}, {"reason": 1, "at": 1}):
            reason = str(doc.get("reason"))
            by_reason[reason] = by_reason.get(reason, 0) + 1
            day = doc["at"].date().isoformat() if doc.get("at") else ""
            by_day[(day, reason)] = by_day.get((day, reason), 0) + 1
        latest = (
            db[REJECTED]
            .find({}, {"raw": 0})
            .sort("at", -1)
            .limit(max(0, min(int(last), 200)))
        )
        return {
            "received": [
                {
                    "peer": peer,
                    "event_type": kind,
                    "count": row["count"],
                    "last": row["last"].isoformat() if row["last"] else None,
                }
                for (peer, kind), row in sorted(received.items())
            ],
            "refused": [
                {"reason": r, "count": n} for r, n in sorted(by_reason.items())
            ],
            "refused_by_day": [
                {"day": d, "reason": r, "count": n}
                for (d, r), n in sorted(by_day.items(), reverse=True)
            ],
            "last_refused": [
                {
                    "at": d["at"].isoformat() if d.get("at") else None,
                    "peer": d.get("peer"),
                    "reason": d.get("reason"),
                    "detail": d.get("detail", ""),
                }
                for d in latest
            ],
        }

    @rpc
    def received_events(
        self, event_type: str, last: int = 2000
    ) -> list[dict[str, Any]]:
        """Events of one type received from peers, newest first, as each peer
        sent them (already projected and suppressed by its agreement; the
        signature left out): what the coordinator's roll-up pages read::

            [{"peer": "mrc-2437", "received_at": "...", "event_type": "...",
              "occurred_at": "...", "origin_node": "mrc-2437", "payload": {...}}]
        """
        docs = (
            self.store.db[RECEIVED]
            .find({"event_type": str(event_type)})
            .sort("received_at", -1)
            .limit(max(0, min(int(last), 10_000)))
        )
        rows = []
        for doc in docs:
            envelope = doc.get("envelope") or {}
            rows.append(
                {
                    "peer": doc.get("peer"),
                    "received_at": doc["received_at"].isoformat()
                    if doc.get("received_at")
                    else None,
                    "event_type": doc.get("event_type"),
                    "occurred_at": envelope.get("occurred_at"),
                    "origin_node": envelope.get("origin_node"),
                    "payload": envelope.get("payload") or {},
                }
            )
        return rows

    @rpc
    def status(self) -> dict[str, Any]:
        """For the admin page: links with the last event seen from each peer."""
        config = self.federation.config
        try:
            links = self.links()
        except ManagementError as exc:
            links = [
                {
                    "peer": a.peer,
                    "direction": a.direction,
                    "state": "unknown",
                    "error": str(exc),
                }
                for a in config.agreements
            ]
        for row in links:
            last = self.store.db[RECEIVED].find_one(
                {"peer": row["peer"]}, {"received_at": 1}, sort=[("received_at", -1)]
            )
            row["last_seen"] = last["received_at"].isoformat() if last else None
        return {
            "node_id": config.node_id,
            "federated": bool(config.management_url),
            "links": links,
            "agreements": self.agreements(),
        }


def _describe(a: Agreement) -> dict[str, Any]:
    return {
        "id": a.id,
        "peer": a.peer,
        "direction": a.direction,
        "event_types": sorted(a.rules),
        "fields": {t: list(r.fields) for t, r in sorted(a.rules.items())},
        "aggregates_only": a.aggregates_only,
        "suppression_threshold": a.suppression_threshold,
        "valid_from": a.valid_from.isoformat() if a.valid_from else None,
        "valid_until": a.valid_until.isoformat() if a.valid_until else None,
        "digest": agreement_digest(a),
    }


def _without_proof(data: dict[str, Any]) -> dict[str, Any]:
    """The event as announced locally: its batch proof stays in ``received``."""
    if "batch_proof" not in data:
        return data
    return {k: v for k, v in data.items() if k != "batch_proof"}


def _proof_root(data: Any) -> str | None:
    proof = data.get("batch_proof") if isinstance(data, dict) else None
    root = proof.get("root") if isinstance(proof, dict) else None
    return root if isinstance(root, str) else None


def _refuse_tainted_batches(
    checked: list[tuple[str, Any, Verdict | None, int]],
) -> list[tuple[str, Any, Verdict | None, int]]:
    """When one event of a batch (same signed root) received here fails its
    proof or signature, every event of that batch received with it is refused,
    once, with how many they are: an altered event taints its batch."""
    tainted: dict[str, Verdict] = {}
    for _, data, verdict, _n in checked:
        root = _proof_root(data)
        if root and verdict and not verdict.accepted and verdict.reason in BATCH_FATAL:
            tainted.setdefault(root, verdict)
    if not tainted:
        return checked
    kept, members = [], {root: [] for root in tainted}
    for entry in checked:
        root = _proof_root(entry[1])
        if root in tainted:
            members[root].append(entry)
        else:
            kept.append(entry)
    for root, first in tainted.items():
        n = len(members[root])
        assert first.reason is not None
        detail = (
            f"lot de {n} refusé ({first.reason.value}) / batch of {n} refused "
            f"({first.reason.value}): {first.detail}"
        )
        text, data = members[root][0][0], members[root][0][1]
        if not text:
            text = json.dumps(data, separators=(",", ":"))
        whole = Verdict(False, first.reason, detail, peer=first.peer)
        kept.append((text, data, whole, n))
    return kept
