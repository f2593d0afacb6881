"""Harvesting another HSDS 3.0 API: ``maillage offerings harvest URL``.

A community organisation's directory or a regional one publishes HSDS 3.0;
the node reads its ``/services`` page by page and imports what it finds
through the same all-or-nothing path as a file import
(:func:`imports.check_parsed`, then :func:`imports.write_checked`)::

    GET <URL>/                         the API root: a version other than 3.x
                                       is refused; no root is only a warning
    GET <URL>/services?page=1&per_page=100&full=true[&modified_after=…]
    GET <URL>/services?page=2&…        … while the Page says there are more
    GET <URL>/services/<id>            for a list item that is not a full
                                       service (no ``service_at_locations``)

- Every answer must be HTTP 200, ``application/json`` (or ``…+json``), at
  most 50 MB, and each list page an HSDS ``Page`` (``contents`` a list, with
  ``total_pages`` or ``total_items``). Anything else (a network error, a 4xx
  or 5xx, HTML, a page without ``contents``) refuses the whole harvest by
  name with the URL; nothing is written.
- Each record is checked as a file's would be; the report lists each refused
  record with the page URL, the JSON pointer, the record id, the field and
  the reason in French and English, and nothing is written.
- **The node's own records are never overwritten.** Each harvested record is
  remembered with its source (collection ``harvest_records``, written in the
  transaction of the chunk that writes the record). A record of the
  harvest whose id the node already holds, and that was not harvested from
  this same source (created or imported locally, or harvested from another
  source), is refused by name unless it is identical to what the node holds.
  An organization merged into a local one by ``organization_identifier``
  keeps the local values entirely (a file import lets the newcomer fill gaps).
- **Where it stopped** (collection ``harvest_sources``, one document per
  source URL): after a harvest that wrote everything, the source's own clock
  at its first page (the HTTP ``Date`` header, whole seconds; the node's
  clock if there is none). The next run sends it as ``modified_after``, which
  HSDS compares on the source's side, so the two clocks never meet; the
  source's ``>=`` plus second rounding may bring a record again, which writes
  nothing. A refused harvest does not move the mark.

Example ``harvest_sources`` document::

    {"_id": "https://repertoire.example.org/hsds", "high_water":
     "2026-11-23T14:00:00Z", "harvested_at": "2026-11-23T14:00:03Z",
     "written": {"created": 0, "updated": 2, "unchanged": 5}}

Only ``http``/``https`` URLs without user, query or fragment are taken. The
source's public API already leaves out what it keeps confidential (a
shelter's address); the location keeps ``confidential_location`` here, so
the node's public view hides whatever it holds of it too.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urlsplit

import requests
import urllib3
from pymongo import ReplaceOne
from pymongo.client_session import ClientSession
from pymongo.database import Database

from services.offerings.domain import (
    Flattener,
    GeoReference,
    Origin,
    Problem,
    infer_links,
)
from services.offerings.formats import Parsed
from services.offerings.hsds import Dataset
from services.offerings.imports import ImportReport, check_parsed, write_checked
from services.offerings.repository import OfferingsRepository

log = logging.getLogger(__name__)

SOURCES = "harvest_sources"
RECORDS = "harvest_records"
PER_PAGE = 100
MAX_PAGES = 10_000
MAX_BYTES = 50 * 1024 * 1024
TIMEOUT = 30.0  # seconds per connection or read
ANSWER_DEADLINE = 300.0  # seconds for a whole answer (a dripping source)
USER_AGENT = "Maillage-harvest/1.0 (+https://maillage.quebec)"


class Refused(Exception):
    """The source cannot be harvested at all: one problem naming the URL."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


