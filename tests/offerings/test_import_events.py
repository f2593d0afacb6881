"""An import goes through the outbox like the service's own commands: the
events its services cause are written with them, chunk by chunk, published by
the service's relay, and never twice for the same file."""

from __future__ import annotations

import csv
import shutil
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from kombu import Connection, Exchange, Queue
from nameko.containers import ServiceContainer

from services.offerings.domain import import_chunks, owning_services, service_events
from services.offerings.events import (
    SERVICE_PUBLISHED,
    SERVICE_UPDATED,
    SERVICE_WITHDRAWN,
    WAITING_LIST_CHANGED,
)
from services.offerings.formats import read
from services.offerings.imports import import_path
from services.offerings.service import OfferingsService
from shared.cli import main
from shared.envelope import Envelope

SAMPLE = ("hsds_1.1_sample", "all_resources")  # 13 services, HSDS 1.1 migrated


@pytest.fixture
def sample(data_dir: Path, tmp_path: Path) -> Path:
    """A scratch copy of the HSDS 1.1 sample (to edit; never inside the repo)."""
    target = tmp_path / "sample"
    shutil.copytree(data_dir.joinpath(*SAMPLE), target)
    for file in target.iterdir():
        file.chmod(0o644)
    return target


def _outbox_events(db) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for row in db["outbox"].find().sort("_id", 1):
        events += row["events"] if "events" in row else [row["envelope"]]
    return events


# --- pure rules ------------------------------------------------------------------

PUBLISHED = {"id": "s", "name": "Popote", "publication_status": "published"}


def test_a_new_published_service_is_published_then_its_waiting_list():
    assert [t for t, _ in service_events(None, PUBLISHED)] == [
        SERVICE_PUBLISHED,
        WAITING_LIST_CHANGED,
    ]
    assert service_events(None, {**PUBLISHED, "publication_status": "draft"}) == []


def test_an_unchanged_service_causes_nothing_and_a_changed_one_is_updated():
    assert service_events(PUBLISHED, dict(PUBLISHED)) == []
    renamed = {**PUBLISHED, "name": "Popote roulante"}
    assert service_events(PUBLISHED, renamed) == [
        (SERVICE_UPDATED, {"changed_fields": ["name"]})
    ]
    assert service_events(PUBLISHED, PUBLISHED, {"schedules"}) == [
        (SERVICE_UPDATED, {"changed_fields": ["schedules"]})
    ]
    fuller = {**PUBLISHED, "waiting_list_length": 4}
    assert [t for t, _ in service_events(PUBLISHED, fuller)] == [
        SERVICE_UPDATED,
        WAITING_LIST_CHANGED,
    ]
    withdrawn = {**PUBLISHED, "publication_status": "withdrawn"}
    assert service_events(PUBLISHED, withdrawn) == [
        (SERVICE_WITHDRAWN, {"reason": None})
    ]


def test_chunks_keep_each_service_with_its_records_and_hold_every_record_once(
    data_dir,
):
    dataset = read(data_dir.joinpath(*SAMPLE)).dataset
    owner = owning_services(dataset)
    chunks = import_chunks(dataset, services=5, records=50)
    seen = Counter(
        (table, record_id)
        for chunk in chunks
        for table, rows in chunk.items()
        for record_id in rows
    )
    assert set(seen) == {(t, i) for t, rows in dataset.items() for i in rows}
    assert set(seen.values()) == {1}
    with_services = [c for c in chunks if c["service"]]
    assert [len(c["service"]) for c in with_services] == [5, 5, 3]
    assert all(not c["service"] for c in chunks[: len(chunks) - 3])
    for chunk in with_services:
        for table, rows in chunk.items():
            for record_id in rows:
                assert owner[record_id] in chunk["service"], (table, record_id)
    # the sample's schedules, languages, service-at-locations hang on services
    assert {t for c in with_services for t, rows in c.items() if rows} >= {
        "service",
        "schedule",
        "service_at_location",
        "language",
    }


# --- the store -------------------------------------------------------------------


