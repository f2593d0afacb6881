"""Federation lag: publish at an MRC node to application at the coordinator.

Two real brokers: the MRC node ``mrc-66023`` is a vhost on the machine's broker,
the coordinator ``region-06`` a vhost on an extra RabbitMQ node started here,
federated by ``maillage federation apply``'s plan. Both federation services run
as ``nameko run`` processes, as in a node, on a local SecantusDB store.

- ``maillage``: local envelopes published on the MRC's events exchange (as the
  outbox relay does) at a steady rate; the MRC's federation service projects,
  suppresses, signs and publishes them; the coordinator's service verifies,
  de-duplicates and applies them (its store transaction). Lag = the
  coordinator's ``received_at`` minus the envelope's ``occurred_at``.
- ``raw federation``: the baseline in the same run, over the same link with the
  services stopped: unsigned messages published on the MRC's federated exchange
  and read from the coordinator's inbox queue by a plain consumer.

``MAILLAGE_BENCH_FEDERATION_SECONDS`` (default 60) and ``..._RATE`` (500/s);
a third row runs the project path at ``..._SUSTAINED`` (150/s) for half as
long, to show the lag when the pipeline keeps up on this machine.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from statistics import quantiles
from typing import Any

import yaml
from kombu import Connection, Consumer, Queue
from pymongo import MongoClient

from services.federation.domain import adoption_key, agreement_digest
from services.federation.identity import init_identity
from services.federation.localbroker import LocalBroker
from services.federation.management import apply, wait_for_links
from services.federation.schemas import load_config
from services.federation.topology import INBOX, outgoing_exchange
from shared.broker import BatchPublisher
from shared.envelope import Envelope
from shared.localstore import LocalStore
from shared.rabbitadmin import BrokerAdmin

ROOT = Path(__file__).resolve().parent.parent
MAIN_AMQP = os.environ.get("MAILLAGE_BENCH_AMQP_HOST", "127.0.0.1:5672")
MAIN_API = os.environ.get("MAILLAGE_BENCH_RABBIT_API", "127.0.0.1:15672")
SECONDS = float(os.environ.get("MAILLAGE_BENCH_FEDERATION_SECONDS", "60"))
RATE = int(os.environ.get("MAILLAGE_BENCH_FEDERATION_RATE", "500"))
# A lower rate, for the lag when the pipeline keeps up (0: skip).
WARMUP = 100
SUSTAINED = int(os.environ.get("MAILLAGE_BENCH_FEDERATION_SUSTAINED", "150"))
TYPE = "indicators.values_approved"
RULE = {
    "type": TYPE,
    "fields": ["indicator", "period", "cells"],
    "cell_fields": ["org_unit", "sex"],
    "count_fields": ["count"],
}


def _agreement(peer: str, direction: str) -> dict[str, Any]:
    return {
        "id": "bench-indicateurs",  # an agreement has one id in both configs
        "peer": peer,
        "direction": direction,
        "event_types": [RULE],
        "aggregates_only": True,
        "suppression_threshold": 5,
        "valid_from": "2026-01-01",
    }


def _payload(i: int) -> dict[str, Any]:
    return {
        "indicator": "services-rendus",
        "period": "2026Q3",
        "author": "not shared",
        "cells": [
            {"org_unit": "csd:2466023", "sex": "F", "count": 40 + i % 7},
            {"org_unit": "csd:2466023", "sex": "M", "count": 31},
            {"org_unit": "csd:2466032", "sex": "F", "count": 3},
            {"org_unit": "csd:2466032", "sex": "M", "count": 12},
        ],
    }


def _paced(publish: Any, make: Any, seconds: float, rate: int) -> int:
    """Offer ``rate`` messages a second: every 10 ms, publish all that are due.

    When a confirm wait runs long, the next batch holds everything due since,
    so the offered rate stays steady instead of drifting down.
    """
    start = time.monotonic()
    total = int(seconds * rate)
    sent = 0
    while sent < total:
        due = min(total, int((time.monotonic() - start) * rate) + 1)
        if due <= sent:
            time.sleep(0.01)
            continue
        batch = [make(i) for i in range(sent, min(due, sent + 200))]
        publish(batch)
        sent += len(batch)
    return sent


def _wait_count(
    collection: Any, query: dict[str, Any], count: int, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while collection.count_documents(query) < count and time.monotonic() < deadline:
        time.sleep(0.5)


def _percentiles(lags_ms: list[float]) -> dict[str, Any]:
    cuts = quantiles(lags_ms, n=100, method="inclusive")
    return {
        "p50_ms": round(cuts[49], 1),
        "p99_ms": round(cuts[98], 1),
        "max_ms": round(max(lags_ms), 1),
    }


class _Bench:
    def __init__(self, base: Path) -> None:
        self.base = base
        self.broker = LocalBroker(base / "rabbit2")
        self.store = LocalStore(base / "store")
        self.vhost_a = f"bench-fed-{uuid.uuid4().hex[:8]}"
        self.services: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        self.broker.start()
        self.store.start()
        self.main = BrokerAdmin(f"http://guest:guest@{MAIN_API}/api")
        self.main.add_vhost(self.vhost_a)
        self.vhost_b = self.broker.add_vhost("bench-fed")
        self.a_uri = f"amqp://guest:guest@{MAIN_AMQP}/{self.vhost_a}"
        self.b_uri = self.broker.amqp_uri(self.vhost_b)
        keys = self.base / "keys"
        mrc = init_identity("mrc-66023", keys / "mrc-66023.ed25519")
        region = init_identity("region-06", keys / "region-06.ed25519")
        self.a_path = self._write(
            "a.yaml",
            mrc,
            region,
            None,
            "mrc",
            self.a_uri,
            f"http://guest:guest@{MAIN_API}/api",
            self.vhost_a,
            "out",
        )
        self.b_path = self._write(
            "b.yaml",
            region,
            mrc,
            self.a_uri,
            "coordinator",
            self.b_uri,
            self.broker.mgmt_url,
            self.vhost_b,
            "in",
        )
        apply(load_config(self.a_path))
        self.b_config = load_config(self.b_path)
        apply(self.b_config)
        wait_for_links(self.b_config)

    def _write(
        self,
        name: str,
        me: Any,
        peer: Any,
        upstream: str | None,
        role: str,
        amqp_uri: str,
        mgmt: str,
        vhost: str,
        direction: str,
    ) -> Path:
        node = {
            "id": me.node_id,
            "role": role,
            "territory": "06",
            "signing_key": str(me.key_path),
        }
        if role == "mrc":  # an MRC's board adopts its agreements (start_services)
            node["board"] = me.node_id
        data = {
            "node": node,
            "broker": {"amqp_uri": amqp_uri, "management_url": mgmt, "vhost": vhost},
            "peers": [
                {
                    "id": peer.node_id,
                    "public_key": peer.public_key_b64,
                    "upstream_uri": upstream,
                    "territory": "cd:2466"
                    if peer.node_id == "mrc-66023"
                    else "region:06",
                }
            ],
            "agreements": [_agreement(peer.node_id, direction)],
        }
        path = self.base / name
        path.write_text(yaml.safe_dump(data))
        return path

    def _adopt(self, tag: str) -> None:
        """Record that the MRC's board adopted its agreement as written (what
        ``boards.resolution_adopted`` leaves in the federation store)."""
        with MongoClient(self.store.uri) as client:
            db = client[f"bench_{tag}_a_federation"]
            for a in load_config(self.a_path).agreements:
                key = adoption_key(a.id, agreement_digest(a))
                db.adoptions.replace_one(
                    {"_id": key},
                    {"_id": key, "agreement_id": a.id, "digest": agreement_digest(a)},
                    upsert=True,
                )

    def start_services(self, tag: str) -> None:
        self._adopt(tag)
        for name, uri, path in (
            ("a", self.a_uri, self.a_path),
            ("b", self.b_uri, self.b_path),
        ):
            env = dict(
                os.environ,
                AMQP_URI=uri,
                MONGODB_URI=self.store.uri,
                DB_PREFIX=f"bench_{tag}_{name}_",
                NODE_CONFIG=str(path),
                NODE_ID=name,
                LOG_LEVEL="WARNING",
                METRICS_PORT="",
            )
            log = open(self.base / f"service-{name}.log", "ab")  # noqa: SIM115
            self.services.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "nameko",
                        "run",
                        "--config",
                        str(ROOT / "deploy" / "config.yaml"),
                        "services.federation.service",
                    ],
                    env=env,
                    cwd=ROOT,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        # the consumer queues exist once both services are up
        deadline = time.monotonic() + 60
        with Connection(self.a_uri) as conn:
            while time.monotonic() < deadline:
                try:
                    conn.channel().queue_declare("federation.share", passive=True)
                    break
                except Exception:
                    conn.close()
                    conn.connect()
                    time.sleep(0.3)

    def stop_services(self) -> None:
        for proc in self.services:
            proc.terminate()
        for proc in self.services:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.services = []

    def stop(self) -> None:
        self.stop_services()
        self.broker.stop()
        self.store.stop()
        self.main.delete_vhost(self.vhost_a)

    # --- the two paths ---------------------------------------------------------------

    def maillage(self, rate: int, seconds: float) -> dict[str, Any]:
        tag = f"r{rate}"
        self.start_services(tag)
        publisher = BatchPublisher(self.a_uri)
        publisher.connect()

        def make(i: int) -> dict[str, Any]:
            return Envelope(TYPE, _payload(i), "mrc-66023").to_dict()

        client = MongoClient(self.store.uri)
        received = client[f"bench_{tag}_b_federation"].received
        # Warm up (connections, first transactions) before measuring.
        warmup = [
            dict(make(i), payload=dict(_payload(i), period="warmup"))
            for i in range(WARMUP)
        ]
        publisher.publish_batch(warmup)
        _wait_count(received, {}, WARMUP, 120)
        started = time.monotonic()
        sent = _paced(publisher.publish_batch, make, seconds, rate)
        elapsed = time.monotonic() - started
        publisher.close()
        _wait_count(received, {}, WARMUP + sent, 300)
        lags = []
        first, last = None, None
        measured = {"envelope.payload.period": {"$ne": "warmup"}}
        for doc in received.find(
            measured, {"received_at": 1, "envelope.occurred_at": 1}
        ):
            occurred = datetime.fromisoformat(doc["envelope"]["occurred_at"])
            got = doc["received_at"].replace(tzinfo=UTC)
            lags.append((got - occurred).total_seconds() * 1000)
            first = occurred if first is None else min(first, occurred)
            last = got if last is None else max(last, got)
        span = (last - first).total_seconds() if first and last else 0
        client.close()
        self.stop_services()
        return {
            "load_avg_1m": round(os.getloadavg()[0], 1),
            "path": f"maillage (signed, verified, applied) at {rate}/s",
            "seconds": seconds,
            "events": sent,
            "arrived": len(lags),
            "rate_per_s": round(sent / elapsed),
            "applied_per_s": round(len(lags) / span) if span else None,
            **_percentiles(lags),
        }

    def raw(self) -> dict[str, Any]:
        publisher = BatchPublisher(self.a_uri, exchange=outgoing_exchange("region-06"))
        publisher.connect()
        lags: list[float] = []
        arrived: set[int] = set()
        times: list[float] = []

        def on_message(body: Any, message: Any) -> None:
            data = json.loads(body) if isinstance(body, str | bytes) else body
            message.ack()
            if "t" not in data:
                return  # a straggler of the project path
            lags.append((time.time() - data["t"]) * 1000)
            arrived.add(data["i"])
            times.append(time.time())

        def make(i: int) -> dict[str, Any]:
            return {
                "event_id": str(i),
                "event_type": "bench.unsigned",
                "i": i,
                "t": time.time(),
                "payload": _payload(i),
            }

        with Connection(self.b_uri) as conn:
            conn.channel().queue_purge(INBOX)
            consumer = Consumer(
                conn,
                queues=[Queue(INBOX, durable=True)],
                callbacks=[on_message],
                accept=["json"],
            )
            consumer.qos(prefetch_count=1000)
            with consumer:

                def publish(batch: list[dict[str, Any]]) -> None:
                    publisher.publish_batch(batch)
                    try:  # read what has arrived meanwhile, without blocking
                        while True:
                            conn.drain_events(timeout=0)
                    except (TimeoutError, OSError):
                        pass

                started = time.monotonic()
                wall_start = time.time()
                sent = _paced(publish, make, SECONDS, RATE)
                elapsed = time.monotonic() - started
                deadline = time.monotonic() + 60
                while len(arrived) < sent and time.monotonic() < deadline:
                    try:
                        conn.drain_events(timeout=1)
                    except TimeoutError:
                        pass
        publisher.close()
        return {
            "load_avg_1m": round(os.getloadavg()[0], 1),
            "path": f"raw RabbitMQ federation (unsigned, baseline) at {RATE}/s",
            "seconds": SECONDS,
            "events": sent,
            "arrived": len(arrived),
            "rate_per_s": round(sent / elapsed),
            "applied_per_s": round(len(arrived) / (max(times) - wall_start))
            if times
            else None,
            **_percentiles(lags),
        }


def run() -> list[dict[str, Any]]:
    base = Path(tempfile.mkdtemp(prefix="maillage-bench-fed-"))
    bench = _Bench(base)
    try:
        bench.start()
        rows = [bench.maillage(RATE, SECONDS), bench.raw()]
        if SUSTAINED:
            rows.append(bench.maillage(SUSTAINED, SECONDS / 2))
    finally:
        bench.stop()
        shutil.rmtree(base, ignore_errors=True)
    return rows
