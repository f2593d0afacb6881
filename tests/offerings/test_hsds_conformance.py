"""The specification's own OpenAPI document, run against a node holding the
HSDS examples (schemathesis, every ``$ref`` resolved to the local schema
files): no server error, no undocumented status and no answer contradicting
the schemas, except what services/offerings/README.md writes down
("Where HSDS contradicts itself"):

- ``/service_at_locations/{id}`` answers a service at a location (the
  reference's prose), not the service schema the document points at;
- ``minimal=true`` items are ``id`` and ``modified_date`` only (the
  parameter's own description), which the list item schemas (``name``
  required) would refuse;
- a value the node cannot honour is a 422 naming the parameter (the document
  declares only 200), and an unknown id a 404.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.offerings.test_hsds_api import http  # noqa: F401 - the node fixture

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

CORE = "https://raw.githubusercontent.com/openreferral/specification/3.0/schema/"
EXAMPLES_PER_OPERATION = 25


def _local(node: Any) -> Any:
    """Every ``$ref`` to a schema file as a ``#/components/schemas`` entry."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and not ref.startswith("#"):
            name = ref.removeprefix(CORE).rsplit("/", 1)[-1].removesuffix(".json")
            node = {**node, "$ref": f"#/components/schemas/{name}"}
        return {k: _local(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_local(v) for v in node]
    return node


def specification(schema_dir: Path) -> dict[str, Any]:
    document = json.loads((schema_dir / "openapi.json").read_text())
    files = [f for f in schema_dir.glob("*.json") if f.name != "openapi.json"]
    files += sorted((schema_dir / "compiled").glob("*_list.json"))
    for file in files:
        document["components"]["schemas"][file.stem] = json.loads(file.read_text())
    document = _local(document)
    # the two contradictions written down, as the README says they were settled
    sal = document["paths"]["/service_at_locations/{id}"]["get"]["responses"]["200"]
    sal["content"]["application/json"]["schema"] = {
        "$ref": "#/components/schemas/service_at_location"
    }
    minimal = {
        "type": "object",
        "required": ["id"],
        "properties": {"id": {"type": "string"}, "modified_date": {}},
        "additionalProperties": False,
    }
    for operation in document["paths"].values():
        schema = operation["get"]["responses"]["200"]["content"]["application/json"]
        items = schema["schema"].get("properties", {}).get("contents", {}).get("items")
        if items is not None:
            alternatives = [copy.deepcopy(items), minimal]
            items.clear()
            items["anyOf"] = alternatives
    document["servers"] = [{"url": "/hsds"}]
    return document


def test_the_specifications_openapi_finds_nothing_but_what_is_written_down(
    http: Any,  # noqa: F811
    hsds_dir: Path,
) -> None:
    app = http.application
    api = schemathesis.openapi.from_dict(specification(hsds_dir / "schema"))
    api.app = app
    failures: list[str] = []
    statuses: dict[int, int] = {}
    operations = 0
    for result in api.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            response = case.call()
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            assert response.status_code < 500, response.text[:300]
            if response.status_code == 422:
                named = set(response.json()["error"]["fields"])
                assert named <= set(case.query or {}), (case.query, named)
                return
            if response.status_code == 404 and "{id}" in case.operation.path:
                assert response.json()["error"]["code"] == "not_found"
                return
            case.validate_response(
                response,
                checks=[
                    status_code_conformance,
                    content_type_conformance,
                    response_schema_conformance,
                ],
            )

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - collect all
            detail = "\n".join(str(e)[:1500] for e in getattr(exc, "exceptions", [exc]))
            failures.append(f"GET {operation.path}: {detail}")
    assert operations == 11
    assert statuses.get(200, 0) >= 20 and statuses.get(422), statuses
    if failures:
        Path("test-output").mkdir(exist_ok=True)
        Path("test-output/hsds-conformance.txt").write_text("\n\n".join(failures))
    assert not failures, "\n\n".join(f[:600] for f in failures)
