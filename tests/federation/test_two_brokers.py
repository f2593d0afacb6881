"""Two real RabbitMQ brokers federated by the node configs.

Node A, ``mrc-66023``, is a vhost on the machine's broker; node B, ``region-06``
(the regional coordinator), is a vhost on a second RabbitMQ node started for
the run. B pulls from A's exchange ``maillage.federation.to.region-06`` through
a federation upstream set by :func:`management.apply`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from kombu import Connection, Exchange, Producer
from prometheus_client import REGISTRY
from pymongo import MongoClient

from services.federation.domain import NodeConfig
from services.federation.identity import NodeIdentity
from services.federation.management import apply, status, wait_for_links
from services.federation.repository import FederationRepository
from services.federation.topology import INBOX, outgoing_exchange
from services.federation.transport import FederationPublisher, Inbound
from shared.envelope import Envelope, utcnow
from shared.signing import verify_mapping
from tests.conftest import AMQP_HOST
from tests.federation.helpers import (  # under agreements their board adopted
    APPROVED,
    MONTREAL,
    agreement,
    approved,
    config,
    config_dict,
    identity,
    prepare_outgoing,
    signed_for,
)

pytestmark = [pytest.mark.federation, pytest.mark.integration]

RESULTS = "participation.results_published"


@dataclass
class Pair:
    mrc: NodeIdentity
    region: NodeIdentity
    a: NodeConfig
    b: NodeConfig
    a_uri: str
    b_uri: str
    repo: FederationRepository
    inbound: Inbound
    publisher: FederationPublisher


def _wait(predicate: Callable[[], Any], timeout: float = 30.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def pair(tmp_path, vhost, second_broker, store_uri, db_prefix):
    mrc, region = identity(tmp_path, "mrc-66023"), identity(tmp_path, "region-06")
    b_vhost = second_broker.add_vhost()
    a_uri = f"amqp://guest:guest@{AMQP_HOST}/{vhost}"
    b_uri = second_broker.amqp_uri(b_vhost)
    a = config(
        config_dict(
            mrc,
            [(region, None)],
            [agreement("region-06", "out")],
            amqp_uri=a_uri,
            vhost=vhost,
        )
    )
    expired = agreement(
        "mrc-66023",
        "in",
        id="old-results",
        valid_until="2026-01-31",
        types=[{"type": RESULTS, "fields": ["vote"]}],
        aggregates_only=False,
    )
    b = config(
        config_dict(
            region,
            [(mrc, a_uri)],
            [agreement("mrc-66023", "in"), expired],
            role="coordinator",
            amqp_uri=b_uri,
            management_url=second_broker.mgmt_url,
            vhost=b_vhost,
        )
    )
    apply(a)
    apply(b)
    wait_for_links(b)
    _wait(lambda: status(a)[0]["waiting"] is not None, what="upstream queue on A")
    client = MongoClient(store_uri)
    repo = FederationRepository(client[f"{db_prefix}federation_region"])
    publisher = FederationPublisher(a_uri)
    yield Pair(mrc, region, a, b, a_uri, b_uri, repo, Inbound(b, repo), publisher)
    publisher.close()
    client.close()


def _inbox_bodies(uri: str, expect: int, timeout: float = 30.0) -> list[bytes]:
    """Take ``expect`` raw messages from B's inbox, exactly as B's broker got them."""
    bodies: list[bytes] = []
    deadline = time.monotonic() + timeout
    with Connection(uri) as conn:
        channel = conn.channel()
        while len(bodies) < expect and time.monotonic() < deadline:
            message = channel.basic_get(INBOX, no_ack=True)
            if message is None:
                time.sleep(0.05)
                continue
            body = message.body
            bodies.append(body.encode() if isinstance(body, str) else bytes(body))
    assert len(bodies) == expect, f"{len(bodies)} of {expect} messages arrived"
    return bodies


def _inbox_depth(uri: str) -> int:
    with Connection(uri) as conn:
        _, count, _ = conn.channel().queue_declare(INBOX, passive=True)
        return int(count)


def _publish_raw(uri: str, data: dict[str, Any]) -> None:
    """What a compromised or misconfigured upstream could put on the link."""
    with Connection(uri, transport_options={"confirm_publish": True}) as conn:
        exchange = Exchange(outgoing_exchange("region-06"), type="topic", durable=True)
        Producer(conn.channel()).publish(
            json.dumps(data), exchange=exchange, routing_key=data.get("event_type", "x")
        )


def _send(pair: Pair, payload: dict[str, Any]) -> Envelope:
    local = Envelope(APPROVED, payload, "mrc-66023")
    sent, withheld = prepare_outgoing(local, pair.a, pair.mrc.private_key, utcnow())
    assert withheld == []
    for outgoing in sent:
        pair.publisher.publish(outgoing)
    return local


def _count(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


CELLS = [
    {"org_unit": "csd:2466023", "sex": "F", "count": 40, "name": "Tremblay"},
    {"org_unit": "csd:2466023", "sex": "M", "count": 31},
    {"org_unit": "csd:2466032", "sex": "F", "count": 3},
    {"org_unit": "csd:2466032", "sex": "M", "count": 12},
]


def test_agreed_event_reaches_the_peer_signed_and_verified_without_other_fields(pair):
    local = _send(pair, approved(CELLS, author="j.tremblay@cisss.example"))
    (body,) = _inbox_bodies(pair.b_uri, 1)
    assert b"j.tremblay" not in body and b"Tremblay" not in body
    data = json.loads(body)
    assert data["event_id"] == local.event_id
    assert set(data["payload"]) == {"indicator", "period", "cells"}
    assert verify_mapping(data, pair.b.peers["mrc-66023"].public_key)
    outcome = pair.inbound.handle(body)
    assert outcome.status == "applied"
    (stored,) = pair.repo.received("mrc-66023")
    assert stored["envelope"]["event_id"] == local.event_id


def test_suppressed_cell_never_reaches_the_peer_broker(pair):
    _send(pair, approved(CELLS))
    (body,) = _inbox_bodies(pair.b_uri, 1)
    cells = json.loads(body)["payload"]["cells"]
    small = [c for c in cells if c["org_unit"] == "csd:2466032"]
    assert small == [
        {"org_unit": "csd:2466032", "sex": "F", "suppressed": True},
        {"org_unit": "csd:2466032", "sex": "M", "suppressed": True},
    ]
    assert [c["count"] for c in cells if "count" in c] == [40, 31]


def test_forged_unknown_expired_and_unagreed_messages_are_rejected_and_counted(
    pair, tmp_path
):
    mrc = pair.mrc
    good = Envelope(
        APPROVED, approved([{"org_unit": "csd:2466023", "count": 9}]), mrc.node_id
    )
    signed = signed_for(mrc, good.to_dict(), "region-06")
    forged = dict(signed, payload=approved([{"org_unit": "csd:2466023", "count": 900}]))
    stranger = identity(tmp_path / "x", "mrc-99999")
    unknown = signed_for(
        stranger,
        Envelope(APPROVED, approved([]), stranger.node_id).to_dict(),
        "region-06",
    )
    expired = signed_for(
        mrc,
        Envelope(RESULTS, {"vote": "v1"}, mrc.node_id).to_dict(),
        "region-06",
        "old-results",
    )
    unagreed = signed_for(
        mrc,
        Envelope("boards.minutes_adopted", {"x": 1}, mrc.node_id).to_dict(),
        "region-06",
    )
    cases = [
        ("bad_signature", "mrc-66023", forged),
        ("unknown_peer", "unknown", unknown),
        ("agreement_expired", "mrc-66023", expired),
        ("type_not_agreed", "mrc-66023", unagreed),
    ]
    name = "maillage_federation_rejected_total"
    before = {r: _count(name, reason=r, peer=p) for r, p, _ in cases}
    for _, _, data in cases:
        _publish_raw(pair.a_uri, data)
    bodies = _inbox_bodies(pair.b_uri, len(cases))
    outcomes = [pair.inbound.handle(body) for body in bodies]
    assert [o.status for o in outcomes] == ["rejected"] * 4
    assert [o.reason.value for o in outcomes] == [r for r, _, _ in cases]
    for reason, peer, _ in cases:
        assert _count(name, reason=reason, peer=peer) == before[reason] + 1
    assert pair.repo.count_received() == 0
    assert [r["reason"] for r in pair.repo.rejections()] == [r for r, _, _ in cases]


def test_values_for_another_mrc_or_signed_for_another_node_are_refused_on_arrival(
    pair,
):
    """mrc-66023 (cd:2466) sends, through its real sending path, values for a
    town of La Côte-de-Gaspé; and an event it signed for sante-06 is put on the
    link to region-06, as a node that got it could pass it on."""
    _send(pair, approved([{"org_unit": "csd:2403005", "count": 40}]))
    local = Envelope(
        APPROVED, approved([{"org_unit": MONTREAL, "count": 40}]), "mrc-66023"
    )
    forwarded = signed_for(
        pair.mrc, local.to_dict(), "sante-06", "mrc-66023-to-region-06"
    )
    _publish_raw(pair.a_uri, forwarded)
    bodies = _inbox_bodies(pair.b_uri, 2)
    outcomes = [pair.inbound.handle(body) for body in bodies]
    assert sorted(o.reason.value for o in outcomes) == [
        "outside_territory",
        "wrong_recipient",
    ]
    assert pair.repo.count_received() == 0
    assert len(pair.repo.rejections()) == 2


@pytest.mark.slow
def test_link_cut_while_1000_events_are_produced_then_restored_all_arrive_once(
    pair, second_broker
):
    second_broker.stop()  # B's broker, which pulls from A: the link is cut
    sent = [
        _send(pair, approved([{"org_unit": "csd:2466023", "count": 10 + i}]))
        for i in range(1000)
    ]
    # A holds them in the durable upstream queue while the link is down.
    # (the management API refreshes queue figures every few seconds)
    _wait(lambda: status(pair.a)[0]["waiting"] == 1000, 20, "1000 waiting on A")
    second_broker.start()
    wait_for_links(pair.b, timeout=60)
    bodies = _inbox_bodies(pair.b_uri, 1000, timeout=60)
    time.sleep(1)
    assert _inbox_depth(pair.b_uri) == 0  # and no copy came after
    outcomes = [pair.inbound.handle(body) for body in bodies]
    assert [o.status for o in outcomes].count("applied") == 1000
    ids = {s["envelope"]["event_id"] for s in pair.repo.received("mrc-66023")}
    assert ids == {e.event_id for e in sent}
    # A redelivery (e.g. the relay crashed before its ack) has no second effect.
    again = [pair.inbound.handle(body) for body in bodies[:25]]
    assert {o.status for o in again} == {"duplicate"}
    assert pair.repo.count_received("mrc-66023") == 1000
    _wait(lambda: status(pair.a)[0]["waiting"] == 0, 20, "nothing left on A")
