"""Harvesting a small HSDS 3.0 server that serves the specification's own
examples (read from ``../shared/data/hsds``), on 127.0.0.1 only: the list
items of ``service_list.json`` page by page, each full service from
``service_full.json`` at ``/services/{id}``, the API root from ``base.json``.
Everything lands in the real store through the file import's path.
"""

from __future__ import annotations

import copy
import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from services.offerings.harvest import RECORDS, SOURCES, Fetcher, harvest
from services.offerings.imports import import_path
from services.offerings.repository import OfferingsRepository, collection_name

pytestmark = pytest.mark.integration

EXAMPLE = "ac148810-d857-441c-9679-408f346de14b"
SECOND = str(uuid.UUID(int=0x5EC0_0D))
SOURCE_WRITER = "source"


def _list_item(doc: dict[str, Any]) -> dict[str, Any]:
    """The HSDS list shape of a full service: no arrays."""
    return {k: v for k, v in doc.items() if not isinstance(v, list)}


class SpecSource:
    """What the little server holds and what it was asked."""

    def __init__(self, hsds_dir: Path) -> None:
        examples = hsds_dir / "examples"
        self.root = json.loads((examples / "base.json").read_text())
        full = json.loads((examples / "service_full.json").read_text())
        listed = json.loads((examples / "service_list.json").read_text())
        self.full = {full["id"]: full}
        self.items = {item["id"]: item for item in listed["contents"]}
        self.modified = {full["id"]: "2023-03-15T10:30:45Z"}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.broken: dict[tuple[str, str], tuple[int, str, bytes]] = {}
        self.drip = 0.0  # seconds between every 4 bytes of an answer

    def add_second_service(self) -> None:
        """A second, smaller service of the example organization (built
        from the example, in memory), served in full in the list."""
        organization = copy.deepcopy(self.full[EXAMPLE]["organization"])
        doc = {
            "id": SECOND,
            "name": "Second service",
            "status": "active",
            "organization": organization,
            "service_at_locations": [],
        }
        self.full[SECOND] = doc
        self.items[SECOND] = doc
        self.modified[SECOND] = "2023-03-15T10:30:45Z"

    def change(self, service_id: str, **values: Any) -> None:
        self.full[service_id].update(values)
        self.items[service_id].update(values)
        self.modified[service_id] = (
            datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        )

    def answer(self, path: str, query: dict[str, str]) -> tuple[int, Any]:
        if path in ("", "/"):
            return 200, self.root
        if path == "/services":
            after = query.get("modified_after")
            ids = sorted(
                i for i in self.items if not after or self.modified[i] >= after
            )
            number = int(query.get("page", "1"))
            size = int(query.get("per_page", "10"))
            chosen = ids[(number - 1) * size : number * size]
            pages = max(1, -(-len(ids) // size))
            return 200, {
                "total_items": len(ids),
                "total_pages": pages,
                "page_number": number,
                "size": len(chosen),
                "first_page": number == 1,
                "last_page": number >= pages,
                "empty": not ids,
                "contents": [self.items[i] for i in chosen],
            }
        if path.startswith("/services/") and path[10:] in self.full:
            return 200, self.full[path[10:]]
        return 404, {"error": "not found"}


def serve(source: SpecSource) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            parts = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            source.requests.append((parts.path, query))
            page = query.get("page", "")
            if (parts.path, page) in source.broken:
                status, kind, body = source.broken[(parts.path, page)]
            else:
                status, doc = source.answer(parts.path, query)
                kind, body = "application/json", json.dumps(doc).encode()
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not source.drip:
                self.wfile.write(body)
                return
            try:
                for start in range(0, len(body), 4):
                    self.wfile.write(body[start : start + 4])
                    self.wfile.flush()
                    time.sleep(source.drip)
            except OSError:
                pass  # the harvest hung up

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def source(hsds_dir: Path) -> SpecSource:
    return SpecSource(hsds_dir)


@pytest.fixture
def url(source: SpecSource) -> Iterator[str]:
    yield from serve(source)


def everything(db: Any) -> dict[str, dict[str, Any]]:
    """Every record the directory holds, by table (not the audit trail)."""
    data = OfferingsRepository(db).load_all()
    return {t: rows for t, rows in data.items() if t != "metadata" and rows}


def services_asked(source: SpecSource) -> list[dict[str, str]]:
    return [q for p, q in source.requests if p == "/services"]


def test_a_first_harvest_imports_what_a_file_import_of_the_same_services_would(
    offerings_db: Any, store_uri: str, hsds_dir: Path, url: str, source: SpecSource
) -> None:
    report = harvest(url, offerings_db, "test", per_page=1)
    assert report.ok, [str(p) for p in report.problems]
    assert report.modified_after is None
    assert report.files == [f"{url}/services?page=1&per_page=1&full=true"]
    assert (f"/services/{EXAMPLE}", {}) in source.requests  # list item -> detail
    assert report.details == 1
    harvested = everything(offerings_db)
    other = offerings_db.client[f"x{uuid.uuid4().hex[:8]}_offerings"]
    try:
        assert import_path(hsds_dir / "examples" / "service_full.json", other, "t").ok
        assert harvested == everything(other)
    finally:
        offerings_db.client.drop_database(other.name)
    assert harvested["service"][EXAMPLE]["name"] == source.full[EXAMPLE]["name"]
    remembered = {d["_id"] for d in offerings_db[RECORDS].find({"source": url})}
    assert f"service/{EXAMPLE}" in remembered
    assert {f"{t}/{i}" for t, rows in harvested.items() for i in rows} <= remembered


def test_a_second_harvest_asks_modified_after_the_first_ones_mark_and_takes_only_what_changed(
    offerings_db: Any, url: str, source: SpecSource
) -> None:
    source.add_second_service()
    first = harvest(url, offerings_db, "test", per_page=1)
    assert first.ok, [str(p) for p in first.problems]
    assert first.rows_read == 2 and len(first.files) == 2
    mark = offerings_db[SOURCES].find_one({"_id": url})["high_water"]
    assert mark == first.high_water
    source.requests.clear()
    source.change(SECOND, name="Second service, renamed")

    second = harvest(url, offerings_db, "test", per_page=1)

    assert second.ok, [str(p) for p in second.problems]
    assert [q.get("modified_after") for q in services_asked(source)] == [mark]
    assert second.rows_read == 1
    assert not any(p == f"/services/{EXAMPLE}" for p, _ in source.requests)
    assert second.written["updated"] >= 1
    service = OfferingsRepository(offerings_db).get("service", SECOND)
    assert service is not None and service["name"] == "Second service, renamed"
    source.requests.clear()
    assert harvest(url, offerings_db, "test", everything=True).ok
    assert "modified_after" not in services_asked(source)[0]


def test_modified_after_given_on_the_command_line_wins_over_the_mark(
    offerings_db: Any, url: str, source: SpecSource
) -> None:
    assert harvest(url, offerings_db, "test").ok
    source.requests.clear()
    report = harvest(url, offerings_db, "test", modified_after="2020-01-01T00:00:00Z")
    assert report.ok
    assert services_asked(source)[0]["modified_after"] == "2020-01-01T00:00:00Z"
    assert report.written["created"] == 0  # the same records: nothing new


def test_a_harvest_never_overwrites_a_record_the_node_created_or_imported(
    offerings_db: Any, hsds_dir: Path, url: str, tmp_path: Path
) -> None:
    doc = json.loads((hsds_dir / "examples" / "service_full.json").read_text())
    doc["name"] = "Notre service, tenu ici"
    local = tmp_path / "service_full.json"
    local.write_text(json.dumps(doc))
    assert import_path(local, offerings_db, "local").ok
    before = everything(offerings_db)

    report = harvest(url, offerings_db, "test")

    assert not report.ok
    refused = [
        p for p in report.problems if report.record_of(p) == ("service", EXAMPLE)
    ]
    assert len(refused) == 1, [str(p) for p in report.problems]
    problem = report.problem_dict(refused[0])
    assert problem["field"] == "id"
    assert problem["file"] == f"{url}/services/{EXAMPLE}"
    assert problem["record_id"] == EXAMPLE
    assert "ce nœud" in problem["reason_fr"] and "this node" in problem["reason_en"]
    assert everything(offerings_db) == before
    assert offerings_db[SOURCES].find_one({"_id": url}) is None
    assert offerings_db[RECORDS].count_documents({}) == 0


def test_records_identical_to_the_nodes_own_are_taken_and_stay_the_nodes(
    offerings_db: Any, hsds_dir: Path, url: str, source: SpecSource
) -> None:
    assert import_path(
        hsds_dir / "examples" / "service_full.json", offerings_db, "l"
    ).ok
    report = harvest(url, offerings_db, "test")
    assert report.ok, [str(p) for p in report.problems]
    assert report.written["created"] == report.written["updated"] == 0
    assert offerings_db[RECORDS].count_documents({"_id": f"service/{EXAMPLE}"}) == 0
    source.change(EXAMPLE, name="Changed at the source")
    assert not harvest(url, offerings_db, "test").ok  # still the node's own


def test_a_malformed_page_imports_nothing_and_names_its_url(
    offerings_db: Any, url: str, source: SpecSource
) -> None:
    source.add_second_service()
    source.broken[("/services", "2")] = (200, "application/json", b'{"items": []}')

    report = harvest(url, offerings_db, "test", per_page=1)

    assert not report.ok
    [problem] = report.problems
    assert problem.file == f"{url}/services?page=2&per_page=1&full=true"
    assert problem.field == "contents"
    assert "contents" in problem.fr and "contents" in problem.en
    for table in ("service", "organization", "location"):
        assert offerings_db[collection_name(table)].count_documents({}) == 0
    assert offerings_db[SOURCES].find_one({"_id": url}) is None


@pytest.mark.parametrize(
    ("status", "kind", "body", "field", "words"),
    [
        (500, "application/json", b"{}", None, ("HTTP 500", "HTTP 500")),
        (404, "application/json", b"{}", None, ("HTTP 404", "HTTP 404")),
        (200, "text/html", b"<html></html>", "Content-Type", ("JSON", "JSON")),
        (200, "application/json", b"{not json", None, ("illisible", "unreadable")),
    ],
)
def test_an_answer_that_is_not_hsds_is_refused_by_name_with_the_url(
    offerings_db: Any,
    url: str,
    source: SpecSource,
    status: int,
    kind: str,
    body: bytes,
    field: str | None,
    words: tuple[str, str],
) -> None:
    source.broken[("/services", "1")] = (status, kind, body)
    report = harvest(url, offerings_db, "test")
    assert not report.ok
    [problem] = report.problems
    assert problem.file == f"{url}/services?page=1&per_page=100&full=true"
    assert problem.field == field
    assert words[0] in problem.fr and words[1] in problem.en
    assert offerings_db[collection_name("service")].count_documents({}) == 0


def test_a_source_that_does_not_answer_is_refused_as_a_network_error(
    offerings_db: Any,
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    report = harvest(f"http://127.0.0.1:{port}/hsds", offerings_db, "test")
    assert not report.ok
    [problem] = report.problems
    assert problem.file.startswith(f"http://127.0.0.1:{port}/hsds/services?page=1")
    assert "réseau" in problem.fr and "network" in problem.en


@pytest.mark.parametrize(
    "bad",
    [
        "ftp://127.0.0.1/hsds",
        "file:///etc/passwd",
        "127.0.0.1/hsds",
        "http://user:secret@127.0.0.1/hsds",
        "http://127.0.0.1/hsds?page=3",
    ],
)
def test_only_plain_http_urls_are_harvested(offerings_db: Any, bad: str) -> None:
    report = harvest(bad, offerings_db, "test")
    assert not report.ok
    [problem] = report.problems
    assert problem.field == "url" and problem.file == bad


def test_an_api_root_of_another_hsds_version_is_refused_naming_version(
    offerings_db: Any, url: str, source: SpecSource
) -> None:
    source.root = {**source.root, "version": "2.0"}
    report = harvest(url, offerings_db, "test")
    assert not report.ok
    [problem] = report.problems
    assert problem.field == "version" and problem.file == f"{url}/"
    assert services_asked(source) == []


def test_a_refused_record_is_named_by_page_url_pointer_record_id_and_field(
    offerings_db: Any, url: str, source: SpecSource
) -> None:
    source.add_second_service()
    source.full[SECOND]["minimum_age"] = "douze"
    source.items[SECOND]["minimum_age"] = "douze"
    report = harvest(url, offerings_db, "test")
    assert not report.ok
    [problem] = [report.problem_dict(p) for p in report.problems]
    assert problem["file"] == f"{url}/services?page=1&per_page=100&full=true"
    assert problem["row"] == f"/contents/{sorted([EXAMPLE, SECOND]).index(SECOND)}"
    assert (problem["table"], problem["record_id"]) == ("service", SECOND)
    assert problem["field"] == "minimum_age"
    assert problem["reason_fr"] and problem["reason_en"]
    assert offerings_db[collection_name("service")].count_documents({}) == 0


def test_the_command_harvests_and_reports_a_refused_record_by_id_with_exit_code_1(
    offerings_db: Any,
    store_uri: str,
    db_prefix: str,
    url: str,
    source: SpecSource,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from shared.cli import main

    where = ["--store-uri", store_uri, "--db-prefix", db_prefix]
    assert main(["offerings", "harvest", url, *where]) == 0
    assert "modified_after=" in capsys.readouterr().out
    source.change(EXAMPLE, minimum_age="douze")
    report_file = tmp_path / "report.json"
    code = main(["offerings", "harvest", url, "--report", str(report_file), *where])
    assert code == 1
    err = capsys.readouterr().err
    assert f"[service {EXAMPLE}]" in err and "minimum_age" in err
    assert "refusée" in err and "refused" in err
    saved = json.loads(report_file.read_text())
    assert saved["ok"] is False and saved["problems"][0]["record_id"] == EXAMPLE
    assert saved["modified_after"]  # the first run's mark was asked
    bad = ["offerings", "harvest", url, "--modified-after", "2026-01-01T00:00", *where]
    assert main(bad) == 2
    assert "fuseau" in capsys.readouterr().err


def test_an_organization_merged_into_ours_by_identifier_keeps_all_our_values(
    offerings_db: Any, url: str, source: SpecSource, tmp_path: Path
) -> None:
    ours_id = str(uuid.UUID(int=0x0A6A))
    example = source.full[EXAMPLE]["organization"]
    [identifier] = example["organization_identifiers"]
    mine = tmp_path / "mine.json"
    mine.write_text(
        json.dumps(
            {
                "organization": [
                    {"id": ours_id, "name": "Notre organisme", "description": "Ici"}
                ],
                "organization_identifier": [
                    {
                        **identifier,
                        "id": str(uuid.UUID(int=0x0A6B)),
                        "organization_id": ours_id,
                    }
                ],
            }
        )
    )
    assert import_path(mine, offerings_db, "local").ok
    before = OfferingsRepository(offerings_db).get("organization", ours_id)

    report = harvest(url, offerings_db, "test")

    assert report.ok, [str(p) for p in report.problems]
    assert report.merged_organizations == {example["id"]: ours_id}
    repository = OfferingsRepository(offerings_db)
    assert repository.get("organization", ours_id) == before  # no gap filled
    assert repository.get("organization", example["id"]) is None
    assert repository.get("service", EXAMPLE)["organization_id"] == ours_id  # type: ignore[index]
    assert (
        offerings_db[RECORDS].count_documents({"_id": f"organization/{ours_id}"}) == 0
    )


def test_a_source_that_drips_its_answer_is_refused_at_the_deadline(
    offerings_db: Any, url: str, source: SpecSource
) -> None:
    source.drip = 0.05  # the root alone would take about a second
    started = time.monotonic()
    report = harvest(url, offerings_db, "test", fetcher=Fetcher(deadline=0.3))
    assert time.monotonic() - started < 5
    assert not report.ok
    [problem] = report.problems
    assert problem.file == f"{url}/services?page=1&per_page=100&full=true"
    assert "0.3 s" in problem.fr and "0.3 s" in problem.en
