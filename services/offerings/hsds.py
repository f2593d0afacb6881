"""The HSDS 3.0 model as plain data: tables, columns, nesting, Quebec profile.

Maillage keeps the directory in HSDS 3.0's *tabular* shape: one flat record per
entity, joined by ``<entity>_id`` columns. That shape is lossless (it is what
the CSV datapackage carries), it is what the compiled ``tabular.json`` schema
checks, and every nested HSDS document (``/services/{id}`` with its phones,
locations, organization...) can be rebuilt from it.

A record, as held in memory and in the store::

    {"id": "ac148810-d857-441c-9679-408f346de14b",
     "organization_id": "d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610",
     "name": "Aide alimentaire", "status": "active",
     "no_referral_required": True, "outreach_modes": "at_home,public_spaces"}

Absent values are simply absent (never ``None`` in a record). The facts below
are taken from the HSDS 3.0 specification (``schema/*.json``, commit 279fd2e);
they are written out here so that a node runs without the specification files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Record = dict[str, Any]
Dataset = dict[str, dict[str, Record]]

HSDS_VERSION = "3.0"
PROFILE_URI = "https://maillage.quebec/hsds/profil-quebec/1.0"


@dataclass(frozen=True)
class Table:
    """One HSDS table: its CSV file, its columns (in spec order) and their rules."""

    name: str
    path: str
    columns: tuple[str, ...]
    required: tuple[str, ...] = ("id",)
    tabular_required: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()
    booleans: tuple[str, ...] = ()
    enums: dict[str, tuple[str, ...]] = field(default_factory=dict)
    profile: tuple[str, ...] = ()

    @property
    def all_columns(self) -> tuple[str, ...]:
        return self.columns + self.profile


# Quebec profile columns (documented in services/offerings/README.md).
SERVICE_PROFILE = (
    "no_referral_required",
    "outreach_modes",
    "waiting_list_open",
    "waiting_list_length",
    "typical_wait_days",
    "waiting_list_updated_at",
    "capacity",
    "publication_status",
    # English text beside the French of the core columns (the node's language
    # first); a page in one language falls back to the other (see TRANSLATED).
    "name_en",
    "description_en",
    "eligibility_description_en",
    "fees_description_en",
)
# Core service columns (French, or the only text) -> their English column.
TRANSLATED = {
    "name": "name_en",
    "description": "description_en",
    "eligibility_description": "eligibility_description_en",
    "fees_description": "fees_description_en",
}
LOCATION_PROFILE = (
    "mrc_code",
    "municipality_code",
    "confidential_location",
    "publication_status",
)
ORGANIZATION_PROFILE = ("publication_status",)
OUTREACH_MODES = ("at_home", "public_spaces", "community_organizations")
PUBLICATION_STATUSES = ("draft", "published", "withdrawn")

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "organization",
            "organizations.csv",
            (
                "id",
                "name",
                "alternate_name",
                "description",
                "email",
                "website",
                "tax_status",
                "tax_id",
                "year_incorporated",
                "legal_status",
                "logo",
                "uri",
                "parent_organization_id",
            ),
            required=("id", "name", "description"),
            numbers=("year_incorporated",),
            enums={"publication_status": PUBLICATION_STATUSES},
            profile=ORGANIZATION_PROFILE,
        ),
        Table(
            "program",
            "programs.csv",
            ("id", "organization_id", "name", "alternate_name", "description"),
            required=("id", "name", "description"),
            tabular_required=("organization_id",),
        ),
        Table(
            "service",
            "services.csv",
            (
                "id",
                "organization_id",
                "program_id",
                "name",
                "alternate_name",
                "description",
                "url",
                "email",
                "status",
                "interpretation_services",
                "application_process",
                "fees_description",
                "wait_time",
                "fees",
                "accreditations",
                "eligibility_description",
                "minimum_age",
                "maximum_age",
                "assured_date",
                "assurer_email",
                "licenses",
                "alert",
                "last_modified",
            ),
            required=("id", "name", "status"),
            tabular_required=("organization_id",),
            numbers=(
                "minimum_age",
                "maximum_age",
                "waiting_list_length",
                "typical_wait_days",
                "capacity",
            ),
            booleans=("no_referral_required", "waiting_list_open"),
            enums={
                "status": ("active", "inactive", "defunct", "temporarily closed"),
                "publication_status": PUBLICATION_STATUSES,
            },
            profile=SERVICE_PROFILE,
        ),
        Table(
            "attribute",
            "attributes.csv",
            ("id", "link_id", "taxonomy_term_id", "link_type", "link_entity", "value"),
            tabular_required=("link_id", "taxonomy_term_id", "link_entity"),
        ),
        Table(
            "service_at_location",
            "service_at_location.csv",
            ("id", "service_id", "location_id", "description"),
            tabular_required=("service_id", "location_id"),
        ),
        Table(
            "location",
            "locations.csv",
            (
                "id",
                "location_type",
                "url",
                "organization_id",
                "name",
                "alternate_name",
                "description",
                "transportation",
                "latitude",
                "longitude",
                "external_identifier",
                "external_identifier_type",
            ),
            required=("id", "location_type"),
            numbers=("latitude", "longitude"),
            booleans=("confidential_location",),
            enums={
                "location_type": ("physical", "postal", "virtual"),
                "publication_status": PUBLICATION_STATUSES,
            },
            profile=LOCATION_PROFILE,
        ),
        Table(
            "phone",
            "phones.csv",
            (
                "id",
                "location_id",
                "service_id",
                "organization_id",
                "contact_id",
                "service_at_location_id",
                "number",
                "extension",
                "type",
                "description",
            ),
            required=("id", "number"),
            numbers=("extension",),
        ),
        Table(
            "contact",
            "contacts.csv",
            (
                "id",
                "organization_id",
                "service_id",
                "service_at_location_id",
                "location_id",
                "name",
                "title",
                "department",
                "email",
            ),
        ),
        Table(
            "address",
            "addresses.csv",
            (
                "id",
                "location_id",
                "attention",
                "address_1",
                "address_2",
                "city",
                "region",
                "state_province",
                "postal_code",
                "country",
                "address_type",
            ),
            required=(
                "id",
                "address_1",
                "city",
                "state_province",
                "postal_code",
                "country",
                "address_type",
            ),
            enums={"address_type": ("physical", "postal", "virtual")},
        ),
        Table(
            "schedule",
            "schedules.csv",
            (
                "id",
                "service_id",
                "location_id",
                "service_at_location_id",
                "valid_from",
                "valid_to",
                "dtstart",
                "timezone",
                "until",
                "count",
                "wkst",
                "freq",
                "interval",
                "byday",
                "byweekno",
                "bymonthday",
                "byyearday",
                "description",
                "opens_at",
                "closes_at",
                "schedule_link",
                "attending_type",
                "notes",
            ),
            numbers=("timezone", "count", "interval"),
            enums={
                "wkst": ("MO", "TU", "WE", "TH", "FR", "SA", "SU"),
                "freq": ("WEEKLY", "MONTHLY"),
            },
        ),
        Table(
            "funding",
            "funding.csv",
            ("id", "organization_id", "service_id", "source"),
        ),
        Table(
            "service_area",
            "service_areas.csv",
            ("id", "service_id", "name", "description", "extent", "extent_type", "uri"),
        ),
        Table(
            "required_document",
            "required_documents.csv",
            ("id", "service_id", "document", "uri"),
        ),
        Table(
            "language",
            "languages.csv",
            ("id", "service_id", "location_id", "phone_id", "name", "code", "note"),
        ),
        Table(
            "accessibility",
            "accessibility.csv",
            ("id", "location_id", "description", "details", "url"),
        ),
        Table(
            "taxonomy_term",
            "taxonomy_terms.csv",
            (
                "id",
                "code",
                "name",
                "description",
                "parent_id",
                "taxonomy",
                "language",
                "taxonomy_id",
                "term_uri",
            ),
            required=("id", "name", "description"),
        ),
        Table(
            "metadata",
            "metadata.csv",
            (
                "id",
                "resource_id",
                "resource_type",
                "last_action_date",
                "last_action_type",
                "field_name",
                "previous_value",
                "replacement_value",
                "updated_by",
            ),
            required=(
                "id",
                "last_action_date",
                "last_action_type",
                "field_name",
                "previous_value",
                "replacement_value",
                "updated_by",
            ),
            tabular_required=("resource_id", "resource_type"),
        ),
        Table(
            "meta_table_description",
            "meta_table_descriptions.csv",
            ("id", "name", "language", "character_set"),
        ),
        Table(
            "cost_option",
            "cost_options.csv",
            (
                "id",
                "service_id",
                "valid_from",
                "valid_to",
                "option",
                "currency",
                "amount",
                "amount_description",
            ),
            numbers=("amount",),
            tabular_required=("service_id",),
        ),
        Table(
            "organization_identifier",
            "organization_identifiers.csv",
            (
                "id",
                "organization_id",
                "identifier_scheme",
                "identifier_type",
                "identifier",
            ),
            required=("id", "identifier_type", "identifier"),
            tabular_required=("organization_id",),
        ),
        Table(
            "taxonomy",
            "taxonomies.csv",
            ("id", "name", "description", "uri", "version"),
            required=("id", "name", "description"),
        ),
    )
}

TABLE_BY_PATH = {t.path: t.name for t in TABLES.values()}


@dataclass(frozen=True)
class Child:
    """A nested property: ``many`` children point at the parent with ``fk``;
    a single (``many=False``) child is pointed at *by* the parent's ``fk``."""

    prop: str
    table: str
    fk: str
    many: bool = True


