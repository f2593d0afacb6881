"""marshmallow schemas of the indicators RPCs.

``enter_value``::

    {"data_element": "home_interventions", "org_unit": "csd:2437067",
     "period": "202603", "value": 12}

    one category option combo of a disaggregated element (DHIS2's ids):

    {"data_element": "visits", "org_unit": "csd:2437067", "period": "202603",
     "value": 7, "category_option_combo": "f_0_17"}

``approve`` / ``unapprove``::

    {"org_unit": "cd:2437", "period": "2026Q1", "by": "coordination",
     "reason": "erreur de saisie"}
"""

from __future__ import annotations

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates

from services.indicators.domain import Period
from services.indicators.exceptions import InvalidPeriod


class _Strict(Schema):
    class Meta:
        unknown = RAISE


def _check_period(value: str) -> None:
    try:
        Period.parse(value)
    except InvalidPeriod as exc:
        raise ValidationError(str(exc)) from exc


class ValueInput(_Strict):
    data_element = fields.String(required=True)
    org_unit = fields.String(required=True)
    period = fields.String(required=True)
    value = fields.Raw(required=True, allow_none=False)
    by = fields.String(load_default="")
    # saved despite the warnings the entry answered (bounds, outlier, rules)
    confirm = fields.Boolean(load_default=False)
    # DHIS2's categoryOptionCombo / attributeOptionCombo ("" or "default":
    # the default combo); one the element's categories do not hold is refused
    category_option_combo = fields.String(
        load_default="", validate=validate.Length(max=120)
    )
    attribute_option_combo = fields.String(
        load_default="", validate=validate.Length(max=120)
    )

    @validates("period")
    def _period(self, value: str, **_: object) -> None:
        _check_period(value)


class ApprovalInput(_Strict):
    org_unit = fields.String(required=True)
    period = fields.String(required=True)
    by = fields.String(load_default="")
    reason = fields.String(load_default="")

    @validates("period")
    def _period(self, value: str, **_: object) -> None:
        _check_period(value)


class UnapprovalInput(ApprovalInput):
    reason = fields.String(required=True)

    @validates("reason")
    def _reason(self, value: str, **_: object) -> None:
        if not value.strip():
            raise ValidationError(
                "Motif requis pour désapprouver. / A reason is required to unapprove."
            )


class EvaluateInput(_Strict):
    indicator = fields.String(load_default=None)
    numerator = fields.String(load_default=None)
    denominator = fields.String(load_default="1")
    factor = fields.Float(load_default=1.0)
    org_unit = fields.String(required=True)
    period = fields.String(required=True)
    public = fields.Boolean(load_default=True)
    # an earlier version of a catalogue indicator (default: the current one)
    version = fields.Integer(
        load_default=None, strict=True, validate=validate.Range(min=1)
    )

    @validates("period")
    def _period(self, value: str, **_: object) -> None:
        _check_period(value)


class DashboardQuery(_Strict):
    org_unit = fields.String(load_default="qc")
    lang = fields.String(load_default="fr", validate=validate.OneOf(("fr", "en")))


class WaitingListChanged(Schema):
    class Meta:
        unknown = "exclude"

    service_id = fields.String(required=True)
    mrc_codes = fields.List(fields.String(), load_default=list)
    municipality_codes = fields.List(fields.String(), load_default=list)
    waiting_list_length = fields.Integer(allow_none=True, load_default=None)
    typical_wait_days = fields.Integer(allow_none=True, load_default=None)
    updated_at = fields.String(required=True)


class ServiceChanged(Schema):
    class Meta:
        unknown = "exclude"

    service_id = fields.String(required=True)
    mrc_codes = fields.List(fields.String(), load_default=list)
    municipality_codes = fields.List(fields.String(), load_default=list)
    no_referral_required = fields.Boolean(load_default=False)


class ResultsPublished(Schema):
    class Meta:
        unknown = "exclude"

    process_id = fields.String(required=True)
    mrc_code = fields.String(required=True)
    ballots = fields.Integer(required=True)
    eligible_count = fields.Integer(allow_none=True, load_default=None)


class DecisionStatusChanged(Schema):
    class Meta:
        unknown = "exclude"

    resolution_id = fields.String(required=True)
    status = fields.String(required=True)
    due = fields.Date(allow_none=True, load_default=None)
    on = fields.Date(required=True)
    mrc_code = fields.String(allow_none=True, load_default=None)


class DefinitionInput(_Strict):
    """A new version of a catalogue definition (checked by
    :func:`definitions.check`, which names the refused field)::

        {"kind": "indicator", "id": "office_share",
         "content": {"numerator": "#{office_interventions}", ...}, "by": "..."}

    ``{"content": {"retired": true}}`` retires the current version.
    """

    kind = fields.String(required=True, validate=validate.Length(max=40))
    id = fields.String(required=True, validate=validate.Length(max=64))
    content = fields.Dict(required=True)
    by = fields.String(load_default="")


class ValidateInput(_Strict):
    """``{"org_unit": "cd:2437", "period": "2026Q1", "rule": null}``"""

    org_unit = fields.String(required=True)
    period = fields.String(required=True)
    rule = fields.String(load_default=None)

    @validates("period")
    def _period(self, value: str, **_: object) -> None:
        _check_period(value)
