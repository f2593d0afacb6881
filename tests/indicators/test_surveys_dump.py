"""No practitioner's report and no questionnaire answer can be tied to a person
from a full dump of the node's store.

A real indicators service (nameko container, real broker and store) behind the
real gateway: practitioners sign in and report, a visitor answers at a kiosk,
a practitioner enters a paper form; then EVERY database of the node (the
gateway's accounts and audit log included) is dumped and searched as whoever
copied the store would: for account ids, names, times and ObjectIds beside an
answer, for keys they could recompute without the node's secret, and for an
order of reports that lines up with the order of the keys or of the log.
"""

# ruff: noqa: F811 (the gateway's fixtures are imported by name)
from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from bson import ObjectId
from nameko.containers import ServiceContainer
from pymongo import MongoClient
from werkzeug.test import Client

from gateway.app import Gateway
from services.indicators.geo import quebec_units
from services.indicators.repository import IndicatorsRepository
from services.indicators.service import IndicatorsService
from services.indicators.surveys import report_key
from tests.conftest import AMQP_HOST, BROKER
from tests.gateway.conftest import add_account, auth, create_app, make_config

pytestmark = pytest.mark.integration

MRC = "2437"
PRACTICE_KEY = uuid.uuid4().hex + uuid.uuid4().hex
QUESTIONNAIRE = {
    "id": "accueil",
    "org_unit": f"cd:{MRC}",
    "title": {"fr": "Votre visite", "en": "Your visit"},
    "questions": [
        {"id": "safer", "text": {"fr": "Plus en sécurité ?", "en": "Safer?"}},
    ],
}
# caseloads a practitioner gives, in the order they report
CASELOADS = [101, 102, 103, 104, 105, 106, 107, 108]


@pytest.fixture(scope="module")
def node(store_uri: str, data_dir, tmp_path_factory) -> Iterator[dict[str, Any]]:
    vhost = BROKER.add_vhost(prefix="test-surveys")
    prefix = f"sv{uuid.uuid4().hex[:8]}_"
    config = make_config(
        store_uri,
        prefix,
        AMQP_URI=f"amqp://guest:guest@{AMQP_HOST}/{vhost}",
        MRC_CODE=MRC,
        MAILLAGE_WRITE_BURST="100000",
        PRACTICE_KEY=PRACTICE_KEY,
        KEYS_DIR=str(tmp_path_factory.mktemp("keys")),
        SUPPRESSION_THRESHOLD=5,
    )
    client = MongoClient(store_uri, tz_aware=True)
    units = [
        u
        for u in quebec_units(data_dir / "quebec_geo")
        if u.level <= 2 or u.id == f"cd:{MRC}" or u.id.startswith(f"csd:{MRC}")
    ]
    IndicatorsRepository(client[f"{prefix}indicators"]).save_org_units(units)
    container = ServiceContainer(IndicatorsService, dict(config))
    container.start()
    app = create_app(config)
    try:
        yield {"app": app, "client": client, "prefix": prefix}
    finally:
        app.rpc.close()
        container.stop()
        BROKER.delete_vhost(vhost)
        for name in client.list_database_names():
            if name.startswith(prefix):
                client.drop_database(name)
        client.close()


def token(app: Gateway, username: str, role: str) -> str:
    account = add_account(app, username, role, mrc=MRC)
    return app.runtime.tokens.issue(account)["token"]  # type: ignore[attr-defined]


def dump(client: MongoClient, prefix: str) -> dict[str, list[dict[str, Any]]]:
    """Every document of every database of the node, in natural order."""
    out: dict[str, list[dict[str, Any]]] = {}
    for name in client.list_database_names():
        if not name.startswith(prefix):
            continue
        db = client[name]
        for collection in db.list_collection_names():
            out[f"{name}.{collection}"] = list(db[collection].find({}))
    return out