_COMMON = (
    Child("attributes", "attribute", "link_id"),
    Child("metadata", "metadata", "resource_id"),
)


def _children(owner_fk: str, *pairs: tuple[str, str]) -> tuple[Child, ...]:
    return tuple(Child(prop, table, owner_fk) for prop, table in pairs) + _COMMON


NESTING: dict[str, tuple[Child, ...]] = {
    "service": (
        *_children(
            "service_id",
            ("phones", "phone"),
            ("schedules", "schedule"),
            ("service_areas", "service_area"),
            ("service_at_locations", "service_at_location"),
            ("languages", "language"),
            ("funding", "funding"),
            ("cost_options", "cost_option"),
            ("required_documents", "required_document"),
            ("contacts", "contact"),
        ),
        Child("organization", "organization", "organization_id", many=False),
        Child("program", "program", "program_id", many=False),
    ),
    "organization": _children(
        "organization_id",
        ("funding", "funding"),
        ("contacts", "contact"),
        ("phones", "phone"),
        ("locations", "location"),
        ("programs", "program"),
        ("organization_identifiers", "organization_identifier"),
        ("services", "service"),
    ),
    "service_at_location": (
        *_children(
            "service_at_location_id",
            ("contacts", "contact"),
            ("phones", "phone"),
            ("schedules", "schedule"),
        ),
        Child("location", "location", "location_id", many=False),
        Child("service", "service", "service_id", many=False),
    ),
    "location": _children(
        "location_id",
        ("languages", "language"),
        ("addresses", "address"),
        ("contacts", "contact"),
        ("accessibility", "accessibility"),
        ("phones", "phone"),
        ("schedules", "schedule"),
    ),
    "phone": _children("phone_id", ("languages", "language")),
    "contact": _children("contact_id", ("phones", "phone")),
    "attribute": (
        Child("taxonomy_term", "taxonomy_term", "taxonomy_term_id", many=False),
        Child("metadata", "metadata", "resource_id"),
    ),
    "taxonomy_term": (
        Child("taxonomy_detail", "taxonomy", "taxonomy_id", many=False),
        Child("metadata", "metadata", "resource_id"),
    ),
    "taxonomy": (Child("metadata", "metadata", "resource_id"),),
    "metadata": (),
}
for _name in TABLES:
    NESTING.setdefault(_name, _COMMON)

