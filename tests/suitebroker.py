"""The test suite's own RabbitMQ node.

The suite does not depend on how the machine's broker is configured (plugins,
users, vhosts): at start it runs a private RabbitMQ node from the installed
``rabbitmq-server`` (:class:`services.federation.localbroker.LocalBroker`: free
loopback ports, its own data under a temporary folder, the management and
federation plugins enabled for that node only) and points the tests at it
through ``MAILLAGE_TEST_AMQP_HOST`` and ``MAILLAGE_TEST_RABBIT_API``.

Setting ``MAILLAGE_TEST_AMQP_HOST`` (and ``MAILLAGE_TEST_RABBIT_API``) yourself
keeps a broker you run, which must then have the management plugin.

The node starts while pytest collects; :func:`wait` blocks until it answers.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from services.federation.localbroker import SERVER, LocalBroker

_broker: LocalBroker | None = None
_base: Path | None = None


def start() -> None:
    """Start the private node unless the environment names a broker already."""
    global _broker, _base
    if os.environ.get("MAILLAGE_TEST_AMQP_HOST"):
        return
    if not os.path.exists(SERVER):
        raise SystemExit(
            "rabbitmq-server n'est pas installé / is not installed: "
            "sudo apt-get install rabbitmq-server"
        )
    _base = Path(tempfile.mkdtemp(prefix="maillage-test-rabbit-"))
    _broker = LocalBroker(_base)
    _broker.launch()
    os.environ["MAILLAGE_TEST_AMQP_HOST"] = f"127.0.0.1:{_broker.amqp_port}"
    os.environ["MAILLAGE_TEST_RABBIT_API"] = _broker.api


def wait() -> None:
    if _broker is not None:
        _broker.wait_ready(timeout=180.0)


def stop() -> None:
    global _broker
    if _broker is not None:
        _broker.stop()
        _broker = None
    if _base is not None:
        shutil.rmtree(_base, ignore_errors=True)