@dataclass
class HarvestReport(ImportReport):
    """An :class:`ImportReport` (``source`` is the source's URL, ``files`` the
    pages read) plus where the harvest started and stopped."""

    modified_after: str | None = None
    high_water: str | None = None
    details: int = 0
    record_ids: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)

    def record_of(self, problem: Problem) -> tuple[str, str] | None:
        """``(table, id)`` of the record a problem is about, when known."""
        return self.record_ids.get((problem.file, str(problem.row)))

    def problem_dict(self, problem: Problem) -> dict[str, Any]:
        found = self.record_of(problem)
        return {
            **problem.as_dict(),
            "table": found[0] if found else None,
            "record_id": found[1] if found else None,
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            **super().as_dict(),
            "problems": [self.problem_dict(p) for p in self.problems],
            "modified_after": self.modified_after,
            "high_water": self.high_water,
            "details": self.details,
        }


# --- the source -------------------------------------------------------------------


def source_key(url: str) -> str:
    """The source's URL as the node remembers it: ``https://host/path``,
    host lower-cased, no trailing slash. Anything but a plain http(s) URL is
    refused naming ``url``."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise Refused(
            _problem(url, "url", f"URL illisible ({exc})", f"unreadable URL ({exc})")
        ) from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused(
            _problem(
                url,
                "url",
                "seules les URL http:// ou https:// avec un hôte sont moissonnées",
                "only http:// or https:// URLs with a host are harvested",
            )
        )
    if parts.username or parts.password or parts.query or parts.fragment:
        raise Refused(
            _problem(
                url,
                "url",
                "l'URL de la source ne porte ni identifiants, ni requête, ni fragment",
                "the source URL carries no credentials, query or fragment",
            )
        )
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port else host
    return f"{parts.scheme}://{netloc}{parts.path.rstrip('/')}"


def _problem(url: str, column: str | None, fr: str, en: str) -> Problem:
    return Problem(url, None, column, fr, en)


class Fetcher:
    """GETs JSON from the source, refusing by name anything that is not."""

    def __init__(
        self,
        timeout: float = TIMEOUT,
        max_bytes: int = MAX_BYTES,
        deadline: float = ANSWER_DEADLINE,
    ) -> None:
        self.http = requests.Session()
        self.http.headers.update(
            {"Accept": "application/json", "User-Agent": USER_AGENT}
        )
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.deadline = deadline

    def close(self) -> None:
        self.http.close()

    def get(
        self, url: str, params: Mapping[str, Any] | None = None
    ) -> tuple[str, Any, requests.Response]:
        """``(the URL asked, its JSON, the response)`` or :class:`Refused`."""
        asked = requests.Request("GET", url, params=params).prepare().url or url
        try:
            with self.http.get(
                asked, timeout=self.timeout, stream=True, allow_redirects=True
            ) as response:
                body = self._body(asked, response)
        except requests.RequestException as exc:
            text = f"{type(exc).__name__}: {exc}"[:300]
            raise Refused(
                _problem(
                    asked, None, f"erreur réseau ({text})", f"network error ({text})"
                )
            ) from exc
        try:
            return asked, json.loads(body), response
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise Refused(
                _problem(
                    asked,
                    None,
                    f"réponse JSON illisible ({exc})",
                    f"unreadable JSON answer ({exc})",
                )
            ) from exc

    def _body(self, asked: str, response: requests.Response) -> bytes:
        if response.status_code != 200:
            raise Refused(
                _problem(
                    asked,
                    None,
                    f"la source a répondu HTTP {response.status_code} au lieu de 200",
                    f"the source answered HTTP {response.status_code} instead of 200",
                )
            )
        kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if kind != "application/json" and not kind.endswith("+json"):
            raise Refused(
                _problem(
                    asked,
                    "Content-Type",
                    f"JSON attendu (application/json), reçu « {kind or 'rien'} »",
                    f"JSON expected (application/json), got {kind or 'nothing'!r}",
                )
            )
        chunks: list[bytes] = []
        size = 0
        # a source that drips bytes never trips the per-read timeout: read1
        # returns what has arrived, so the deadline is checked as it drips
        until = time.monotonic() + self.deadline
        try:
            while chunk := response.raw.read1(64 * 1024, decode_content=True):
                size += len(chunk)
                if size > self.max_bytes:
                    raise Refused(
                        _problem(
                            asked,
                            None,
                            f"réponse de plus de {self.max_bytes} octets",
                            f"answer larger than {self.max_bytes} bytes",
                        )
                    )
                if time.monotonic() > until:
                    raise Refused(
                        _problem(
                            asked,
                            None,
                            f"réponse plus longue que {self.deadline:g} s",
                            f"answer took longer than {self.deadline:g} s",
                        )
                    )
                chunks.append(chunk)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            text = f"{type(exc).__name__}: {exc}"[:300]
            raise Refused(
                _problem(
                    asked, None, f"erreur réseau ({text})", f"network error ({text})"
                )
            ) from exc
        return b"".join(chunks)


def _source_clock(response: requests.Response) -> str | None:
    text = response.headers.get("Date")
    if not text:
        return None
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return _iso(moment)


def _iso(moment: datetime) -> str:
    return (
        moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    )


def check_root(base: str, fetcher: Fetcher) -> list[Problem]:
    """The API root: another major version is refused; a root that does not
    answer HSDS is a warning only (the pages are checked anyway)."""
    try:
        asked, doc, _ = fetcher.get(base + "/")
    except Refused as refused:
        return [
            Problem(
                refused.problem.file,
                None,
                None,
                f"racine de l'API HSDS absente ({refused.problem.fr})",
                f"no HSDS API root ({refused.problem.en})",
                fatal=False,
            )
        ]
    version = doc.get("version") if isinstance(doc, dict) else None
    if version is not None and not str(version).startswith("3"):
        raise Refused(
            _problem(
                asked,
                "version",
                f"HSDS 3.x attendu, la source annonce « {version} »",
                f"HSDS 3.x expected, the source says {version!r}",
            )
        )
    return []


# --- reading the pages ------------------------------------------------------------


@dataclass
class Pages:
    parsed: Parsed
    record_ids: dict[tuple[str, str], tuple[str, str]]
    clock: str | None
    details: int


def read_services(
    base: str,
    since: str | None,
    fetcher: Fetcher,
    per_page: int = PER_PAGE,
    max_pages: int = MAX_PAGES,
) -> Pages:
    """Every page of ``/services`` (full services), flattened as a JSON file's
    would be; each record's origin is its page URL and JSON pointer."""
    parsed = Parsed(source_format="hsds-api")
    flattener = Flattener(parsed.dataset)
    clock: str | None = None
    details = 0
    seen = 0
    number = 1
    while True:
        params: dict[str, Any] = {"page": number, "per_page": per_page, "full": "true"}
        if since:
            params["modified_after"] = since
        asked, doc, response = fetcher.get(base + "/services", params)
        if number == 1:
            clock = _source_clock(response)
        contents, total_pages, total_items = _page(asked, doc)
        parsed.files.append(asked)
        for index, item in enumerate(contents):
            parsed.rows_read += 1
            origin = Origin(asked, f"/contents/{index}")
            if isinstance(item, dict) and "service_at_locations" not in item:
                service_id = item.get("id")
                if isinstance(service_id, str) and service_id:
                    origin, item = _detail(base, service_id, fetcher)
                    details += 1
            flattener.add("service", item, origin)
        seen += len(contents)
        if (
            not contents
            or doc.get("last_page") is True
            or (total_pages is not None and number >= total_pages)
            or (total_pages is None and total_items is not None and seen >= total_items)
        ):
            break
        number += 1
        if number > max_pages:
            raise Refused(
                _problem(
                    asked,
                    "total_pages",
                    f"plus de {max_pages} pages : moisson arrêtée",
                    f"more than {max_pages} pages: harvest stopped",
                )
            )
    infer_links(parsed.dataset)
    parsed.origins.update(flattener.origins)
    parsed.problems += flattener.problems
    record_ids = {
        (origin.file, str(origin.row)): key for key, origin in flattener.origins.items()
    }
    return Pages(parsed, record_ids, clock, details)