# Columns that point at another table. Those in HARD_REFERENCES must resolve
# (in the same import or in the directory); for child tables at least one owner
# column must resolve; the others may point outside the dataset (HSDS allows
# a parent organization or taxonomy held elsewhere) and only produce warnings.
REFERENCES: dict[str, dict[str, str]] = {
    "organization": {"parent_organization_id": "organization"},
    "program": {"organization_id": "organization"},
    "service": {"organization_id": "organization", "program_id": "program"},
    "attribute": {"taxonomy_term_id": "taxonomy_term"},
    "service_at_location": {"service_id": "service", "location_id": "location"},
    "location": {"organization_id": "organization"},
    "phone": {
        "location_id": "location",
        "service_id": "service",
        "organization_id": "organization",
        "contact_id": "contact",
        "service_at_location_id": "service_at_location",
    },
    "contact": {
        "organization_id": "organization",
        "service_id": "service",
        "service_at_location_id": "service_at_location",
        "location_id": "location",
    },
    "address": {"location_id": "location"},
    "schedule": {
        "service_id": "service",
        "location_id": "location",
        "service_at_location_id": "service_at_location",
    },
    "funding": {"organization_id": "organization", "service_id": "service"},
    "service_area": {"service_id": "service"},
    "required_document": {"service_id": "service"},
    "language": {
        "service_id": "service",
        "location_id": "location",
        "phone_id": "phone",
    },
    "accessibility": {"location_id": "location"},
    "taxonomy_term": {"parent_id": "taxonomy_term", "taxonomy_id": "taxonomy"},
    "cost_option": {"service_id": "service"},
    "organization_identifier": {"organization_id": "organization"},
}
HARD_REFERENCES: dict[str, tuple[str, ...]] = {
    "service": ("organization_id", "program_id"),
    "service_at_location": ("service_id", "location_id"),
    "attribute": ("taxonomy_term_id",),
    "cost_option": ("service_id",),
    "organization_identifier": ("organization_id",),
}
OWNED_TABLES = (
    "phone",
    "contact",
    "address",
    "schedule",
    "funding",
    "service_area",
    "required_document",
    "language",
    "accessibility",
    "program",
)


def empty_dataset() -> Dataset:
    return {name: {} for name in TABLES}


def count(dataset: Dataset) -> dict[str, int]:
    return {name: len(rows) for name, rows in dataset.items() if rows}
