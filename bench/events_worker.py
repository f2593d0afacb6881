"""Child process of ``bench/events.py``; prints the rows as JSON on its last line."""

import eventlet

eventlet.monkey_patch()

import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402

from kombu import Connection, Exchange, Queue  # noqa: E402
from nameko.containers import ServiceContainer  # noqa: E402
from nameko.events import (  # noqa: E402
    SERVICE_POOL,
    EventDispatcher,  # noqa: E402
    event_handler,
)
from nameko.rpc import rpc  # noqa: E402
from nameko.standalone.rpc import ServiceRpcProxy  # noqa: E402
from pymongo import MongoClient  # noqa: E402

from shared.consumer import consume, consume_batch  # noqa: E402
from shared.localstore import LocalStore  # noqa: E402
from shared.outbox import Outbox  # noqa: E402
from shared.rabbitadmin import BrokerAdmin  # noqa: E402
from shared.store import Store  # noqa: E402

EVENT = "bench.thing_happened"


BROKER = BrokerAdmin("http://guest:guest@127.0.0.1:15672/api")


def new_vhost() -> str:
    return BROKER.add_vhost(prefix="bench")


def drop_vhost(name: str) -> None:
    BROKER.delete_vhost(name)


def wait_count(collection, total: int, timeout: float = 900.0) -> None:
    deadline = time.monotonic() + timeout
    while collection.estimated_document_count() < total:
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"only {collection.estimated_document_count()} of {total}"
            )
        time.sleep(0.02)


GROUP = int(
    os.environ.get("BENCH_GROUP", "10")
)  # events per transaction (one RPC call)


class OutboxSource:
    name = "bench_source"
    store = Store()
    outbox = Outbox()

    @rpc
    def emit(self, start, count):
        def body(session):
            self.store.db.state.insert_many(
                [{"i": i} for i in range(start, start + count)], session=session
            )
            for i in range(start, start + count):
                self.outbox.add(EVENT, {"i": i}, session=session)

        self.store.run_transaction(body)


class NamekoSource:
    name = "bench_source"
    store = Store()
    dispatch = (
        EventDispatcher()
    )  # persistent messages, publisher confirms (nameko default)

    @rpc
    def emit(self, start, count):
        self.store.db.state.insert_many([{"i": i} for i in range(start, start + count)])
        for i in range(start, start + count):
            self.dispatch("thing_happened", {"i": i})


WINDOW = int(os.environ.get("BENCH_WINDOW", "4"))  # RPC calls in flight


def drive(config, total):
    with ServiceRpcProxy("bench_source", config) as proxy:
        in_flight = []
        for start in range(0, total, GROUP):
            in_flight.append(proxy.emit.call_async(start, min(GROUP, total - start)))
            if len(in_flight) >= WINDOW:
                in_flight.pop(0).result()
        for reply in in_flight:
            reply.result()


class PerEventSink:
    name = "bench_sink"
    store = Store()

    @consume(EVENT)
    def apply(self, envelope, session):
        self.store.db.effects.insert_one(
            {"_id": envelope.payload["i"]}, session=session
        )


class BatchSink:
    name = "bench_sink"
    store = Store()

    @consume_batch(EVENT)
    def apply(self, envelopes, session):
        self.store.db.effects.insert_many(
            [{"_id": env.payload["i"]} for env in envelopes], session=session
        )


class NamekoSink:
    name = "bench_sink"
    store = Store()

    @event_handler(
        "bench_source",
        "thing_happened",
        handler_type=SERVICE_POOL,
        reliable_delivery=True,
    )
    def apply(self, payload):
        self.store.db.effects.insert_one({"_id": payload["i"]})


