"""The node's federation config (YAML), validated with errors that name the field.

Example ``node.yaml``::

    node:
      id: mrc-66023
      role: mrc                  # or coordinator
      territory: "66023"         # MRC code, or region code for a coordinator
      signing_key: var/keys/mrc-66023.ed25519
      clock_skew_seconds: 300    # occurred_at may be this far ahead of our clock
      board: mrc-66023           # required for role mrc: its resolutions put the
                                 # agreements in force (a coordinator has none)
    broker:
      amqp_uri: ${MAILLAGE_AMQP_URI:amqp://guest:guest@127.0.0.1:5672/%2F}
      management_url: http://guest:guest@127.0.0.1:15672/api
      vhost: /
    peers:
      - id: region-06
        public_key: "q2Jm0c3vYw0l8c3...="
        territory: region:06     # org unit(s) this peer speaks for (required)
        upstream_uri: ${REGION_06_AMQP_URI}      # only to receive from this peer
        management_url: http://...:15672/api     # optional, for the lag shown by status
    agreements:
      - id: indicateurs-vers-region
        peer: region-06
        direction: out                           # out: we send; in: we receive
        event_types:
          - type: indicators.values_approved
            fields: [indicator, period, cells]   # payload fields kept
            cell_fields: [org_unit, sex]         # dimensions kept in each cell
            count_fields: [count]                # counts subject to suppression
        aggregates_only: true
        suppression_threshold: 5                 # counts <= 5 are suppressed
        valid_from: 2026-01-01
        valid_until: 2027-12-31                  # last day included (UTC)

On an MRC's node (``role: mrc``) ``board`` is required, so an agreement
always takes effect only once that board adopted
it, as written here, by resolution (``boards.resolution_adopted`` carrying the
agreement's digest): an agreement edited afterwards needs a new resolution,
and until then nothing is sent or accepted under it (``agreement_not_adopted``).

A peer's ``territory`` is one org-unit id or a list of them, as the indicators
service knows them from ``../shared/data/quebec_geo`` (``QUEBEC_GEO_DIR``):
``qc``, ``region:06``, ``cd:2402`` (an MRC or equivalent), ``csd:2402005`` (a
municipality). A peer speaks for those units and every unit under them: a
received event naming any other unit is refused (``outside_territory``).

``${VAR}`` and ``${VAR:default}`` are taken from the environment. Errors come
back as one line per field, French then English::

    champ « agreements[0].direction » : doit être in ou out / field
    "agreements[0].direction": must be in or out
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import yaml
from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates,
    validates_schema,
)

from services.federation.domain import (
    DEFAULT_CLOCK_SKEW,
    Agreement,
    EventRule,
    NodeConfig,
    Peer,
)
from services.indicators.geo import load_quebec
from shared.envelope import EVENT_TYPE_PATTERN
from shared.signing import public_key_from_b64

NODE_ID = r"^[a-z0-9][a-z0-9-]{0,62}$"
DEFAULT_GEO_DIR = Path(__file__).resolve().parents[3] / "shared" / "data" / "quebec_geo"
_COMMON: dict[str, str | list[Any] | dict[Any, Any]] = {
    "required": "champ obligatoire / required field",
    "null": "valeur manquante / value missing",
}
_TRANSLATE = {
    "Unknown field.": "champ inconnu / unknown field",
    "Not a valid string.": "texte attendu / text expected",
    "Not a valid integer.": "entier attendu / integer expected",
    "Not a valid boolean.": "vrai ou faux attendu / true or false expected",
    "Not a valid list.": "liste attendue / list expected",
    "Not a valid date.": "date AAAA-MM-JJ attendue / date YYYY-MM-DD expected",
    "Invalid input type.": "type invalide / invalid type",
}


class ConfigError(Exception):
    """Invalid node config; ``str()`` gives one bilingual line per field."""

    def __init__(self, source: str, errors: list[str]):
        self.errors = errors
        super().__init__("\n".join(f"{source}: {e}" for e in errors))


def _msg(fr: str, en: str) -> str:
    return f"{fr} / {en}"


def _str(**kw: Any) -> fields.String:
    return fields.String(error_messages=_COMMON, **kw)


class _Base(Schema):
    class Meta:
        unknown = RAISE


class NodeSchema(_Base):
    id = _str(
        required=True,
        validate=validate.Regexp(
            NODE_ID, error=_msg("identifiant invalide (a-z, 0-9, -)", "invalid id")
        ),
    )
    role = _str(
        required=True,
        validate=validate.OneOf(
            ["mrc", "coordinator"],
            error=_msg("doit être mrc ou coordinator", "must be mrc or coordinator"),
        ),
    )
    territory = _str(required=True, validate=validate.Length(min=1))
    signing_key = _str(required=True, validate=validate.Length(min=1))
    # the board (boards service id) whose resolutions adopt the agreements
    board = _str(load_default=None, allow_none=True)
    clock_skew_seconds = fields.Integer(
        load_default=int(DEFAULT_CLOCK_SKEW.total_seconds()),
        strict=True,
        validate=validate.Range(
            min=0,
            max=3600,
            error=_msg("secondes, de 0 à 3600", "seconds, from 0 to 3600"),
        ),
    )

    @validates_schema
    def _board_of_an_mrc(self, data: dict[str, Any], **_: Any) -> None:
        """The board decides what leaves, always: an MRC's node names the
        board whose resolutions put its agreements in force; a coordinator
        has no board (its agreements only receive what MRCs' boards let go)."""
        if data.get("role") == "mrc" and not (data.get("board") or "").strip():
            raise ValidationError(
                [
                    _msg(
                        "obligatoire pour un nœud de MRC : le conseil dont les "
                        "résolutions mettent les accords en vigueur",
                        "required on an MRC's node: the board whose resolutions "
                        "put the agreements in force",
                    )
                ],
                "board",
            )


class BrokerSchema(_Base):
    amqp_uri = _str(
        load_default="amqp://guest:guest@127.0.0.1:5672/%2F",
        validate=validate.Regexp(
            r"^amqps?://", error=_msg("URI amqp:// attendue", "amqp:// URI expected")
        ),
    )
    management_url = _str(load_default="http://guest:guest@127.0.0.1:15672/api")
    vhost = _str(load_default="/")


class PeerSchema(_Base):
    id = _str(
        required=True,
        validate=validate.Regexp(
            NODE_ID, error=_msg("identifiant invalide", "invalid id")
        ),
    )
    public_key = _str(required=True)
    upstream_uri = _str(load_default=None, allow_none=True)
    management_url = _str(load_default=None, allow_none=True)
    # checked with the geography by NodeConfigSchema, which names the peer
    territory = fields.Raw(load_default=None, allow_none=True)

    @validates("public_key")
    def _key(self, value: str, **_: Any) -> None:
        try:
            public_key_from_b64(value)
        except ValueError:
            raise ValidationError(
                _msg(
                    "clé publique Ed25519 invalide (base64 de 32 octets)",
                    "invalid Ed25519 public key (base64 of 32 bytes)",
                )
            ) from None


class EventRuleSchema(_Base):
    type = _str(
        required=True,
        validate=validate.Regexp(
            EVENT_TYPE_PATTERN,
            error=_msg("type d'événement service.nom attendu", "service.name expected"),
        ),
    )
    kept = fields.List(
        fields.String(),
        data_key="fields",
        required=True,
        error_messages=_COMMON,
        validate=validate.Length(
            min=1, error=_msg("au moins un champ", "at least one field")
        ),
    )
    cells_field = _str(load_default="cells")
    cell_fields = fields.List(fields.String(), load_default=None, allow_none=True)
    count_fields = fields.List(fields.String(), load_default=["count"])


class AgreementSchema(_Base):
    id = _str(required=True, validate=validate.Length(min=1))
    peer = _str(required=True)
    direction = _str(
        required=True,
        validate=validate.OneOf(
            ["in", "out"], error=_msg("doit être in ou out", "must be in or out")
        ),
    )
    event_types = fields.List(
        fields.Nested(EventRuleSchema),
        required=True,
        error_messages=_COMMON,
        validate=validate.Length(
            min=1, error=_msg("au moins un type", "at least one event type")
        ),
    )
    aggregates_only = fields.Boolean(load_default=False)
    suppression_threshold = fields.Integer(
        load_default=0,
        strict=True,
        validate=validate.Range(
            min=0, error=_msg("doit être 0 ou plus", "must be 0 or more")
        ),
    )
    valid_from = fields.Date(required=True, error_messages=_COMMON)
    valid_until = fields.Date(load_default=None, allow_none=True)

    @validates_schema
    def _period(self, data: dict[str, Any], **_: Any) -> None:
        start, end = data.get("valid_from"), data.get("valid_until")
        if start and end and end < start:
            raise ValidationError(
                _msg("fin avant le début", "ends before it starts"), "valid_until"
            )
        types = [r["type"] for r in data.get("event_types", [])]
        if len(types) != len(set(types)):
            raise ValidationError(
                _msg("type en double", "duplicate event type"), "event_types"
            )


def _territory_errors(peer_id: str, value: Any, known: Any) -> list[str]:
    """Why a peer's ``territory`` is unusable (empty list when it is fine)."""
    example = "cd:2402, region:11"
    if value is None or value == "" or value == []:
        return [
            _msg(
                f"territoire du pair « {peer_id} » manquant : unité(s) "
                f"d'organisation dont il parle, p. ex. {example}",
                f'territory of peer "{peer_id}" missing: the org unit(s) it '
                f"speaks for, e.g. {example}",
            )
        ]
    units = value if isinstance(value, list) else [value]
    bad = [u for u in units if not isinstance(u, str) or u not in known]
    if not bad:
        return []
    shown = ", ".join(repr(u) for u in bad)
    return [
        _msg(
            f"territoire du pair « {peer_id} » mal formé : {shown} n'est pas une "
            f"unité d'organisation connue (p. ex. {example})",
            f'territory of peer "{peer_id}" malformed: {shown} is not a known '
            f"org unit (e.g. {example})",
        )
    ]


@functools.lru_cache(maxsize=4)
def quebec_territories(folder: str) -> Mapping[str, frozenset[str]]:
    """Each org unit of the Quebec geography (the indicators service's, from
    ``quebec_geo/``) and the units it covers: itself and every unit under it."""
    hierarchy = load_quebec(folder)
    return {unit.id: hierarchy.subtree(unit.id) for unit in hierarchy}


class NodeConfigSchema(_Base):
    """``geography`` maps each org unit to the units it covers (see
    :func:`quebec_territories`); the Quebec one by default."""

    def __init__(
        self,
        *args: Any,
        geography: Mapping[str, frozenset[str]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._geography = geography

    @property
    def geography(self) -> Mapping[str, frozenset[str]]:
        if self._geography is None:
            self._geography = quebec_territories(str(DEFAULT_GEO_DIR))
        return self._geography

    node = fields.Nested(NodeSchema, required=True, error_messages=_COMMON)
    broker = fields.Nested(BrokerSchema, load_default=lambda: BrokerSchema().load({}))
    peers = fields.List(fields.Nested(PeerSchema), load_default=list)
    agreements = fields.List(fields.Nested(AgreementSchema), load_default=list)

    @validates_schema
    def _references(self, data: dict[str, Any], **_: Any) -> None:
        errors: dict[str, Any] = {}
        peer_ids = [p["id"] for p in data.get("peers", [])]
        seen: set[str] = set()
        geography = self.geography if data.get("peers") else {}
        for i, peer_id in enumerate(peer_ids):
            if peer_id in seen:
                errors[f"peers.{i}.id"] = [_msg("pair en double", "duplicate peer")]
            seen.add(peer_id)
            territory = data["peers"][i].get("territory")
            problems = _territory_errors(peer_id, territory, geography)
            if problems:
                errors[f"peers.{i}.territory"] = problems
        agreement_ids: set[str] = set()
        for i, agreement in enumerate(data.get("agreements", [])):
            if agreement["peer"] not in seen:
                errors[f"agreements.{i}.peer"] = [
                    _msg(
                        f"pair « {agreement['peer']} » absent de peers",
                        f'peer "{agreement["peer"]}" not in peers',
                    )
                ]
            if agreement["id"] in agreement_ids:
                errors[f"agreements.{i}.id"] = [
                    _msg("accord en double", "duplicate agreement")
                ]
            agreement_ids.add(agreement["id"])
        if errors:
            raise ValidationError(errors)

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> NodeConfig:
        node, broker = data["node"], data["broker"]
        geography = self.geography if data["peers"] else {}
        peers = {}
        for p in data["peers"]:
            territory = p["territory"]
            units = tuple(territory if isinstance(territory, list) else [territory])
            peers[p["id"]] = Peer(
                id=p["id"],
                public_key=public_key_from_b64(p["public_key"]),
                upstream_uri=p["upstream_uri"],
                management_url=p["management_url"],
                territory=units,
                units=frozenset().union(*(geography[u] for u in units)),
            )
        agreements = tuple(_agreement(a) for a in data["agreements"])
        return NodeConfig(
            node_id=node["id"],
            role=node["role"],
            territory=node["territory"],
            key_path=node["signing_key"],
            amqp_uri=broker["amqp_uri"],
            management_url=broker["management_url"],
            vhost=broker["vhost"],
            peers=peers,
            agreements=agreements,
            clock_skew=timedelta(seconds=node["clock_skew_seconds"]),
            board=node["board"],
        )


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def _agreement(data: Mapping[str, Any]) -> Agreement:
    rules = {
        r["type"]: EventRule(
            event_type=r["type"],
            fields=tuple(r["kept"]),
            cells_field=r["cells_field"],
            cell_fields=tuple(r["cell_fields"]) if r["cell_fields"] else None,
            count_fields=tuple(r["count_fields"]),
        )
        for r in data["event_types"]
    }
    until = data["valid_until"]
    return Agreement(
        id=data["id"],
        peer=data["peer"],
        direction=data["direction"],
        rules=rules,
        suppression_threshold=data["suppression_threshold"],
        aggregates_only=data["aggregates_only"],
        valid_from=_start_of(data["valid_from"]),
        valid_until=_start_of(until + timedelta(days=1)) if until else None,
    )


# --- loading --------------------------------------------------------------------

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([^}]*))?\}")