def _page(asked: str, doc: Any) -> tuple[list[Any], int | None, int | None]:
    """``contents``, ``total_pages``, ``total_items`` of an HSDS ``Page``."""
    if not isinstance(doc, dict) or not isinstance(doc.get("contents"), list):
        raise Refused(
            _problem(
                asked,
                "contents",
                "pas une page HSDS : liste « contents » absente",
                "not an HSDS Page: no 'contents' list",
            )
        )
    counts: dict[str, int | None] = {}
    for name in ("total_pages", "total_items"):
        value = doc.get(name)
        if value is not None and (
            not isinstance(value, int) or isinstance(value, bool) or value < 0
        ):
            raise Refused(
                _problem(
                    asked,
                    name,
                    "entier positif ou nul attendu",
                    "non-negative integer expected",
                )
            )
        counts[name] = value
    if counts["total_pages"] is None and counts["total_items"] is None:
        raise Refused(
            _problem(
                asked,
                "total_pages",
                "pas une page HSDS : ni « total_pages » ni « total_items »",
                "not an HSDS Page: neither 'total_pages' nor 'total_items'",
            )
        )
    return doc["contents"], counts["total_pages"], counts["total_items"]


def _detail(base: str, service_id: str, fetcher: Fetcher) -> tuple[Origin, Any]:
    asked, doc, _ = fetcher.get(f"{base}/services/{quote(service_id, safe='')}")
    if not isinstance(doc, dict) or doc.get("id") != service_id:
        raise Refused(
            _problem(
                asked,
                "id",
                f"le service {service_id} attendu n'est pas dans la réponse",
                f"the expected service {service_id} is not in the answer",
            )
        )
    return Origin(asked, "/"), doc


