"""Marshmallow schemas of the participation RPC inputs."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from services.participation.domain import (
    DEFAULT_MAX_DOTS,
    DEFAULT_MAX_SCORE,
    MAX_POINTS_CEILING,
    MAX_POINTS_RANGE,
)
from services.participation.tally import METHODS
from shared.errors import Invalid

POSITIVE = "Entier positif attendu. / Positive integer expected."
MAX_POINTS = "max_points : {} / max_points: {}.".format(*MAX_POINTS_RANGE)


class ProcessInput(Schema):
    mrc_code = fields.String(required=True, validate=validate.Length(min=2, max=8))
    title = fields.String(required=True, validate=validate.Length(min=1, max=300))
    method = fields.String(required=True, validate=validate.OneOf(METHODS))
    seats = fields.Integer(load_default=1, validate=validate.Range(min=1))
    budget = fields.Decimal(load_default=None, as_string=True, allow_none=True)
    max_points = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=validate.Range(min=1, max=MAX_POINTS_CEILING, error=MAX_POINTS),
        error_messages={"invalid": MAX_POINTS},
        metadata={
            "description": "Score vote: highest score per proposal (default "
            f"{DEFAULT_MAX_SCORE}); dot vote and cumulative budget: points in all "
            f"(default {DEFAULT_MAX_DOTS}); at most {MAX_POINTS_CEILING}"
        },
    )
    cumulative = fields.Boolean(load_default=False)
    rules = fields.Dict(
        keys=fields.String(),
        load_default=None,
        allow_none=True,
        metadata={
            "description": "Rule variants, checked by the tally engine at creation: "
            "irv takes RCTab's rules (winnerElectionMode, tiebreakMode, "
            "randomSeed, batchElimination, ...), pb-mes takes completion "
            "(add1 | none); absent: the method's plain count"
        },
    )
    support_threshold = fields.Integer(load_default=1, validate=validate.Range(min=0))
    eligibility = fields.String(
        load_default="residents",
        validate=validate.OneOf(["residents", "representatives"]),
    )
    representatives = fields.List(fields.String(), load_default=list)
    phases = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String(), validate=validate.Length(equal=2)),
        required=True,
    )
    eligible_count = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=validate.Range(min=1, error=POSITIVE),
        error_messages={"invalid": POSITIVE},
        metadata={
            "description": "Personnes admissibles au vote (dénominateur du taux "
            "de participation) / people eligible to vote (turnout denominator)"
        },
    )


class ProposalInput(Schema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=300))
    description = fields.String(load_default="", validate=validate.Length(max=10000))
    category = fields.String(load_default="")
    estimated_cost = fields.Decimal(
        load_default=None,
        as_string=True,
        allow_none=True,
        validate=validate.Range(min=0),
    )
    area = fields.String(load_default="")


class ProcessQuery(Schema):
    """Which processes a list shows: ``{"mrc_code": "2466", "limit": 20}``.

    ``state`` is ``open`` (not closed yet, the default), ``closed`` or ``all``.
    """

    mrc_code = fields.String(load_default=None, validate=validate.Length(min=2, max=8))
    state = fields.String(
        load_default="open", validate=validate.OneOf(["open", "closed", "all"])
    )
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=10**6))


class ProcessOutput(Schema):
    """What anyone may read of a process. Not the representatives' names (people
    named for eligibility) and never a result: results have their own RPC, which
    refuses until the close."""

    id = fields.String()
    mrc_code = fields.String()
    title = fields.String()
    method = fields.String()
    seats = fields.Integer()
    budget = fields.String(allow_none=True)
    max_points = fields.Integer(allow_none=True)
    cumulative = fields.Boolean()
    rules = fields.Dict(allow_none=True)
    support_threshold = fields.Integer()
    eligibility = fields.String()
    phases = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))
    phase = fields.String(allow_none=True)
    closed = fields.Boolean()
    eligible_count = fields.Integer(allow_none=True)


def load(schema: Schema, data: Any) -> dict[str, Any]:
    """Load and validate; decimals are kept as exact strings for the store."""
    try:
        loaded = schema.load(data)
        return {k: str(v) if isinstance(v, Decimal) else v for k, v in loaded.items()}
    except ValidationError as exc:
        messages = (
            exc.messages
            if isinstance(exc.messages, dict)
            else {"_schema": exc.messages}
        )
        raise Invalid(
            {
                k: [str(m) for m in (v if isinstance(v, list) else [v])]
                for k, v in messages.items()
            }
        ) from None
