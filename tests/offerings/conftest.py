"""Fixtures of the offerings tests: a fresh directory database, HSDS validators."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymongo
import pytest
from jsonschema import Draft7Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from services.offerings.domain import GeoReference
from services.offerings.imports import load_geo

BASE = "https://hsds.test/schema/"


@pytest.fixture
def offerings_db(store_uri: str, db_prefix: str) -> Iterator[Any]:
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
        store_uri, tz_aware=True
    )
    name = f"{db_prefix}offerings"
    yield client[name]
    client.drop_database(name)
    client.close()


@pytest.fixture(scope="session")
def hsds_dir(data_dir: Path) -> Path:
    return data_dir / "hsds"


@pytest.fixture(scope="session")
def geo(data_dir: Path) -> GeoReference:
    reference = load_geo(data_dir / "quebec_geo")
    assert reference is not None
    return reference


class HsdsSchemas:
    """Validators built from the specification's own schema files."""

    def __init__(self, schema_dir: Path) -> None:
        compiled = schema_dir / "compiled"
        self.tabular = json.loads((compiled / "tabular.json").read_text())
        self.service = Draft7Validator(
            json.loads((compiled / "service_with_definitions.json").read_text()),
            format_checker=FormatChecker(),
        )
        self.service_list_item = self._compiled(compiled / "service_list.json")
        self.organization_list_item = self._compiled(
            compiled / "organization_list.json"
        )
        self.service_at_location_list_item = self._compiled(
            compiled / "service_at_location_list.json"
        )
        resources = [
            (
                BASE + f.name,
                Resource.from_contents(
                    json.loads(f.read_text()), default_specification=DRAFT7
                ),
            )
            for f in schema_dir.glob("*.json")
            if f.name != "openapi.json"
        ]
        registry: Registry = Registry().with_resources(resources)
        self.organization_full = Draft7Validator(
            {"$ref": BASE + "organization.json"},
            registry=registry,
            format_checker=FormatChecker(),
        )

    @staticmethod
    def _compiled(file: Path) -> Draft7Validator:
        return Draft7Validator(
            json.loads(file.read_text()), format_checker=FormatChecker()
        )

    def table(self, name: str) -> Draft7Validator:
        return Draft7Validator(
            self.tabular["properties"][name]["items"], format_checker=FormatChecker()
        )

    def column_types(self, name: str) -> dict[str, str]:
        props = self.tabular["properties"][name]["items"]["properties"]
        return {k: v.get("type", "string") for k, v in props.items()}


@pytest.fixture(scope="session")
def schemas(hsds_dir: Path) -> HsdsSchemas:
    return HsdsSchemas(hsds_dir / "schema")


def errors_of(validator: Draft7Validator, instance: Any) -> list[str]:
    return [
        f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(instance)
    ]
