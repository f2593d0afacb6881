"""The participation service in a real nameko container on a throwaway vhost:
RPC over RabbitMQ, ballots in the real store, results published by the outbox."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from kombu import Connection, Exchange, Queue
from nameko.containers import ServiceContainer
from nameko.standalone.rpc import ServiceRpcProxy

from services.participation.events import RESULTS_PUBLISHED
from services.participation.service import ParticipationService

from .test_service import PHASES, T0

pytestmark = pytest.mark.integration
NOW = [T0 + timedelta(days=1)]


class ClockedParticipation(ParticipationService):
    """The real service with a clock the test moves through the phases."""

    clock = staticmethod(lambda: NOW[0])


def test_closing_a_vote_publishes_the_ranked_priorities_to_the_broker(
    amqp_uri, store_uri, db_prefix
):
    config = {"AMQP_URI": amqp_uri, "MONGODB_URI": store_uri, "DB_PREFIX": db_prefix}
    exchange = Exchange("maillage.events", type="topic", durable=True)
    queue = Queue(
        "probe",
        exchange=exchange,
        routing_key=RESULTS_PUBLISHED,
        durable=False,
        auto_delete=False,
    )
    with Connection(amqp_uri) as conn:
        queue(conn.channel()).declare()
    container = ServiceContainer(ClockedParticipation, config)
    container.start()
    try:
        with ServiceRpcProxy("participation", config) as participation:
            process = participation.create_process(
                {
                    "mrc_code": "2466",
                    "title": "Priorités",
                    "method": "schulze",
                    "support_threshold": 0,
                    "phases": PHASES,
                }
            )
            pid = process["id"]
            participation.load_registry(
                pid, "person\n" + "".join(f"v{i}@x.org\n" for i in range(5))
            )
            a = participation.submit_proposal(
                pid, {"title": "Transport"}, person="v0@x.org"
            )["id"]
            b = participation.submit_proposal(
                pid, {"title": "Logement"}, person="v1@x.org"
            )["id"]
            NOW[0] = T0 + timedelta(days=21)
            for i, ranking in enumerate([[b, a], [b], [a, b]]):
                participation.cast_ballot(
                    pid, {"ranking": ranking}, person=f"v{i}@x.org"
                )
            NOW[0] = T0 + timedelta(days=31)
            closed = participation.close_vote(pid)
        assert [p["proposal_id"] for p in closed["priorities"]] == [b, a]
        assert [p["elected"] for p in closed["priorities"]] == [True, False]
        message = None
        deadline = time.monotonic() + 30
        with Connection(amqp_uri) as conn:
            simple = conn.SimpleQueue(queue)
            while message is None and time.monotonic() < deadline:
                try:
                    message = simple.get(timeout=1)
                except simple.Empty:
                    continue
                message.ack()
            simple.close()
        assert message is not None
        assert message.payload["event_type"] == RESULTS_PUBLISHED
        assert message.payload["payload"]["priorities"] == closed["priorities"]
        assert message.payload["payload"]["ballots"] == 3
    finally:
        container.stop()
