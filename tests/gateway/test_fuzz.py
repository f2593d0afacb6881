"""Schema-driven fuzzing of the gateway against a running node.

The gateway (in this process) talks over real RabbitMQ (a throwaway vhost) to
the services that exist, started as nameko containers on the real store;
schemathesis generates requests from ``/openapi.json`` (a bounded number per
operation) and checks that no answer is a server error and that every status
code, content type, header and body agrees with the document.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from gateway.app import Gateway
from tests.gateway.conftest import running_services

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES_PER_OPERATION = 6


def fuzzer(operation: Any, public_page: bool, token: str) -> Any:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case: Any) -> None:
        if public_page:
            case.call_and_validate(checks=[not_a_server_error])
        else:
            case.call_and_validate(
                headers={"Authorization": f"Bearer {token}"}, checks=CHECKS
            )

    return fuzz


def test_no_server_error_and_no_answer_contradicts_the_document(
    node: tuple[Gateway, str],
) -> None:
    app, token = node
    assert len(running_services()) >= 3
    api = schemathesis.openapi.from_wsgi("/openapi.json", app)
    failures: list[str] = []
    operations = 0
    for result in api.get_all_operations():
        operation = result.ok()
        operations += 1
        if operation.path == "/health":
            continue  # 503 while a service is not written yet: tested elsewhere
        public_page = operation.path in ("/metrics", "/docs")

        fuzz = fuzzer(operation, public_page, token)
        try:
            fuzz()
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - collect all
            detail = "\n".join(str(e)[:1500] for e in getattr(exc, "exceptions", [exc]))
            failures.append(f"{operation.method.upper()} {operation.path}: {detail}")
    assert operations >= 40
    if failures:
        Path("test-output").mkdir(exist_ok=True)
        Path("test-output/gateway-fuzz.txt").write_text("\n\n".join(failures))
    assert not failures, "\n\n".join(f[:300] for f in failures)
