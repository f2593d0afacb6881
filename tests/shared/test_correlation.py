"""The gateway's correlation id travels through RPC into the events a call causes."""

from __future__ import annotations

import time

import pytest
from nameko.containers import ServiceContainer
from pymongo import MongoClient
from werkzeug.test import Client

from gateway.api import Api
from gateway.app import Gateway
from tests.shared.services import Producer

pytestmark = pytest.mark.integration


def test_correlation_id_from_http_reaches_the_outbox_envelope(
    amqp_uri, store_uri, db_prefix
):
    config = {"AMQP_URI": amqp_uri, "MONGODB_URI": store_uri, "DB_PREFIX": db_prefix}
    api = Api()

    @api.route(
        "/things", methods=("POST",), action="things.create", public=True, status=201
    )
    def create(ctx):
        ctx.rpc("producer", "emit", 0, 2)
        return {"ok": True}

    container = ServiceContainer(Producer, config)
    container.start()
    try:
        http = Client(Gateway(dict(config, NODE_ID="t", RPC_TIMEOUT=10), api))
        response = http.post("/things", headers={"X-Correlation-Id": "req-42"})
        assert response.status_code == 201
        assert response.headers["X-Correlation-Id"] == "req-42"
        outbox = MongoClient(store_uri)[f"{db_prefix}producer"].outbox
        deadline = time.monotonic() + 10
        while outbox.count_documents({}) == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        (row,) = list(outbox.find())
        assert [e["correlation_id"] for e in row["events"]] == ["req-42", "req-42"]
    finally:
        container.stop()


def test_a_request_without_correlation_id_gets_one(amqp_uri, store_uri):
    http = Client(Gateway({"AMQP_URI": amqp_uri, "MONGODB_URI": store_uri}, Api()))
    first = http.get("/openapi.json").headers["X-Correlation-Id"]
    second = http.get("/openapi.json").headers["X-Correlation-Id"]
    assert first and second and first != second
