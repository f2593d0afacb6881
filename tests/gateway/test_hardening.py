"""Issue 13, item 8 and the fail-closed wiring: each test plays the attack first.

Open redirect after sign-in, a body nested deep enough to overflow the parser,
a sign-in budget shared by everyone behind a proxy, an account locked out by
whoever guesses its name, no HSTS over HTTPS, and a gateway that allowed every
route until the accounts module happened to install the real check.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client

import gateway.app
from gateway.api import Api, Context
from gateway.app import Gateway, collect_api
from shared.errors import ConfigError
from shared.localstore import free_port
from shared.node import gateway_command
from tests.gateway.conftest import (
    PASSWORD,
    FakeRpc,
    add_account,
    auth,
    create_app,
    make_config,
)

BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
CSRF_INPUT = re.compile(r'<input type="hidden" name="csrf" value="([^"]+)">')
SUITE_INPUT = re.compile(r'<input type="hidden" name="suite" value="([^"]*)">')
PROXY = "10.0.0.1"


@pytest.fixture
def site(store_uri: str, db_prefix: str) -> Iterator[Gateway]:
    """The whole gateway, API and pages, as ``gateway.wsgi`` builds it."""
    node = gateway.app.create_app(make_config(store_uri, db_prefix))
    node.rpc = FakeRpc()
    yield node
    node.store_client().drop_database(f"{db_prefix}gateway")


def _from(address: str, **headers: str) -> dict[str, Any]:
    return {"environ_base": {"REMOTE_ADDR": address}, "headers": headers}


def _try(client: Client, username: str, password: str, address: str, **headers: str):
    return client.post(
        "/auth/token",
        json={"username": username, "password": password},
        **_from(address, **headers),
    )


# --- open redirect after sign-in ------------------------------------------------------

OTHER_SITES = [
    "/\t/evil.example",  # /connexion?suite=/%09/evil.example: browsers drop the tab
    "/\n/evil.example",
    "/\r\n/evil.example",
    "//evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\\/evil.example",
    " //evil.example",
    "https://evil.example/",
    "javascript:alert(1)",
    "/%09/evil.example",  # already decoded once: still not a path of this site
    "/%5C/evil.example",
    "/x\x00",
]


@pytest.mark.parametrize("suite", OTHER_SITES)
def test_sign_in_never_sends_the_browser_to_another_site(
    site: Gateway, suite: str
) -> None:
    add_account(site, "marie", "citizen")
    client = Client(site)
    page = client.get("/connexion", query_string={"suite": suite}, headers=BROWSER)
    body = page.get_data(as_text=True)
    assert SUITE_INPUT.search(body).group(1) == "/"  # type: ignore[union-attr]
    resp = client.post(
        "/connexion",
        data={
            "username": "marie",
            "password": PASSWORD,
            "csrf": CSRF_INPUT.search(body).group(1),  # type: ignore[union-attr]
            "suite": suite,
        },
        headers=BROWSER,
    )
    assert resp.status_code == 303
    assert resp.headers["Location"] == "/"


def test_sign_in_still_goes_back_to_a_page_of_this_site(site: Gateway) -> None:
    add_account(site, "marie", "citizen")
    client = Client(site)
    page = client.get("/connexion", headers=BROWSER).get_data(as_text=True)
    resp = client.post(
        "/connexion",
        data={
            "username": "marie",
            "password": PASSWORD,
            "csrf": CSRF_INPUT.search(page).group(1),  # type: ignore[union-attr]
            "suite": "/participer/p-1?lang=en&vue=liste",
        },
        headers=BROWSER,
    )
    assert resp.headers["Location"] == "/participer/p-1?lang=en&vue=liste"


# --- deeply nested JSON ---------------------------------------------------------------


@pytest.mark.parametrize("depth", [50_000, 900])
def test_deeply_nested_json_body_is_a_400_naming_the_body_not_a_500(
    client: Client, depth: int
) -> None:
    body = "[" * depth + "]" * depth
    fr = client.post("/auth/token", data=body, content_type="application/json")
    en = client.post(
        "/auth/token",
        data=body,
        content_type="application/json",
        headers={"Accept-Language": "en"},
    )
    assert fr.status_code == en.status_code == 400
    assert fr.get_json()["error"]["code"] == "bad_request"
    assert fr.get_json()["error"]["field"] == "_body"
    assert "imbriqué" in fr.get_json()["error"]["message"]
    assert "nested" in en.get_json()["error"]["message"]


def test_json_body_of_ordinary_depth_still_reaches_the_schema(client: Client) -> None:
    resp = client.post("/auth/token", json={"username": [[[["x"]]]], "password": "x"})
    assert resp.status_code == 422
    assert "username" in resp.get_json()["error"]["fields"]


@pytest.mark.parametrize(
    "number", [str(2**63), str(-(2**63) - 1), "1" + "0" * 400, "1e400", "NaN"]
)
def test_a_number_no_store_can_hold_is_a_400_naming_the_body_and_nothing_is_written(
    app: Gateway, client: Client, tokens: dict[str, str], number: str
) -> None:
    body = (
        '{"mrc_code": "2466", "title": "t", "method": "approval", "seats": '
        + number
        + ', "phases": {"vote": ["2026-01-01", "2026-02-01"]}}'
    )
    resp = client.post(
        "/processes",
        data=body,
        content_type="application/json",
        headers={**auth(tokens["node_admin"]), "Accept-Language": "en"},
    )
    assert resp.status_code == 400, resp.get_data()
    assert resp.get_json()["error"]["field"] == "_body"
    assert "number" in resp.get_json()["error"]["message"]
    assert app.runtime.store.db.audit.count_documents({"path": "/processes"}) == 0  # type: ignore[attr-defined]
    assert ("participation", "create_process") not in {c[:2] for c in app.rpc.calls}  # type: ignore[attr-defined]


def test_a_large_number_a_store_can_hold_still_reaches_the_schema(
    client: Client, tokens: dict[str, str]
) -> None:
    resp = client.post(
        "/accounts",
        data='{"username": "x", "seats": ' + str(2**63 - 1) + "}",
        content_type="application/json",
        headers=auth(tokens["node_admin"]),
    )
    assert resp.status_code == 422
    assert "seats" in resp.get_json()["error"]["fields"]


# --- the client's address behind a proxy ----------------------------------------------


def test_without_trusted_proxies_x_forwarded_for_is_ignored(
    app: Gateway, client: Client
) -> None:
    add_account(app, "marie", "citizen")
    statuses = [
        _try(
            client,
            f"user{i}",
            "guess",
            "198.51.100.7",
            **{"X-Forwarded-For": f"1.1.1.{i}"},
        ).status_code
        for i in range(12)
    ]
    assert statuses == [401] * 10 + [429, 429]


def test_behind_a_trusted_proxy_each_client_has_its_own_sign_in_budget(
    store_uri: str, db_prefix: str
) -> None:
    app = create_app(make_config(store_uri, db_prefix, TRUSTED_PROXIES="10.0.0.0/24"))
    client = Client(app)
    add_account(app, "marie", "citizen")
    first = [
        _try(
            client, f"user{i}", "guess", PROXY, **{"X-Forwarded-For": "203.0.113.5"}
        ).status_code
        for i in range(11)
    ]
    assert first == [401] * 10 + [429]
    # another visitor behind the same proxy is not refused for the first one's sake
    other = _try(client, "marie", PASSWORD, PROXY, **{"X-Forwarded-For": "203.0.113.6"})
    assert other.status_code == 200, other.get_json()


def test_a_client_cannot_escape_its_budget_by_writing_x_forwarded_for_itself(
    store_uri: str, db_prefix: str
) -> None:
    app = create_app(
        make_config(store_uri, db_prefix, TRUSTED_PROXIES="10.0.0.1, 10.0.1.0/24")
    )
    client = Client(app)
    statuses = [
        _try(
            client,
            f"user{i}",
            "guess",
            PROXY,
            # the client wrote the first two, the proxies appended the rest
            **{"X-Forwarded-For": f"1.1.1.{i}, 10.0.0.{i}, 203.0.113.5, 10.0.1.7"},
        ).status_code
        for i in range(12)
    ]
    assert statuses == [401] * 10 + [429, 429]


def test_the_audit_records_the_client_behind_the_proxy_not_the_proxy(
    store_uri: str, db_prefix: str
) -> None:
    app = create_app(make_config(store_uri, db_prefix, TRUSTED_PROXIES=PROXY))
    _try(Client(app), "nobody", "x", PROXY, **{"X-Forwarded-For": "203.0.113.5"})
    [entry] = app.runtime.store.db.audit.find({"path": "/auth/token"})  # type: ignore[attr-defined]
    assert entry["ip"] == "203.0.113.5"


@pytest.mark.parametrize(
    "value", ["10.0.0.300", "10.0.0.1/33", "proxy.example", "10.0.0.1;10.0.0.2"]
)
def test_a_bad_trusted_proxies_setting_stops_start_up_naming_it(
    store_uri: str, db_prefix: str, value: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        create_app(make_config(store_uri, db_prefix, TRUSTED_PROXIES=value))
    assert "TRUSTED_PROXIES" in refused.value.message_en
    assert "TRUSTED_PROXIES" in refused.value.message_fr
    assert value.split(";")[0] in refused.value.message_en


@pytest.mark.integration
def test_gunicorn_does_not_start_with_a_bad_trusted_proxies_setting() -> None:
    env = dict(
        os.environ,
        MAILLAGE_TRUSTED_PROXIES="10.0.0.1, 10.0.0.256",
        MAILLAGE_ENV="dev",
        MAILLAGE_GATEWAY_BIND=f"127.0.0.1:{free_port()}",
    )
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    done = subprocess.run(
        gateway_command(),
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "TRUSTED_PROXIES" in done.stderr and "10.0.0.256" in done.stderr


# --- an account cannot be locked out by someone else ----------------------------------


def test_an_attacker_failing_from_one_address_does_not_lock_the_owner_out(
    app: Gateway, client: Client
) -> None:
    add_account(app, "marie", "citizen")
    attack = [
        _try(client, "marie", "guess", "198.51.100.7").status_code for _ in range(15)
    ]
    assert attack == [401] * 10 + [429] * 5
    owner = _try(client, "marie", PASSWORD, "203.0.113.20")
    assert owner.status_code == 200, owner.get_json()


def test_many_addresses_slow_every_failing_one_yet_the_owner_still_signs_in(
    store_uri: str, db_prefix: str
) -> None:
    app = create_app(
        make_config(store_uri, db_prefix, MAILLAGE_SIGNIN_ACCOUNT_BURST="6")
    )
    client = Client(app)
    add_account(app, "marie", "citizen")
    for i in range(3):  # three addresses, two guesses each: the account's budget
        for _ in range(2):
            assert _try(client, "marie", "guess", f"198.51.100.{i}").status_code == 401
    # the account is under attack: an address that failed on it is held back
    held = _try(client, "marie", "guess", "198.51.100.0")
    assert held.status_code == 429
    assert int(held.headers["Retry-After"]) >= 1
    assert _try(client, "marie", PASSWORD, "198.51.100.1").status_code == 429
    # an address that never failed on it is still heard, so the owner gets in
    assert _try(client, "marie", PASSWORD, "203.0.113.20").status_code == 200
    # and other accounts are not slowed by marie's attack
    add_account(app, "luc", "citizen")
    assert _try(client, "luc", PASSWORD, "198.51.100.2").status_code == 200


# --- HSTS over HTTPS only -------------------------------------------------------------


def test_hsts_is_sent_over_https_and_never_over_plain_http(
    store_uri: str, db_prefix: str
) -> None:
    app = create_app(make_config(store_uri, db_prefix, TRUSTED_PROXIES=PROXY))
    client = Client(app)
    https = client.get("/openapi.json", base_url="https://node.example/")
    assert https.headers["Strict-Transport-Security"].startswith("max-age=")
    assert int(https.headers["Strict-Transport-Security"][8:].split(";")[0]) >= 31536000
    plain = client.get("/openapi.json")
    assert "Strict-Transport-Security" not in plain.headers
    # a client claiming HTTPS itself is not believed
    forged = client.get(
        "/openapi.json", **_from("198.51.100.7", **{"X-Forwarded-Proto": "https"})
    )
    assert "Strict-Transport-Security" not in forged.headers
    # the trusted TLS proxy is
    proxied = client.get(
        "/openapi.json", **_from(PROXY, **{"X-Forwarded-Proto": "https"})
    )
    assert "Strict-Transport-Security" in proxied.headers
    plain_proxied = client.get(
        "/openapi.json", **_from(PROXY, **{"X-Forwarded-Proto": "http"})
    )
    assert "Strict-Transport-Security" not in plain_proxied.headers


def test_a_trusted_proxys_https_gives_the_session_cookie_its_secure_flag(
    store_uri: str, db_prefix: str
) -> None:
    node = gateway.app.create_app(
        make_config(store_uri, db_prefix, TRUSTED_PROXIES=PROXY)
    )
    node.rpc = FakeRpc()
    add_account(node, "marie", "citizen")
    client = Client(node)
    via = _from(PROXY, **{"X-Forwarded-Proto": "https", **BROWSER})
    page = client.get("/connexion", **via).get_data(as_text=True)
    resp = client.post(
        "/connexion",
        data={
            "username": "marie",
            "password": PASSWORD,
            "csrf": CSRF_INPUT.search(page).group(1),  # type: ignore[union-attr]
        },
        **via,
    )
    assert resp.status_code == 303
    cookie = next(c for c in resp.headers.getlist("Set-Cookie") if "session" in c)
    assert "Secure" in cookie
    node.store_client().drop_database(f"{db_prefix}gateway")


# --- the wiring fails closed ----------------------------------------------------------


def _one_protected_route(ran: list[str]) -> Api:
    api = Api()

    @api.route("/secret", action="accounts.list")
    def secret(ctx: Context) -> dict[str, Any]:
        ran.append("secret")
        return {"secret": True}

    @api.route("/open", action="node.open", public=True)
    def open_(ctx: Context) -> dict[str, Any]:
        return {"open": True}

    return api


def test_a_gateway_made_without_an_authoriser_refuses_every_protected_route() -> None:
    ran: list[str] = []
    app = Gateway({"AMQP_URI": "amqp://unused/"}, _one_protected_route(ran))
    client = Client(app)
    resp = client.get("/secret")
    assert resp.status_code == 403
    assert resp.get_json()["error"]["code"] == "forbidden"
    assert ran == []
    en = client.get("/secret", headers={"Accept-Language": "en"}).get_json()
    assert (
        "authoriser" in en["error"]["message"] or "authorizer" in en["error"]["message"]
    )
    assert client.get("/open").status_code == 200


def test_importing_the_route_modules_installs_nothing_and_denies_by_default(
    store_uri: str, db_prefix: str
) -> None:
    app = Gateway(make_config(store_uri, db_prefix), collect_api())
    assert Client(app).get("/accounts").status_code == 403
    assert Client(app).get("/audit").status_code == 403


def test_the_real_wiring_denies_anonymous_access_to_protected_routes(
    site: Gateway,
) -> None:
    client = Client(site)
    for path in ("/accounts", "/audit", "/accounts/me", "/federation/agreements"):
        resp = client.get(path)
        assert resp.status_code == 401, path
        assert resp.get_json()["error"]["code"] == "unauthenticated"
    protected = [r for r in site.api.routes if not r.public]
    assert len(protected) > 40
    for route in protected:  # every one, whatever its method, before any RPC
        path = re.sub(r"<(?:[a-z]+:)?[a-z_]+>", "x", route.rule)
        for method in route.methods:
            resp = client.open(path, method=method, json={})
            assert resp.status_code == 401, (method, route.rule, resp.status_code)
    assert site.rpc.calls == []  # type: ignore[attr-defined]


def test_a_route_module_that_fails_to_import_stops_start_up(
    store_uri: str, db_prefix: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "maillage_broken_routes.py").write_text(
        textwrap.dedent(
            """
            from gateway.api import Api
            from gateway.no_such_module import anything  # noqa: F401
            api = Api()
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    config = make_config(store_uri, db_prefix)
    modules = gateway.app.ROUTE_MODULES
    for missing in ("maillage_broken_routes", "gateway.routes.no_such_area"):
        monkeypatch.setattr(gateway.app, "ROUTE_MODULES", (*modules, missing))
        with pytest.raises(ImportError):
            gateway.app.create_app(config)
    sys.modules.pop("maillage_broken_routes", None)


@pytest.mark.parametrize(
    "setting, value",
    [
        ("MAILLAGE_SIGNIN_BURST", "ten"),
        ("MAILLAGE_SIGNIN_ACCOUNT_BURST", "0"),
        ("MAILLAGE_SIGNIN_PER_MINUTE", "-6"),
        ("MAILLAGE_WRITE_PER_SECOND", "nan"),
    ],
)
def test_a_bad_rate_limit_setting_stops_start_up_naming_it(
    store_uri: str, db_prefix: str, setting: str, value: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        create_app(make_config(store_uri, db_prefix, **{setting: value}))
    assert setting in refused.value.message_en
    assert setting in refused.value.message_fr