def _expand(value: Any, env: Mapping[str, str]) -> Any:
    """``${VAR}`` / ``${VAR:default}`` in strings; dates back to ISO text."""
    if isinstance(value, dict):
        return {k: _expand(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, env) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()[:10]
    if isinstance(value, str):

        def sub(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            if name in env:
                return env[name]
            if default is None:
                raise KeyError(name)
            return default

        return _VAR.sub(sub, value)
    return value


def _flatten(messages: Any, path: str = "") -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            key = str(key)
            if key == "_schema":
                sub = path
            elif key.isdigit():
                sub = f"{path}[{key}]"
            else:
                parts = key.split(".")
                sub = path
                for part in parts:
                    sub = (
                        f"{sub}[{part}]"
                        if part.isdigit()
                        else (f"{sub}.{part}" if sub else part)
                    )
            out += _flatten(value, sub)
    elif isinstance(messages, list):
        for value in messages:
            out += _flatten(value, path)
    else:
        out.append((path or "config", str(messages)))
    return out


def format_errors(messages: Any) -> list[str]:
    lines = []
    for path, message in _flatten(messages):
        message = _TRANSLATE.get(message, message)
        fr, _, en = message.partition(" / ")
        en = en or fr
        lines.append(f'champ « {path} » : {fr} / field "{path}": {en}')
    return lines


def parse_config(
    text: str, source: str = "config", env: Mapping[str, str] | None = None
) -> NodeConfig:
    env = os.environ if env is None else env
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(
            source, [f"YAML invalide / invalid YAML: {exc}".replace("\n", " ")]
        ) from exc
    if not isinstance(raw, dict):
        raise ConfigError(source, ["un objet YAML attendu / a YAML mapping expected"])
    try:
        raw = _expand(raw, env)
    except KeyError as exc:
        name = exc.args[0]
        raise ConfigError(
            source,
            [
                f"variable d'environnement {name} absente / "
                f"environment variable {name} not set"
            ],
        ) from None
    geography: Mapping[str, frozenset[str]] = {}
    if raw.get("peers"):
        folder = env.get("QUEBEC_GEO_DIR") or str(DEFAULT_GEO_DIR)
        try:
            geography = quebec_territories(folder)
        except (OSError, ValueError) as exc:
            raise ConfigError(
                source,
                [
                    f"géographie du Québec illisible dans {folder} (QUEBEC_GEO_DIR) : "
                    f"{exc} / Quebec geography unreadable in {folder} "
                    f"(QUEBEC_GEO_DIR): {exc}"
                ],
            ) from exc
    try:
        config: NodeConfig = NodeConfigSchema(geography=geography).load(raw)
    except ValidationError as exc:
        raise ConfigError(source, format_errors(exc.messages)) from exc
    return config


def load_config(path: str | Path, env: Mapping[str, str] | None = None) -> NodeConfig:
    """Read and validate ``node.yaml``; relative key paths are from its folder."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(path), ["fichier introuvable / file not found"]) from None
    config = parse_config(text, str(path), env)
    key = Path(config.key_path)
    if not key.is_absolute():
        config = replace(config, key_path=str((path.parent / key).resolve()))
    return config
