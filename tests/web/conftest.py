"""Web tests: a real headless Chromium (Debian's), axe-core, and a running node.

Playwright drives ``/usr/bin/chromium`` (no browser download). The root
``conftest.py`` monkey-patches with eventlet, under which Playwright's
``stop()`` never returns; the driver is therefore started once per session
and left to exit with the test process (the browser itself is closed).
Waits that Playwright's Python side times itself (``page.wait_for_url``,
``expect_navigation``) never wake under eventlet either: tests wait with
``expect(...)`` and ``locator.wait_for()``, which the driver times.

axe-core comes from npm (``npm ci`` at the repository root, see
``package.json``); each page is checked against WCAG 2.0/2.1 A and AA rules
and must have no ``serious`` or ``critical`` violation.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import AMQP_HOST, BROKER, ROOT

CHROMIUM = os.environ.get("MAILLAGE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
OUTPUT = ROOT / "test-output" / "web"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

_playwright: Any = None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: apt-get install -y chromium")
    if not AXE.exists():
        pytest.fail(f"{AXE} missing: run `npm ci` at the repository root")
    global _playwright
    from playwright.sync_api import sync_playwright

    if _playwright is None:
        _playwright = sync_playwright().start()
    chromium = _playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


def new_context(browser: Any, base_url: str, **options: Any) -> Any:
    """A phone-sized context (axe is injected, so the page's CSP is bypassed)."""
    return browser.new_context(
        base_url=base_url,
        bypass_csp=True,
        viewport={"width": 390, "height": 844},
        locale="fr-CA",
        **options,
    )


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations of the page as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "targets": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def assert_accessible(page: Any) -> None:
    found = axe_violations(page)
    assert found == [], f"axe-core on {page.url}: {found}"


def screenshot(page: Any, name: str) -> Path:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    target = OUTPUT / f"{name}.png"
    page.screenshot(path=str(target), full_page=True)
    return target


# --- a running node ------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def web_vhost() -> Iterator[str]:
    """A throwaway vhost for the module's node (the ``vhost`` fixture is per test)."""
    with BROKER.throwaway_vhost("test-web") as name:
        yield name


NEEDED = ("boards", "offerings", "participation")


@pytest.fixture(scope="module")
def running_node(
    web_vhost: str, store_uri: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """``maillage node run`` on a throwaway vhost and the test store: the services
    as their own processes and the gateway under gunicorn on a free port."""
    from shared.node import Node

    data = tmp_path_factory.mktemp("node")
    port = free_port()
    prefix = f"w{uuid.uuid4().hex[:8]}_"
    env = dict(
        os.environ,
        AMQP_URI=f"amqp://guest:guest@{AMQP_HOST}/{web_vhost}",
        MONGODB_URI=store_uri,
        DB_PREFIX=prefix,
        NODE_ID="mrc-66023",
        MAILLAGE_SECRET_KEY=uuid.uuid4().hex + uuid.uuid4().hex,
        MAILLAGE_GATEWAY_WORKERS="1",
        LOG_LEVEL="WARNING",
    )
    node = Node(data, env=env, gateway_bind=f"127.0.0.1:{port}")
    node.prepare()
    node.children = node.plan()
    for child in node.children:
        # The runner's fixed metrics ports (9101...) may be taken by another
        # node on this machine: give each service a free one.
        if "METRICS_PORT" in child.env:
            child.env["METRICS_PORT"] = str(free_port())
        child.start()
    base = f"http://127.0.0.1:{port}"
    try:
        states = wait_for_services(base, NEEDED)
        yield {
            "base_url": base,
            "env": env,
            "config": {
                "AMQP_URI": env["AMQP_URI"],
                "MONGODB_URI": store_uri,
                "DB_PREFIX": prefix,
                "NODE_ID": env["NODE_ID"],
            },
            "states": states,
            "logs": data / "logs",
        }
    finally:
        node.stop()
        kill_leftovers(prefix)
        shutil.rmtree(data / "prometheus", ignore_errors=True)


def kill_leftovers(prefix: str) -> None:
    """Processes of this node still alive (a run aborted mid-way leaves them):
    found by the node's own database prefix in their environment."""
    marker = f"DB_PREFIX={prefix}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if marker in (entry / "environ").read_bytes().split(b"\0"):
                os.kill(int(entry.name), signal.SIGKILL)
        except (OSError, ProcessLookupError):
            continue


def wait_for_services(base: str, names: tuple[str, ...], timeout: float = 90) -> dict:
    """Wait until the gateway answers and the named services answer ``health``."""
    deadline = time.monotonic() + timeout
    report: dict[str, Any] = {}
    while time.monotonic() < deadline:
        try:
            report = requests.get(f"{base}/health", timeout=10).json()
            services = report.get("services", {})
            if all(services.get(n) == "ok" for n in names):
                return services
        except (requests.RequestException, ValueError):
            pass
        time.sleep(0.5)
    pytest.fail(f"node not ready after {timeout}s: {report}")