def leaves(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from leaves(v)
    elif isinstance(value, list):
        for v in value:
            yield from leaves(v)
    else:
        yield value


@pytest.fixture(scope="module")
def reported(node: dict[str, Any]) -> dict[str, Any]:
    app = node["app"]
    http = Client(app)
    admin = token(app, "admin-sv", "node_admin")
    resp = http.post(
        "/indicators/questionnaires", json=QUESTIONNAIRE, headers=auth(admin)
    )
    assert resp.status_code == 201, resp.get_json()
    accounts = []
    for i, caseload in enumerate(CASELOADS):
        username = f"intervenante-{i}"
        bearer = token(app, username, "practitioner")
        account = app.runtime.store.account_by_username(username)  # type: ignore[attr-defined]
        accounts.append({"sub": str(account["_id"]), "username": username})
        resp = http.post(
            "/indicators/practice/reports",
            json={
                "caseload": caseload,
                "admin_share": 30 + i,
                "supervision": "none",
                "concerns": f"souci-unique-{i}",
            },
            headers=auth(bearer),
        )
        assert resp.status_code == 201, resp.get_json()
        assert "souci" not in json.dumps(resp.get_json())
        again = http.post(
            "/indicators/practice/reports",
            json={"caseload": 1, "admin_share": 1, "supervision": "none"},
            headers=auth(bearer),
        )
        assert again.status_code == 409, again.get_json()
        if i == 0:
            resp = http.post(
                "/indicators/questionnaires/accueil/paper",
                json={
                    "answers": {"safer": 4},
                    "period": datetime.now().strftime("%Y%m"),
                },
                headers=auth(bearer),
            )
            assert resp.status_code == 201, resp.get_json()
    resp = http.post(
        "/indicators/questionnaires/accueil/answers",
        json={"answers": {"safer": 2}, "channel": "kiosk"},
    )
    assert resp.status_code == 201, resp.get_json()
    return {"accounts": accounts, "dump": dump(node["client"], node["prefix"])}


def _report_docs(store: dict[str, list[dict]]) -> list[tuple[str, dict]]:
    return [
        (where, doc)
        for where, docs in store.items()
        for doc in docs
        if "souci-unique-" in json.dumps(doc, default=str)
    ]


def test_the_documents_holding_reports_carry_no_account_time_or_objectid(reported):
    store = reported["dump"]
    holders = _report_docs(store)
    assert holders, "the reports are somewhere in the store"
    assert {where.split(".", 1)[1] for where, _ in holders} == {"practice_boxes"}
    names = {a["sub"] for a in reported["accounts"]} | {
        a["username"] for a in reported["accounts"]
    }
    for _, doc in holders:
        for leaf in leaves(doc):
            assert not isinstance(leaf, datetime | ObjectId), doc
            assert str(leaf) not in names
        for entry in doc["reports"]:
            assert set(entry) <= {"caseload", "admin_share", "supervision", "concerns"}


def test_no_document_of_any_database_joins_an_account_to_an_answer(reported):
    """The audit log, the accounts, the keys: nothing beside a person holds
    a report's answers or a questionnaire's."""
    for where, docs in reported["dump"].items():
        for doc in docs:
            text = json.dumps(doc, default=str)
            names = [
                a
                for a in reported["accounts"]
                if a["sub"] in text or a["username"] in text
            ]
            if not names:
                continue
            assert "souci-unique-" not in text, (where, doc)
            for caseload in CASELOADS:
                assert f": {caseload}" not in text, (where, doc)
            assert "safer" not in text, (where, doc)


def test_the_anonymous_writes_leave_the_log_no_actor_address_or_instant(reported):
    actions = {
        "indicators.practice.report",
        "indicators.surveys.answer",
        "indicators.surveys.enter",
    }
    entries = [
        doc
        for where, docs in reported["dump"].items()
        if where.endswith(".audit")
        for doc in docs
        if doc.get("action") in actions
    ]
    assert {e["action"] for e in entries} == actions
    for entry in entries:
        assert entry.get("actor") is None and entry.get("ip") is None, entry
        assert entry.get("request") in (None, "***"), entry
        assert "after" not in entry and not entry.get("correlation_id"), entry
        assert not isinstance(entry["_id"], ObjectId), entry
        for key in ("at", "finished_at"):
            moment = entry.get(key)
            if moment is not None:  # no finer than the month
                assert (moment.day, moment.hour, moment.minute, moment.second) == (
                    1,
                    0,
                    0,
                    0,
                ), entry


def test_keys_are_recomputable_only_with_the_node_secret(reported):
    store = reported["dump"]
    (where,) = [w for w in store if w.endswith(".practice_keys")]
    stored = [doc["_id"] for doc in store[where]]
    assert all(set(doc) == {"_id"} for doc in store[where])
    period = next(
        doc["period"]
        for w, docs in store.items()
        if w.endswith(".practice_boxes")
        for doc in docs
    )
    secret = PRACTICE_KEY.encode()
    with_secret = {report_key(secret, a["sub"], period) for a in reported["accounts"]}
    assert set(stored) == with_secret  # the scheme is what the docstring says
    guesses = set()
    for a in reported["accounts"]:
        for who in (a["sub"], a["username"]):
            for text in (
                who,
                f"{period}{who}",
                f"practice\0{period}\0{who}",
                f"{who}|{period}",
                f"{period}|{who}",
            ):
                raw = text.encode()
                guesses |= {
                    hashlib.sha256(raw).hexdigest(),
                    hashlib.sha1(raw).hexdigest(),
                    hashlib.md5(raw).hexdigest(),
                    hmac.new(b"", raw, hashlib.sha256).hexdigest(),
                    hmac.new(period.encode(), raw, hashlib.sha256).hexdigest(),
                }
    assert not guesses & set(stored)
    every_leaf = {str(x) for docs in store.values() for d in docs for x in leaves(d)}
    assert not guesses & every_leaf


def test_the_stored_order_of_reports_says_nothing_of_the_order_of_reporting(reported):
    store = reported["dump"]
    (where,) = [w for w in store if w.endswith(".practice_boxes")]
    stored = [r["caseload"] for box in store[where] for r in box["reports"]]
    assert sorted(stored) == CASELOADS
    # 8 reports: the order they came in (that of keys and log) comes back
    # by chance once in 40,320 runs
    assert stored != CASELOADS
    assert stored != CASELOADS[::-1]
