"""Batches: one signature over many events, each event still verifiable alone.

Gaspésie again: ``mrc-2402`` (Le Rocher-Percé) sends to the coordinator
``region-11``; ``sante-11`` also trusts ``mrc-2402`` under the same agreement id.
"""

from __future__ import annotations

import json

import pytest
import yaml
from nameko.containers import ServiceContainer
from nameko.testing.services import entrypoint_hook
from prometheus_client import REGISTRY
from pymongo import MongoClient

from services.federation import domain
from services.federation.domain import Reason
from services.federation.service import FederationService
from shared.envelope import Envelope, utcnow
from shared.signing import BATCH_TYPE, unpack_batch
from tests.federation.helpers import (
    APPROVED,
    adoptions,
    agreement,
    check_incoming,
    config,
    config_dict,
    identity,
)

SHARED_ID = "mrc-2402-indicateurs"
RULE = {
    "type": APPROVED,
    "fields": ["indicator", "period", "cells"],
    "cell_fields": ["org_unit"],
    "count_fields": ["count"],
}


def _agreement(peer: str, direction: str) -> dict:
    return agreement(peer, direction, id=SHARED_ID, types=[RULE])


@pytest.fixture
def nodes(tmp_path):
    mrc, region, sante = (
        identity(tmp_path, n) for n in ("mrc-2402", "region-11", "sante-11")
    )
    sender = config(
        config_dict(
            mrc, [(region, None), (sante, None)], [_agreement("region-11", "out")]
        )
    )

    def receiver(me):
        return config_dict(
            me,
            [(mrc, None)],
            [_agreement("mrc-2402", "in")],
            role="coordinator",
        )

    return mrc, sender, receiver(region), receiver(sante)


def _events(n: int) -> list[Envelope]:
    return [
        Envelope(
            APPROVED,
            {
                "indicator": "home_interventions",
                "period": "2026Q3",
                "cells": [{"org_unit": "cd:2402", "count": 40 + i}],
            },
            "mrc-2402",
        )
        for i in range(n)
    ]


def _batch(mrc, sender, events: list[Envelope]) -> dict:
    """The events as one batch message."""
    (out,), withheld = domain.prepare_batches(
        events,
        sender,
        mrc.private_key,
        utcnow(),
        adopted=adoptions(sender),
        as_messages=True,
    )
    assert withheld == []
    return out.data


def _live(mrc, sender, events: list[Envelope]) -> list[dict]:
    """The events as live sharing sends them: one message each, one signature."""
    out, withheld = domain.prepare_batches(
        events, sender, mrc.private_key, utcnow(), adopted=adoptions(sender)
    )
    assert withheld == [] and len(out) == len(events)
    return [o.data for o in out]


def _count(reason: str, peer: str) -> float:
    labels = {"reason": reason, "peer": peer}
    return REGISTRY.get_sample_value("maillage_federation_rejected_total", labels) or 0


@pytest.fixture
def receive(tmp_path, amqp_uri, store_uri, db_prefix):
    """Hand raw bodies to a running coordinator's ``receive``; its store's db."""
    started = []

    def run(node: dict, bodies: list[str]) -> int:
        path = tmp_path / f"{node['node']['id']}.yaml"
        path.write_text(yaml.safe_dump(node))
        container = ServiceContainer(
            FederationService,
            {
                "AMQP_URI": amqp_uri,
                "MONGODB_URI": store_uri,
                "DB_PREFIX": db_prefix,
                "NODE_ID": node["node"]["id"],
                "NODE_CONFIG": str(path),
            },
        )
        container.start()
        started.append(container)
        try:
            with entrypoint_hook(container, "receive") as hook:
                return hook(bodies)
        finally:
            container.stop()

    client = MongoClient(store_uri)
    yield run, client[f"{db_prefix}federation"]
    client.close()


def test_a_batch_carries_many_events_under_one_signature_for_one_recipient(nodes):
    mrc, sender, region, _ = nodes
    message = _batch(mrc, sender, _events(5))
    assert message["event_type"] == BATCH_TYPE
    assert message["batch_count"] == 5 and len(message["envelopes"]) == 5
    assert (message["recipient"], message["agreement_id"]) == ("region-11", SHARED_ID)
    assert message["signature_version"] == 2
    assert not any(e.get("signature") for e in message["envelopes"])
    verified: set = set()
    receiver = config(region)
    verdicts = [
        domain.check_incoming(e, receiver, utcnow(), None, verified)
        for e in unpack_batch(message)
    ]
    assert [v.accepted for v in verdicts] == [True] * 5
    assert len(verified) == 1  # one Ed25519 verification for the whole batch


