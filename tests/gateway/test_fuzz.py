"""Schema-driven fuzzing of the gateway against a running node.

The gateway (in this process) talks over real RabbitMQ (a throwaway vhost) to
the services that exist, started as nameko containers on the real store;
schemathesis generates requests from ``/openapi.json`` (a bounded number per
operation) and checks that no answer is a server error and that every status
code, content type, header and body agrees with the document.
"""

from __future__ import annotations

import importlib.util
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from nameko.containers import ServiceContainer
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from gateway.app import Gateway
from shared.node import SERVICES, service_class_name
from tests.conftest import AMQP_HOST, MGMT, MGMT_AUTH
from tests.gateway.conftest import MRC, add_account, create_app, make_config

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES_PER_OPERATION = 6


def running_services() -> list[type[Any]]:
    classes = []
    for name in SERVICES:
        module = f"services.{name}.service"
        if importlib.util.find_spec(module) is None:
            continue
        loaded = importlib.import_module(module)
        classes.append(getattr(loaded, service_class_name(module)))
    return classes


@pytest.fixture(scope="module")
def node(store_uri: str) -> Iterator[tuple[Gateway, str]]:
    vhost = f"test-fuzz-{uuid.uuid4().hex[:8]}"
    requests.put(
        f"{MGMT}/vhosts/{vhost}", auth=MGMT_AUTH, timeout=10
    ).raise_for_status()
    requests.put(
        f"{MGMT}/permissions/{vhost}/guest",
        json={"configure": ".*", "write": ".*", "read": ".*"},
        auth=MGMT_AUTH,
        timeout=10,
    ).raise_for_status()
    prefix = f"fz{uuid.uuid4().hex[:8]}_"
    config = make_config(
        store_uri,
        prefix,
        AMQP_URI=f"amqp://guest:guest@{AMQP_HOST}/{vhost}",
        MRC_CODE=MRC,
        MAILLAGE_WRITE_BURST="100000",
        MAILLAGE_SIGNIN_BURST="100000",
    )
    containers = [ServiceContainer(cls, dict(config)) for cls in running_services()]
    for container in containers:
        container.start()
    app = create_app(config)
    admin = add_account(app, "admin", "node_admin")
    token = app.runtime.tokens.issue(admin)["token"]  # type: ignore[attr-defined]
    try:
        yield app, token
    finally:
        app.rpc.close()
        for container in containers:
            container.stop()
        requests.delete(f"{MGMT}/vhosts/{vhost}", auth=MGMT_AUTH, timeout=30)


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
