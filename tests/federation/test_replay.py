"""Replay from the sender's journal to a peer linked after the events were shared.

The MRC node runs alone while 20 approved indicator tables (agreed with the
region) and 3 adopted minutes (agreed with another peer only) are published: no
link to the region exists yet, so nothing reaches it live. Then the region
applies its link and the MRC replays its journal to it.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ServiceRpcProxy
from pymongo import MongoClient

from services.federation import metrics, service
from services.federation.events import EVENT_RECEIVED
from services.federation.management import wait_for_links
from shared.broker import BatchPublisher
from shared.cli import main
from shared.envelope import Envelope
from tests.conftest import AMQP_HOST
from tests.federation.helpers import (
    APPROVED,
    agreement,
    approved,
    config,
    config_dict,
    identity,
    start_node,
    wait,
)

pytestmark = [pytest.mark.federation, pytest.mark.integration]

MINUTES = "boards.minutes_adopted"


@pytest.fixture
def late_region(tmp_path, vhost, second_broker, store_uri, db_prefix):
    mrc, region = identity(tmp_path, "mrc-66023"), identity(tmp_path, "region-06")
    sante = identity(tmp_path, "sante-06")
    a_uri = f"amqp://guest:guest@{AMQP_HOST}/{vhost}"
    b_vhost = second_broker.add_vhost()
    b_uri = second_broker.amqp_uri(b_vhost)
    a = config_dict(
        mrc,
        [(region, None), (sante, None)],
        [
            agreement("region-06", "out"),
            agreement(
                "sante-06",
                "out",
                types=[{"type": MINUTES, "fields": ["text"]}],
                aggregates_only=False,
            ),
        ],
        amqp_uri=a_uri,
        vhost=vhost,
    )
    # The region would forward what it receives back (a loop, if it were
    # journaled or shared): its own federation.event_received must not be.
    b = config_dict(
        region,
        [(mrc, a_uri)],
        [
            agreement("mrc-66023", "in"),
            agreement(
                "mrc-66023",
                "out",
                types=[{"type": EVENT_RECEIVED, "fields": ["peer", "event"]}],
                aggregates_only=False,
            ),
        ],
        role="coordinator",
        amqp_uri=b_uri,
        management_url=second_broker.mgmt_url,
        vhost=b_vhost,
    )
    client = MongoClient(store_uri)
    a_db = client[f"{db_prefix}a_federation"]
    b_db = client[f"{db_prefix}b_federation"]
    containers = []
    container, a_path = start_node(tmp_path, "a", a, a_uri, store_uri, db_prefix)
    containers.append(container)

    events = [
        Envelope(
            APPROVED, approved([{"org_unit": "csd:2466023", "count": 40 + i}]), "x"
        )
        for i in range(20)
    ] + [Envelope(MINUTES, {"text": f"séance {i}"}, "x") for i in range(3)]
    publisher = BatchPublisher(a_uri)
    publisher.connect()
    publisher.publish_batch([e.to_dict() for e in events])
    publisher.close()
    assert wait(lambda: a_db.journal.count_documents({}) == 23)

    def link_region():
        container, _ = start_node(tmp_path, "b", b, b_uri, store_uri, db_prefix)
        containers.append(container)
        wait_for_links(config(b))

    yield {
        "a_uri": a_uri,
        "a_path": a_path,
        "a_db": a_db,
        "b_db": b_db,
        "events": events,
        "link_region": link_region,
    }
    for container in containers:
        container.stop()
    client.close()


def _duplicates() -> float:
    return metrics.DUPLICATES.labels("mrc-66023")._value.get()


def test_replay_delivers_history_once_to_a_peer_linked_later(
    late_region, capsys, monkeypatch
):
    monkeypatch.setattr(service, "REPLAY_BATCH", 7)  # 23 journaled: 4 batches
    a_db, b_db = late_region["a_db"], late_region["b_db"]
    journal = list(a_db.journal.find().sort("_id", 1))
    assert [d["_id"] for d in journal] == sorted(
        e.event_id for e in late_region["events"]
    )
    by_id = {e.event_id: e.to_dict() for e in late_region["events"]}
    assert all(d["envelope"] == by_id[d["_id"]] for d in journal)  # as published
    late_region["link_region"]()
    time.sleep(1)
    assert b_db.received.count_documents({}) == 0  # nothing came live

    with ServiceRpcProxy("federation", {"AMQP_URI": late_region["a_uri"]}) as proxy:
        assert proxy.replay("region-06", "2026-01-01") == {"sent": 20, "withheld": 3}
    assert wait(lambda: b_db.received.count_documents({}) == 20)
    approved_ids = {
        e.event_id for e in late_region["events"] if e.event_type == APPROVED
    }
    assert {d["envelope"]["event_id"] for d in b_db.received.find()} == approved_ids
    assert {d["_id"] for d in b_db.received.find()} == {
        f"mrc-66023:{i}" for i in approved_ids
    }

    # Again, through the CLI: sent again, each one a duplicate at the region.
    before = _duplicates()
    args = ["federation", "replay", "--config", str(late_region["a_path"])]
    assert main([*args, "--peer", "region-06", "--since", "2026-01-01"]) == 0
    assert "20 envoyés / sent, 3 retenus / withheld" in capsys.readouterr().out
    assert wait(lambda: _duplicates() - before == 20)
    assert b_db.received.count_documents({}) == 20

    # The region's own federation.event_received (agreed out) is neither
    # journaled nor sent back: received events never enter the journal.
    assert wait(
        lambda: (
            b_db.processed_events.count_documents({"event_type": EVENT_RECEIVED}) == 20
        )
    )
    assert b_db.journal.count_documents({}) == 0
    assert a_db.received.count_documents({}) == 0


def test_replay_window_and_bad_requests(late_region, capsys):
    uri = late_region["a_uri"]
    with ServiceRpcProxy("federation", {"AMQP_URI": uri}) as proxy:
        # All 23 were made today: a window ending yesterday holds none of them.
        yesterday = (datetime.now(UTC) - timedelta(days=1)).date()
        month_before = (yesterday - timedelta(days=30)).isoformat()
        assert proxy.replay("region-06", month_before, yesterday.isoformat()) == {
            "sent": 0,
            "withheld": 0,
        }
        assert proxy.replay("sante-06", "2026-01-01T00:00:00Z") == {
            "sent": 3,
            "withheld": 20,
        }
        with pytest.raises(RemoteError) as unknown:
            proxy.replay("region-99", "2026-01-01")
        assert unknown.value.exc_type == "Invalid"
        assert 'field "peer": unknown peer' in unknown.value.value
        assert "region-99" in unknown.value.value
        with pytest.raises(RemoteError) as bad:
            proxy.replay("region-06", "01/01/2026")
        assert 'field "since"' in bad.value.value
        with pytest.raises(RemoteError) as backwards:
            proxy.replay("region-06", "2026-06-01", "2026-01-01")
        assert 'field "until"' in backwards.value.value

    args = ["federation", "replay", "--config", str(late_region["a_path"])]
    assert main([*args, "--peer", "region-06", "--since", "hier"]) == 1
    err = capsys.readouterr().err
    assert "champ « since » : date ou date-heure ISO attendue" in err
    assert 'field "since": ISO date or datetime expected' in err
    assert main([*args, "--peer", "region-99", "--since", "2026-01-01"]) == 1
    err = capsys.readouterr().err
    assert "pair inconnu" in err and "unknown peer 'region-99'" in err
