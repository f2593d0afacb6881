"""``QUEUE_TYPE``: the node's durable queues are quorum queues when it says so."""

from __future__ import annotations

import pytest
from nameko.containers import ServiceContainer
from nameko.standalone.rpc import ServiceRpcProxy

from shared.broker import UNROUTABLE, declare_unroutable
from shared.consumer import declare_consumer_queues
from shared.errors import ConfigError
from tests.conftest import BROKER, MGMT
from tests.shared.services import Counter
from tests.shared.test_outbox_consumer import _config

pytestmark = pytest.mark.integration


def _types(vhost: str) -> dict[str, str]:
    return {q["name"]: q["type"] for q in BROKER.get("queues", vhost)}


def test_with_queue_type_quorum_the_event_and_rpc_queues_are_quorum_queues(
    amqp_uri, vhost, store_uri, db_prefix
):
    config = dict(_config(amqp_uri, store_uri, db_prefix), QUEUE_TYPE="quorum")
    declare_unroutable(amqp_uri, MGMT, queue_type="quorum")
    container = ServiceContainer(Counter, config)
    container.start()
    try:
        with ServiceRpcProxy("counter", config) as proxy:
            assert proxy.health()["service"] == "counter"  # RPC over a quorum queue
            types = _types(vhost)
    finally:
        container.stop()
    assert types["counter.count"] == "quorum"
    assert types["counter.count.dead"] == "quorum"
    assert types["rpc-counter"] == "quorum"
    assert types[UNROUTABLE] == "quorum"
    # A caller's reply queue is its own, temporary: it cannot be a quorum queue.
    replies = [name for name in types if name.startswith("rpc.reply-")]
    assert replies and {types[name] for name in replies} == {"classic"}


def test_by_default_the_queues_stay_classic(amqp_uri, vhost):
    declare_consumer_queues(amqp_uri, [Counter])
    assert _types(vhost)["counter.count"] == "classic"


@pytest.mark.parametrize("value", ["mirrored", "Quorum", "stream"])
def test_an_unknown_queue_type_stops_start_up_naming_the_setting(
    amqp_uri, store_uri, db_prefix, value
):
    config = dict(_config(amqp_uri, store_uri, db_prefix), QUEUE_TYPE=value)
    container = ServiceContainer(Counter, config)
    try:
        with pytest.raises(ConfigError) as refused:
            container.start()
    finally:
        container.kill()
    assert "QUEUE_TYPE" in refused.value.message_fr
    assert "QUEUE_TYPE" in refused.value.message_en
    assert value in refused.value.message_en
    assert "classic" in refused.value.message_en


def test_a_classic_queue_on_the_broker_makes_a_quorum_start_stop_naming_the_setting(
    amqp_uri, store_uri, db_prefix
):
    declare_consumer_queues(amqp_uri, [Counter])  # the node ran classic before
    with pytest.raises(ConfigError) as refused:
        declare_consumer_queues(amqp_uri, [Counter], kind="quorum")
    assert "QUEUE_TYPE" in refused.value.message_fr
    assert "x-queue-type" in refused.value.message_en
    config = dict(_config(amqp_uri, store_uri, db_prefix), QUEUE_TYPE="quorum")
    container = ServiceContainer(Counter, config)
    try:
        with pytest.raises(ConfigError, match="QUEUE_TYPE"):
            container.start()
    finally:
        container.kill()