# --- what the node owns -----------------------------------------------------------


class HarvestStore:
    """The harvest's own collections in the offerings database: where each
    source stopped, and which records came from which source."""

    def __init__(self, db: Database[dict[str, Any]]) -> None:
        self.db = db

    def ensure(self) -> None:
        # collections exist before the first transaction writes to them
        self.db[RECORDS].create_index("source")
        self.db[SOURCES].create_index("harvested_at")

    def mark(self, source: str) -> str | None:
        doc = self.db[SOURCES].find_one({"_id": source})
        return str(doc["high_water"]) if doc and doc.get("high_water") else None

    def save_mark(self, source: str, high_water: str, report: ImportReport) -> None:
        self.db[SOURCES].replace_one(
            {"_id": source},
            {
                "_id": source,
                "high_water": high_water,
                "harvested_at": _iso(datetime.now(UTC)),
                "written": report.written,
            },
            upsert=True,
        )

    def sources_of(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
        if not keys:
            return {}
        docs = self.db[RECORDS].find({"_id": {"$in": [_key(t, i) for t, i in keys]}})
        return {(d["table"], d["record_id"]): d["source"] for d in docs}

    def remember(
        self,
        chunk: Dataset,
        source: str,
        skip: set[tuple[str, str]],
        session: ClientSession,
    ) -> None:
        when = _iso(datetime.now(UTC))
        writes = [
            ReplaceOne(
                {"_id": _key(table, record_id)},
                {
                    "_id": _key(table, record_id),
                    "table": table,
                    "record_id": record_id,
                    "source": source,
                    "harvested_at": when,
                },
                upsert=True,
            )
            for table, rows in chunk.items()
            for record_id in rows
            if (table, record_id) not in skip
        ]
        if writes:
            self.db[RECORDS].bulk_write(writes, ordered=False, session=session)


def _key(table: str, record_id: str) -> str:
    return f"{table}/{record_id}"


def guard_local(
    dataset: Dataset,
    origins: Mapping[tuple[str, str], Origin],
    source: str,
    repository: OfferingsRepository,
    store: HarvestStore,
    merged_into: set[str],
) -> tuple[list[Problem], set[tuple[str, str]]]:
    """Refuse every record of the harvest that would overwrite one the node
    owns. Returns the problems, and the records left as the node holds them
    (identical ones, organizations merged into a local one), which are not
    marked as harvested."""
    held = repository.existing_ids({t: list(rows) for t, rows in dataset.items()})
    keys = [(t, i) for t, ids in held.items() for i in ids]
    owners = store.sources_of(keys)
    problems: list[Problem] = []
    kept: set[tuple[str, str]] = set()
    for table, record_id in sorted(keys):
        owner = owners.get((table, record_id))
        if owner == source:
            continue
        stored = repository.get(table, record_id)
        if table == "organization" and record_id in merged_into and stored is not None:
            dataset[table][record_id] = stored  # the local values, all of them
            kept.add((table, record_id))
            continue
        if stored == dataset[table][record_id]:
            kept.add((table, record_id))
            continue
        origin = origins.get((table, record_id), Origin(source, None))
        whose_fr = f"la source {owner}" if owner else "ce nœud (créé ou importé ici)"
        whose_en = (
            f"the source {owner}" if owner else "this node (created or imported here)"
        )
        problems.append(
            Problem(
                origin.file,
                origin.row,
                "id",
                f"{table} {record_id} appartient à {whose_fr} : "
                "une moisson ne le remplace jamais",
                f"{table} {record_id} belongs to {whose_en}: "
                "a harvest never overwrites it",
            )
        )
    return problems, kept


# --- the harvest ------------------------------------------------------------------


def parse_since(text: str) -> str:
    """``--modified-after``: a date (00:00 UTC) or a date-time with its zone,
    as ISO 8601 UTC. ``ValueError`` (bilingual) otherwise."""
    try:
        if len(text) == 10:
            moment = datetime.fromisoformat(text).replace(tzinfo=UTC)
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(
            f"--modified-after : date ISO 8601 attendue ({text!r}) / "
            f"ISO 8601 date expected ({text!r})"
        ) from exc
    if moment.tzinfo is None:
        raise ValueError(
            "--modified-after : une date et heure porte son fuseau (Z, -05:00) / "
            "a date-time carries its time zone (Z, -05:00)"
        )
    return _iso(moment)


def harvest(
    url: str,
    db: Database[dict[str, Any]],
    who: str,
    geo: GeoReference | None = None,
    *,
    modified_after: str | None = None,
    everything: bool = False,
    per_page: int = PER_PAGE,
    node_id: str = "local",
    chunk_size: int = 200,
    fetcher: Fetcher | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> HarvestReport:
    """Harvest ``url`` (see the module docstring). ``modified_after`` (ISO
    8601 UTC) overrides the remembered mark; ``everything`` asks for all."""
    report = HarvestReport(source=url, format="hsds-api")
    try:
        source = source_key(url)
    except Refused as refused:
        report.problems.append(refused.problem)
        return report
    report.source = source
    repository = OfferingsRepository(db)
    repository.ensure_indexes()
    store = HarvestStore(db)
    store.ensure()
    since = modified_after or (None if everything else store.mark(source))
    report.modified_after = since
    started = _iso(clock())
    own = fetcher is None
    fetcher = fetcher or Fetcher()
    try:
        warnings = check_root(source, fetcher)
        pages = read_services(source, since, fetcher, per_page)
    except Refused as refused:
        report.problems.append(refused.problem)
        log.info("harvest of %s refused: %s", source, refused)
        return report
    finally:
        if own:
            fetcher.close()
    dataset, checked = check_parsed(pages.parsed, source, repository, geo)
    for name in ImportReport.__dataclass_fields__:
        setattr(report, name, getattr(checked, name))
    report.source = source
    report.modified_after = since
    report.details = pages.details
    report.record_ids = pages.record_ids
    report.warnings = warnings + report.warnings
    merged_into = set(report.merged_organizations.values())
    guarded, kept = guard_local(
        dataset, pages.parsed.origins, source, repository, store, merged_into
    )
    report.problems += guarded
    if not report.ok:
        log.info("harvest of %s refused: %d problems", source, len(report.problems))
        return report
    write_checked(
        db,
        repository,
        dataset,
        report,
        who,
        node_id=node_id,
        chunk_size=chunk_size,
        within=lambda chunk, session: store.remember(chunk, source, kept, session),
    )
    report.high_water = pages.clock or started
    store.save_mark(source, report.high_water, report)
    return report
