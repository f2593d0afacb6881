"""marshmallow schemas of the offerings RPC inputs.

A service as a practitioner sends it (``create_service``)::

    {"organization_id": "d9d5e0f5-…", "name": "Popote roulante",
     "description": "Repas livrés à domicile", "status": "active",
     "no_referral_required": true, "outreach_modes": ["at_home"],
     "waiting_list_open": true, "waiting_list_length": 12,
     "typical_wait_days": 30, "capacity": 40, "languages": ["fr", "en"]}

Errors come back as :class:`shared.errors.Invalid` naming each field, French
then English (``{"fields": {"capacity": ["Nombre entier positif attendu. / …"]}}``).
"""

from __future__ import annotations

from typing import Any

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates_schema,
)

from services.offerings.hsds import OUTREACH_MODES, TABLES
from shared.errors import Invalid

_FRENCH = {
    "Missing data for required field.": "Champ requis.",
    "Unknown field.": "Champ inconnu.",
    "Not a valid integer.": "Nombre entier attendu.",
    "Not a valid number.": "Nombre attendu.",
    "Not a valid boolean.": "Vrai ou faux attendu.",
    "Not a valid UUID.": "UUID attendu.",
    "Not a valid email address.": "Adresse courriel invalide.",
    "Not a valid URL.": "URL invalide.",
    "Not a valid string.": "Texte attendu.",
    "Not a valid list.": "Liste attendue.",
    "Not a valid datetime.": "Date-heure ISO 8601 attendue.",
    "Field may not be null.": "Valeur requise.",
}


def _bilingual(message: str) -> str:
    if message in _FRENCH:
        return f"{_FRENCH[message]} / {message}"
    if message.startswith("Must be one of:"):
        return f"Doit être parmi :{message[len('Must be one of:') :]} / {message}"
    if message.startswith("Must be greater than or equal to"):
        return f"Valeur trop petite. / {message}"
    if message.startswith("Shorter than minimum length"):
        return f"Valeur requise. / {message}"
    return f"Valeur invalide. / {message}"