def test_import_writes_its_events_per_chunk_and_a_second_import_adds_none(
    sample, offerings_db, geo
):
    report = import_path(sample, offerings_db, "cli", geo, chunk_size=5)
    assert report.ok, [str(p) for p in report.problems]
    assert report.events == {SERVICE_PUBLISHED: 13, WAITING_LIST_CHANGED: 13}
    rows = list(offerings_db["outbox"].find())
    # one row per transaction that changed services: 13 services in 3 chunks
    assert sorted(len(r.get("events", [r.get("envelope")])) for r in rows) == [
        6,
        10,
        10,
    ]
    assert set(offerings_db["search"].distinct("_id")) == set(
        offerings_db["hsds_service"].distinct("_id")
    )
    events = [Envelope.from_dict(e) for e in _outbox_events(offerings_db)]
    assert len({e.correlation_id for e in events}) == 1
    services = set(offerings_db["hsds_service"].distinct("_id"))
    for event_type in (SERVICE_PUBLISHED, WAITING_LIST_CHANGED):
        assert sorted(
            e.payload["service_id"] for e in events if e.event_type == event_type
        ) == sorted(services)

    again = import_path(sample, offerings_db, "cli", geo, chunk_size=5)
    assert again.ok and again.events == {}
    assert again.written["created"] == again.written["updated"] == 0
    assert offerings_db["outbox"].count_documents({}) == len(rows)
    assert offerings_db["hsds_service"].count_documents({}) == 13


def test_reimporting_a_changed_service_emits_only_its_update(sample, offerings_db, geo):
    assert import_path(sample, offerings_db, "cli", geo).ok
    before = offerings_db["outbox"].count_documents({})
    with (sample / "services.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    rows[3]["name"] = rows[3]["name"] + " (renamed)"
    with (sample / "services.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    report = import_path(sample, offerings_db, "cli", geo)
    assert report.ok and report.events == {SERVICE_UPDATED: 1}
    last = _outbox_events(offerings_db)[-1]
    assert offerings_db["outbox"].count_documents({}) == before + 1
    assert last["event_type"] == SERVICE_UPDATED
    assert last["payload"]["changed_fields"] == ["name"]
    assert (
        offerings_db["hsds_service"].find_one({"_id": last["payload"]["service_id"]})[
            "name"
        ]
        == rows[3]["name"]
    )


# --- the broker --------------------------------------------------------------------


def _drain(
    amqp_uri: str, queue: Queue, quiet: float, first: float | None = None
) -> list[dict[str, Any]]:
    """Every message the queue receives until ``quiet`` seconds pass without
    one (``first`` seconds, if given, for the first one to come)."""
    received: list[dict[str, Any]] = []
    with Connection(amqp_uri) as conn:
        simple = conn.SimpleQueue(queue)
        last = time.monotonic() + (first - quiet if first else 0.0)
        while time.monotonic() - last < quiet:
            try:
                message = simple.get(timeout=0.5)
            except simple.Empty:
                continue
            received.append(message.payload)
            message.ack()
            last = time.monotonic()
        simple.close()
    return received


@pytest.mark.integration
def test_cli_import_events_reach_a_bound_queue_once_per_service(
    data_dir, amqp_uri, store_uri, db_prefix, offerings_db, capsys
):
    source = data_dir.joinpath(*SAMPLE)
    args = ["--store-uri", store_uri, "--db-prefix", db_prefix, "--no-progress"]
    argv = ["offerings", "import", str(source), "--chunk-size", "5", *args]
    assert main(argv) == 0
    assert "events: 26 (4 transaction(s))" in capsys.readouterr().out
    services = sorted(offerings_db["hsds_service"].distinct("_id"))
    assert len(services) == 13

    queue = Queue(
        "probe",
        exchange=Exchange("maillage.events", type="topic", durable=True),
        routing_key="offerings.#",
        durable=False,
        auto_delete=False,
    )
    with Connection(amqp_uri) as conn:
        queue(conn.channel()).declare()
    config = {
        "AMQP_URI": amqp_uri,
        "MONGODB_URI": store_uri,
        "DB_PREFIX": db_prefix,
        "QUEBEC_GEO_DIR": str(data_dir / "quebec_geo"),
    }
    container = ServiceContainer(OfferingsService, config)
    container.start()
    try:
        received = _drain(amqp_uri, queue, quiet=3.0, first=30.0)
        by_type = Counter(
            (m["event_type"], m["payload"]["service_id"]) for m in received
        )
        assert by_type == Counter(
            {
                (t, s): 1
                for s in services
                for t in (SERVICE_PUBLISHED, WAITING_LIST_CHANGED)
            }
        )
        assert offerings_db["outbox"].count_documents({"sent": False}) == 0

        assert main(argv) == 0
        assert "events: 0" in capsys.readouterr().out
        assert _drain(amqp_uri, queue, quiet=3.0) == []
    finally:
        container.stop()
