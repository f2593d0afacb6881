"""A second real RabbitMQ node for the federation tests (see ``localbroker``)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from services.federation.localbroker import SERVER, LocalBroker


@pytest.fixture(scope="session")
def second_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalBroker]:
    if not os.path.exists(SERVER):
        pytest.skip("rabbitmq-server is not installed")
    base = tmp_path_factory.mktemp("rabbit2")
    broker = LocalBroker(base)
    broker.start()
    yield broker
    broker.stop()
    shutil.rmtree(base, ignore_errors=True)