def test_one_event_of_a_batch_replayed_alone_still_verifies(nodes, receive):
    mrc, sender, region, _ = nodes
    events = _events(7)
    run, db = receive
    assert run(region, [json.dumps(_batch(mrc, sender, events))]) == 7
    stored = db.received.find_one({"_id": f"mrc-2402:{events[3].event_id}"})
    alone = stored["envelope"]  # as kept by the coordinator, with its batch_proof
    assert alone["batch_proof"]["count"] == 7 and alone["batch_proof"]["index"] == 3
    assert check_incoming(json.loads(json.dumps(alone)), config(region), utcnow())
    # replayed alone to a node that lost it, it is verified and applied once
    db.received.delete_one({"_id": stored["_id"]})
    assert run(region, [json.dumps(alone)]) == 1
    assert run(region, [json.dumps(alone)]) == 0  # a second copy is a duplicate
    assert db.received.count_documents({}) == 7
    # and its payload cannot be changed on the way
    forged = json.loads(json.dumps(alone))
    forged["payload"]["cells"][0]["count"] = 999
    verdict = check_incoming(forged, config(region), utcnow())
    assert (verdict.accepted, verdict.reason) == (False, Reason.BAD_SIGNATURE)


def test_a_batch_whose_one_envelope_was_altered_is_refused_whole_and_counted(
    nodes, receive
):
    mrc, sender, region, _ = nodes
    message = _batch(mrc, sender, _events(4))
    message["envelopes"][2]["payload"]["cells"][0]["count"] = 7  # one value changed
    live = _live(mrc, sender, _events(4))
    assert len({m["batch_proof"]["signature"] for m in live}) == 1
    live[2]["payload"]["cells"][0]["count"] = 7
    before = _count("bad_signature", "mrc-2402")
    run, db = receive
    assert run(region, [json.dumps(m) for m in live]) == 0  # sent one by one
    assert db.received.count_documents({}) == 0
    (rejected,) = db.rejected.find()
    assert (rejected["reason"], rejected["events"]) == ("bad_signature", 4)
    assert _count("bad_signature", "mrc-2402") == before + 4
    db.rejected.delete_many({})
    db.outbox.delete_many({})
    assert run(region, [json.dumps(message)]) == 0  # or as one batch message
    assert db.received.count_documents({}) == 0  # not even the three untouched
    (rejected,) = db.rejected.find()
    assert (rejected["reason"], rejected["peer"]) == ("bad_signature", "mrc-2402")
    assert rejected["events"] == 4
    assert "batch of 4 refused (bad_signature)" in rejected["detail"]
    assert "lot de 4 refusé (bad_signature)" in rejected["detail"]
    assert _count("bad_signature", "mrc-2402") == before + 8
    (announced,) = db.outbox.find()
    assert announced["envelope"]["event_type"] == "federation.event_rejected"


def test_an_event_moved_into_another_batch_is_refused_with_that_batch(nodes):
    mrc, sender, region, _ = nodes
    first, second = _batch(mrc, sender, _events(3)), _batch(mrc, sender, _events(3))
    first["envelopes"][0] = second["envelopes"][0]
    verdicts = [
        check_incoming(e, config(region), utcnow()) for e in unpack_batch(first)
    ]
    assert {v.reason for v in verdicts} == {Reason.BAD_SIGNATURE}


def test_a_batch_signed_for_another_recipient_is_refused(nodes, receive):
    """region-11 got a batch of mrc-2402's; it passes it on to sante-11, who
    trusts mrc-2402 under the same agreement id: refused, and readdressing it
    breaks the signature."""
    mrc, sender, _, sante = nodes
    message = _batch(mrc, sender, _events(3))
    before = _count("wrong_recipient", "mrc-2402")
    run, db = receive
    assert run(sante, [json.dumps(message)]) == 0
    assert db.received.count_documents({}) == 0
    assert {d["reason"] for d in db.rejected.find()} == {"wrong_recipient"}
    assert _count("wrong_recipient", "mrc-2402") == before + 3
    readdressed = dict(message, recipient="sante-11")
    for e in readdressed["envelopes"]:
        e["recipient"] = "sante-11"
    verdicts = [
        check_incoming(e, config(sante), utcnow()) for e in unpack_batch(readdressed)
    ]
    assert {v.reason for v in verdicts} == {Reason.BAD_SIGNATURE}
