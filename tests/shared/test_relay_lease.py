"""Two instances of one service side by side: they compete for its events (each
applied once) and only the holder of the relay lease publishes its outbox; when
the holder is killed with SIGKILL the other's relay takes over."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from kombu import Connection, Exchange, Queue
from pymongo import MongoClient

from shared.consumer import EventConsumer, apply_batch, declare_consumer_queues
from shared.outbox import LEASES, RELAY_LEASE, Outbox
from shared.store import Store
from tests.conftest import BROKER
from tests.shared.services import THING_MADE, _count
from tests.shared.test_outbox_consumer import _outbox_rows, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
LEASE_SECONDS = 3


class Twin:
    """Publishes its outbox and consumes what it publishes (two run at once)."""

    name = "twin"
    store = Store()
    outbox = Outbox()

    @EventConsumer.decorator((THING_MADE,), batch_size=100)
    def count(self, batch):
        return apply_batch(self, _count, batch)


def _event_ids(rows) -> list[str]:
    return [
        e["event_id"] for row in rows for e in row.get("events", [row.get("envelope")])
    ]


def test_only_the_lease_holder_publishes_and_the_other_instance_takes_over_its_sigkill(
    amqp_uri, vhost, store_uri, db_prefix, tmp_path
):
    total, chunk = 4_000, 100
    client = MongoClient(store_uri)
    db = client[f"{db_prefix}twin"]
    outbox, counts, leases = db[Store.OUTBOX], db.counts, db[LEASES]
    # Every publish of the events, duplicates included, lands in this audit queue.
    with Connection(amqp_uri) as conn:
        Queue(
            "audit",
            exchange=Exchange("maillage.events", type="topic", durable=True),
            routing_key=THING_MADE,
            durable=True,
        )(conn.default_channel).declare()
    declare_consumer_queues(amqp_uri, [Twin])
    env = dict(
        os.environ,
        AMQP_URI=amqp_uri,
        MONGODB_URI=store_uri,
        DB_PREFIX=db_prefix,
        RELAY_LEASE_SECONDS=str(LEASE_SECONDS),
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )

    def run_twin(n: int) -> subprocess.Popen:
        log = open(tmp_path / f"twin-{n}.log", "wb")  # noqa: SIM115
        return subprocess.Popen(
            [sys.executable, "-m", "nameko", "run", "--config"]
            + [
                str(ROOT / "deploy" / "config.yaml"),
                "tests.shared.test_relay_lease:Twin",
            ],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def logs() -> str:
        return "\n".join(
            f"--- {path.name}\n" + path.read_text(errors="replace")[-3000:]
            for path in sorted(tmp_path.glob("twin-*.log"))
        )

    def holder_pid() -> int | None:
        lease = leases.find_one({"_id": RELAY_LEASE})
        return int(lease["holder"].split(":")[1]) if lease else None

    twins = {p.pid: p for p in (run_twin(1), run_twin(2))}
    produced = []

    def produce():
        for start in range(0, total, chunk):
            rows = _outbox_rows(start, chunk)
            outbox.insert_many(rows)
            produced.extend(_event_ids(rows))
            time.sleep(0.1)

    producer = threading.Thread(target=produce)
    try:
        assert wait_for(lambda: holder_pid() in twins, timeout=60), logs()
        assert wait_for(
            lambda: BROKER.get("queues", vhost, "twin.count").get("consumers") == 2,
            timeout=60,
        ), logs()
        producer.start()
        assert wait_for(lambda: counts.count_documents({}) >= total * 0.3, timeout=120)
        holder = holder_pid()
        os.kill(holder, signal.SIGKILL)  # mid-stream, lease held, batches in flight
        assert twins.pop(holder).wait(timeout=30) == -signal.SIGKILL
        (survivor,) = twins
        # What the dead holder may have published without marking it sent.
        unsent_at_kill = set(_event_ids(outbox.find({"sent": False})))
        assert wait_for(lambda: holder_pid() == survivor, timeout=LEASE_SECONDS * 5)
        producer.join()
        assert wait_for(
            lambda: counts.count_documents({}) == total, timeout=180, interval=0.5
        ), f"{counts.count_documents({})} of {total} applied\n{logs()}"
        assert wait_for(lambda: outbox.count_documents({"sent": False}) == 0)
        assert {doc["n"] for doc in counts.find({}, {"n": 1})} == {1}, (
            "an effect was applied twice"
        )
    finally:
        producer.join()
        for process in twins.values():
            process.terminate()
            process.wait(timeout=30)

    published: collections.Counter[str] = collections.Counter()
    with Connection(amqp_uri) as conn:
        audit = Queue("audit", channel=conn.default_channel)
        while (message := audit.get(no_ack=True)) is not None:
            published[message.properties["message_id"]] += 1
    assert set(published) == set(produced), "an event was never published"
    twice = {event_id for event_id, n in published.items() if n > 1}
    # Only the dead holder's last batch may go out again; two relays at once would
    # have published events already marked sent before the kill.
    assert twice <= unsent_at_kill, sorted(twice - unsent_at_kill)[:5]
    assert len(twice) <= Outbox().batch_size
