"""Fixtures shared by every test: the reference data, the real store, a throwaway vhost."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.localstore import LocalStore
from shared.rabbitadmin import BrokerAdmin

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
AMQP_HOST = os.environ.get("MAILLAGE_TEST_AMQP_HOST", "127.0.0.1:5672")
MGMT = os.environ.get("MAILLAGE_TEST_RABBIT_API", "http://127.0.0.1:15672/api")
MGMT_AUTH = ("guest", "guest")
BROKER = BrokerAdmin(MGMT)  # guest/guest unless the URL says otherwise


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """``../shared/data``: the public reference data, never copied into the repo."""
    if not DATA.is_dir():
        pytest.fail(f"reference data not found at {DATA}")
    return DATA


@pytest.fixture(scope="session")
def local_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStore]:
    """One real SecantusDB server for the whole run (each test uses its own databases)."""
    # Crash durability (--sync-on-commit) has its own test; the shared server skips the fsyncs.
    store = LocalStore(tmp_path_factory.mktemp("store"), sync_on_commit=False)
    store.start()
    yield store
    store.stop()


@pytest.fixture(scope="session")
def store_uri(local_store: LocalStore) -> str:
    return local_store.uri


@pytest.fixture
def db_prefix() -> str:
    """A unique database-name prefix so tests never see each other's data."""
    return f"t{uuid.uuid4().hex[:10]}_"


@pytest.fixture
def vhost() -> Iterator[str]:
    """A throwaway RabbitMQ vhost on the real broker, deleted after the test."""
    with BROKER.throwaway_vhost("test") as name:
        yield name


@pytest.fixture
def amqp_uri(vhost: str) -> str:
    return f"amqp://guest:guest@{AMQP_HOST}/{vhost}"