def service_path(store_uri: str, total: int, source_cls, sink_cls) -> dict:
    """Drive ``source_cls`` by RPC until ``sink_cls`` has written one effect per event."""
    vhost = new_vhost()
    prefix = f"b{uuid.uuid4().hex[:6]}_"
    config = {
        "AMQP_URI": f"amqp://guest:guest@127.0.0.1:5672/{vhost}",
        "MONGODB_URI": store_uri,
        "DB_PREFIX": prefix,
    }
    effects = MongoClient(store_uri)[f"{prefix}bench_sink"].effects
    sink = ServiceContainer(sink_cls, config)
    source = ServiceContainer(source_cls, config)
    sink.start()
    source.start()
    time.sleep(0.5)  # queues declared
    started = time.perf_counter()
    drive(config, total)
    wait_count(effects, total)
    elapsed = time.perf_counter() - started
    source.stop()
    sink.stop()
    lost = total - effects.count_documents({})
    drop_vhost(vhost)
    return {
        "events_per_s": round(total / elapsed, 1),
        "seconds": round(elapsed, 2),
        "lost": lost,
    }


class EmptySource:
    name = "bench_source"

    @rpc
    def emit(self, start, count):
        return None


def rpc_ceiling(total: int) -> dict:
    """Empty RPC calls, one per GROUP events: no store, no event. No path driven by
    these calls can go faster, so it bounds every row of this group size."""
    vhost = new_vhost()
    config = {"AMQP_URI": f"amqp://guest:guest@127.0.0.1:5672/{vhost}"}
    source = ServiceContainer(EmptySource, config)
    source.start()
    started = time.perf_counter()
    drive(config, total)
    elapsed = time.perf_counter() - started
    source.stop()
    drop_vhost(vhost)
    return {"events_per_s": round(total / elapsed, 1), "seconds": round(elapsed, 2)}


def kombu_path(total: int) -> dict:
    vhost = new_vhost()
    uri = f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    exchange = Exchange("raw", type="topic", durable=True)
    queue = Queue("raw", exchange=exchange, routing_key="#", durable=True)
    received = []
    done = threading.Event()

    def consumer():
        with Connection(uri) as conn:

            def on_message(body, message):
                received.append(body)
                message.ack()
                if len(received) >= total:
                    done.set()

            with conn.Consumer(queue, callbacks=[on_message], accept=["json"]) as c:
                c.qos(prefetch_count=200)
                while not done.is_set():
                    try:
                        conn.drain_events(timeout=1)
                    except TimeoutError:
                        pass

    with Connection(uri, transport_options={"confirm_publish": True}) as conn:
        queue(conn.default_channel).declare()
        thread = threading.Thread(target=consumer)
        thread.start()
        producer = conn.Producer(exchange=exchange)
        started = time.perf_counter()
        for i in range(total):
            producer.publish(
                {"i": i}, routing_key="raw", delivery_mode=2, serializer="json"
            )
        done.wait(600)
        elapsed = time.perf_counter() - started
        thread.join()
    drop_vhost(vhost)
    return {
        "events_per_s": round(total / elapsed, 1),
        "seconds": round(elapsed, 2),
        "lost": total - len(received),
    }


def main() -> None:
    """Each path at 1, 10 and 100 events per writing transaction (``BENCH_GROUPS``)."""
    global GROUP
    total = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    groups = [int(g) for g in os.environ.get("BENCH_GROUPS", "1,10,100").split(",")]
    rows = []
    with tempfile.TemporaryDirectory() as tmp, LocalStore(tmp) as store:
        for GROUP in groups:
            measured = [
                (
                    "maillage: outbox, batch confirms, idempotent batch handler",
                    service_path(store.uri, total, OutboxSource, BatchSink),
                ),
                (
                    "maillage: outbox, batch confirms, idempotent per-event handler",
                    service_path(store.uri, total, OutboxSource, PerEventSink),
                ),
                (
                    "plain nameko: EventDispatcher, reliable @event_handler",
                    service_path(store.uri, total, NamekoSource, NamekoSink),
                ),
            ]
            measured.append(
                (
                    "ceiling: the driving RPC calls alone, empty (no store, no event)",
                    {**rpc_ceiling(total), "lost": 0},
                )
            )
            base = measured[2][1]["events_per_s"]
            for path, figures in measured:
                rows.append(
                    {
                        "path": path,
                        "events_per_txn": GROUP,
                        "events": total,
                        **figures,
                        "x_vs_nameko": round(figures["events_per_s"] / base, 2),
                    }
                )
        rows.append(
            {
                "path": "raw kombu publish (confirm) and consume, no store",
                "events_per_txn": "-",
                "events": total,
                **kombu_path(total),
            }
        )
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