def _flatten(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            out.update(
                _flatten(value, f"{prefix}{key}" if not prefix else f"{prefix}.{key}")
            )
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        out[prefix or "_schema"] = [_bilingual(m) for m in messages]
    else:
        out[prefix or "_schema"] = [_bilingual(str(messages))]
    return out


def load(schema: Schema, data: Any, partial: bool = False) -> dict[str, Any]:
    """Load or raise :class:`Invalid` with one bilingual list per field."""
    try:
        return schema.load(data, partial=partial)
    except ValidationError as exc:
        raise Invalid(_flatten(exc.messages)) from exc


_NON_NEGATIVE = validate.Range(min=0)
# The store counts skips in 8 bytes: a page number must stay far below that.
MAX_PAGE = 100_000
_TEXT = fields.String(validate=validate.Length(min=1))


class _Strict(Schema):
    class Meta:
        unknown = RAISE


def _drop_none(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}


class OrganizationInput(_Strict):
    name = fields.String(required=True, validate=validate.Length(min=1))
    description = fields.String(required=True, validate=validate.Length(min=1))
    alternate_name = fields.String()
    email = fields.Email()
    website = fields.Url()
    legal_status = fields.String()
    year_incorporated = fields.Integer(validate=_NON_NEGATIVE)
    parent_organization_id = fields.UUID()
    identifiers = fields.List(fields.Dict(keys=fields.String(), values=fields.String()))

    @post_load
    def _plain(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        if "parent_organization_id" in data:
            data["parent_organization_id"] = str(data["parent_organization_id"])
        return _drop_none(data)


class AddressInput(_Strict):
    address_1 = fields.String(required=True, validate=validate.Length(min=1))
    address_2 = fields.String()
    city = fields.String(required=True, validate=validate.Length(min=1))
    state_province = fields.String(load_default="QC")
    postal_code = fields.String(required=True)
    country = fields.String(load_default="CA")
    address_type = fields.String(
        load_default="physical",
        validate=validate.OneOf(TABLES["address"].enums["address_type"]),
    )


class AddressesInput(_Strict):
    """A location's new addresses (``PATCH``): each address in full."""

    addresses = fields.List(fields.Nested(AddressInput), required=True)


class LocationInput(_Strict):
    name = fields.String(required=True, validate=validate.Length(min=1))
    organization_id = fields.UUID()
    location_type = fields.String(
        load_default="physical",
        validate=validate.OneOf(TABLES["location"].enums["location_type"]),
    )
    description = fields.String()
    transportation = fields.String()
    latitude = fields.Float(validate=validate.Range(min=-90, max=90))
    longitude = fields.Float(validate=validate.Range(min=-180, max=180))
    mrc_code = fields.String(validate=validate.Regexp(r"^24\d\d$"))
    municipality_code = fields.String(validate=validate.Regexp(r"^24\d{5}$"))
    confidential_location = fields.Boolean()
    addresses = fields.List(fields.Nested(AddressInput))

    @post_load
    def _plain(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        if "organization_id" in data:
            data["organization_id"] = str(data["organization_id"])
        return _drop_none(data)


class ServiceInput(_Strict):
    organization_id = fields.UUID(required=True)
    program_id = fields.UUID()
    name = fields.String(required=True, validate=validate.Length(min=1))
    alternate_name = fields.String()
    description = fields.String()
    url = fields.Url()
    email = fields.Email()
    status = fields.String(
        load_default="active",
        validate=validate.OneOf(TABLES["service"].enums["status"]),
    )
    interpretation_services = fields.String()
    application_process = fields.String()
    fees_description = fields.String()
    eligibility_description = fields.String()
    # English text (Quebec profile): the core columns above hold the French
    name_en = fields.String(validate=validate.Length(min=1))
    description_en = fields.String()
    eligibility_description_en = fields.String()
    fees_description_en = fields.String()
    minimum_age = fields.Integer(validate=_NON_NEGATIVE)
    maximum_age = fields.Integer(validate=_NON_NEGATIVE)
    alert = fields.String()
    no_referral_required = fields.Boolean()
    outreach_modes = fields.List(fields.String(validate=validate.OneOf(OUTREACH_MODES)))
    waiting_list_open = fields.Boolean()
    waiting_list_length = fields.Integer(validate=_NON_NEGATIVE)
    typical_wait_days = fields.Integer(validate=_NON_NEGATIVE)
    capacity = fields.Integer(validate=_NON_NEGATIVE)
    languages = fields.List(fields.String(validate=validate.Length(min=2, max=8)))
    location_ids = fields.List(fields.UUID())
    taxonomy_term_ids = fields.List(fields.UUID())

    @post_load
    def _plain(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        for key in ("organization_id", "program_id"):
            if key in data:
                data[key] = str(data[key])
        for key in ("location_ids", "taxonomy_term_ids"):
            if key in data:
                data[key] = [str(v) for v in data[key]]
        if "outreach_modes" in data:
            data["outreach_modes"] = ",".join(data["outreach_modes"])
        return _drop_none(data)


# HSDS ``format``: ``json`` (the default, one ``Page``) or ``ndjson`` (every
# result, one per line, no pagination: the gateway streams it page by page).
FORMATS = ("json", "ndjson")


def _format() -> fields.String:
    return fields.String(load_default="json", validate=validate.OneOf(FORMATS))


def _cannot_honour_proximity(value: str) -> None:
    raise ValidationError(
        "Recherche par proximité impossible : ce nœud n'a pas de centroïdes de "
        "codes postaux ; utilisez postcode seul (zone desservie ou adresse). / "
        "Proximity search is not possible: this node holds no postcode "
        "centroids; use postcode alone (service area or address)."
    )


class SearchInput(Schema):
    """HSDS ``/services`` query parameters plus the Quebec profile's filters."""

    class Meta:
        unknown = RAISE

    search = fields.String(load_default="")
    taxonomy_term_id = fields.String()
    taxonomy_id = fields.String()
    organization_id = fields.String()
    mrc = fields.String(validate=validate.Regexp(r"^24\d\d$"))
    municipality = fields.String(validate=validate.Regexp(r"^24\d{5}$"))
    language = fields.String()
    no_referral_required = fields.Boolean()
    outreach_mode = fields.String(validate=validate.OneOf(OUTREACH_MODES))
    open_now = fields.Boolean(load_default=False)
    waiting_list_open = fields.Boolean()
    modified_after = fields.AwareDateTime()
    minimal = fields.Boolean(load_default=False)
    full = fields.Boolean(load_default=False)
    format = _format()
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=200))
    # "near me" (services.offerings.gazetteer.resolve_near): one starting point
    near_municipality = fields.String(validate=validate.Regexp(r"^24\d{5}$"))
    near_latitude = fields.Float(validate=validate.Range(min=-90, max=90))
    near_longitude = fields.Float(validate=validate.Range(min=-180, max=180))
    near_postal_code = fields.String(
        validate=validate.Regexp(r"^[A-Za-z]\d[A-Za-z][ -]?(\d[A-Za-z]\d)?$")
    )
    within_km = fields.Float(validate=validate.Range(min=0.1, max=2000))

    @validates_schema
    def _position_whole(self, data: dict[str, Any], **_: Any) -> None:
        has_lat, has_lon = "near_latitude" in data, "near_longitude" in data
        if has_lat != has_lon:
            missing = "near_longitude" if has_lat else "near_latitude"
            raise ValidationError(
                "la latitude et la longitude vont ensemble / latitude and "
                "longitude go together",
                missing,
            )
        if "within_km" in data and not any(
            k in data
            for k in ("near_municipality", "near_latitude", "near_postal_code")
        ):
            raise ValidationError(
                "un rayon demande un point de départ (near_municipality, "
                "near_latitude ou near_postal_code) / a radius needs a starting "
                "point (near_municipality, near_latitude or near_postal_code)",
                "within_km",
            )


class ListInput(Schema):
    """What every HSDS list route (``/organizations``, ``/taxonomies``…)
    takes: the HSDS ``search``, ``page``, ``per_page`` and ``format``, and, as
    the profile adds them, ``modified_after`` and ``minimal`` (ids and
    modification dates). Each route adds the parameters HSDS declares on it,
    so a parameter a route cannot honour is refused, never ignored."""

    class Meta:
        unknown = RAISE

    modified_after = fields.AwareDateTime()
    minimal = fields.Boolean(load_default=False)
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=200))
    search = fields.String()
    format = _format()


