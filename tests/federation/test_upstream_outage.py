"""The sending node's own broker stopped while its services produce 1,000 events.

Here the MRC node ``mrc-66023`` runs on the extra RabbitMQ node (so the test
can stop it) and the coordinator ``region-06`` on a vhost of the machine's
broker, pulling from the MRC. While the MRC's broker is down, a service of the
MRC keeps committing state changes with their events in its outbox (the kit's
:class:`shared.outbox.Outbox`); when the broker returns, the relay publishes
them, the MRC's federation service signs and forwards them, and the link,
reconnecting by itself, carries them to the coordinator: each arrives once.
"""

from __future__ import annotations

import time

import pytest
import yaml
from kombu import Connection
from nameko.containers import ServiceContainer
from nameko.timer import timer
from pymongo import MongoClient

from services.federation.management import apply, status, wait_for_links
from services.federation.repository import FederationRepository
from services.federation.service import FederationService
from services.federation.topology import INBOX
from services.federation.transport import Inbound
from shared.outbox import Outbox
from shared.store import Store
from tests.conftest import AMQP_HOST
from tests.federation.helpers import (
    APPROVED,
    adopt_all,
    agreement,
    approved,
    config,
    config_dict,
    identity,
)

pytestmark = [pytest.mark.federation, pytest.mark.integration, pytest.mark.slow]
TOTAL = 1000


class MrcApp:
    """A local service that commits a state change and its event together."""

    name = "mrcapp"
    store = Store()
    outbox = Outbox()

    @timer(interval=0.05)
    def produce(self) -> None:
        def body(session):
            plan = self.store.db.plan.find_one({"_id": "plan"}, session=session)
            if not plan or plan["remaining"] <= 0:
                return
            first = plan["total"] - plan["remaining"]
            n = min(100, plan["remaining"])
            for i in range(first, first + n):
                self.store.db.values.insert_one({"_id": i}, session=session)
                self.outbox.add(
                    APPROVED,
                    approved([{"org_unit": "csd:2466023", "count": 10 + i}]),
                    session=session,
                )
            self.store.db.plan.update_one(
                {"_id": "plan"}, {"$inc": {"remaining": -n}}, session=session
            )

        self.store.run_transaction(body)


def _wait(predicate, timeout=60.0, what=""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_upstream_broker_stopped_while_1000_events_are_produced_all_arrive_once(
    tmp_path, vhost, second_broker, store_uri, db_prefix
):
    mrc, region = identity(tmp_path, "mrc-66023"), identity(tmp_path, "region-06")
    a_vhost = second_broker.add_vhost()
    a_uri = second_broker.amqp_uri(a_vhost)
    b_uri = f"amqp://guest:guest@{AMQP_HOST}/{vhost}"
    a = config_dict(
        mrc,
        [(region, None)],
        [agreement("region-06", "out")],
        amqp_uri=a_uri,
        management_url=second_broker.mgmt_url,
        vhost=a_vhost,
    )
    b = config_dict(
        region,
        [(mrc, a_uri)],
        [agreement("mrc-66023", "in")],
        role="coordinator",
        amqp_uri=b_uri,
        vhost=vhost,
    )
    path = tmp_path / "a.yaml"
    path.write_text(yaml.safe_dump(a))
    apply(config(a))
    apply(config(b))
    wait_for_links(config(b))
    _wait(lambda: status(config(a))[0]["waiting"] is not None, what="upstream queue")
    settings = {
        "AMQP_URI": a_uri,
        "MONGODB_URI": store_uri,
        "DB_PREFIX": db_prefix,
        "NODE_ID": "mrc-66023",
        "NODE_CONFIG": str(path),
    }
    containers = [
        ServiceContainer(cls, settings) for cls in (FederationService, MrcApp)
    ]
    client = MongoClient(store_uri)
    adopt_all(client[f"{db_prefix}federation"], a)  # the MRC's board adopted it
    for container in containers:
        container.start()
    app_db = client[f"{db_prefix}mrcapp"]
    try:
        second_broker.stop()  # the MRC's own broker: the link and the relay are cut
        app_db.plan.insert_one({"_id": "plan", "total": TOTAL, "remaining": TOTAL})
        _wait(lambda: app_db.values.count_documents({}) == TOTAL, what="production")
        unsent = app_db.outbox.find({"sent": False})
        assert sum(len(row.get("events", [])) or 1 for row in unsent) == TOTAL
        second_broker.start()
        repo = FederationRepository(client[f"{db_prefix}region"])
        inbound = Inbound(config(b), repo)
        outcomes = []
        deadline = time.monotonic() + 120
        with Connection(b_uri) as conn:
            channel = conn.channel()
            while len(outcomes) < TOTAL and time.monotonic() < deadline:
                message = channel.basic_get(INBOX, no_ack=True)
                if message is None:
                    time.sleep(0.05)
                    continue
                outcomes.append(inbound.handle(message.body))
            time.sleep(2)
            _, left, _ = channel.queue_declare(INBOX, passive=True)
        assert [o.status for o in outcomes].count("applied") == TOTAL
        assert left == 0
        counts = sorted(
            d["envelope"]["payload"]["cells"][0]["count"] for d in repo.received()
        )
        assert counts == list(range(10, 10 + TOTAL))
    finally:
        for container in containers:
            container.stop()
        client.close()