class TaxonomyListInput(ListInput):
    """``/taxonomies``."""


class TaxonomyTermListInput(ListInput):
    """``/taxonomy_terms``: ``top_only`` keeps the terms without a parent,
    ``parent_id`` the children of one term."""

    taxonomy_id = fields.String()
    top_only = fields.Boolean(load_default=False)
    parent_id = fields.String()


class OrganizationListInput(ListInput):
    """``/organizations``: ``full`` nests each organization (its services as
    list items), ``full_service`` nests their services in full too."""

    full = fields.Boolean(load_default=False)
    full_service = fields.Boolean(load_default=False)


class ServiceAtLocationListInput(ListInput):
    """``/service_at_locations``: the service filters of ``/services``,
    ``postcode`` (service area or address) and ``full`` (``full_service`` is
    the older name Maillage accepted for it); ``proximity`` needs postcode
    centroids this node does not hold and is refused by name."""

    taxonomy_term_id = fields.String()
    taxonomy_id = fields.String()
    organization_id = fields.String()
    full = fields.Boolean(load_default=False)
    full_service = fields.Boolean(load_default=False)
    postcode = fields.String(validate=validate.Regexp(r"^[A-Za-z0-9 -]{3,10}$"))
    proximity = fields.String(validate=_cannot_honour_proximity)


class OrganizationReadInput(Schema):
    """``/organizations/{id}``: ``full_service`` nests its services in full."""

    class Meta:
        unknown = RAISE

    full_service = fields.Boolean(load_default=False)
