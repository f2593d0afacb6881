"""Search over 100,000 generated services spread over Quebec's MRCs.

Rows (one fixed set of requests, the same for every path, in one run):

- ``gateway GET /services (HTTP)``: the whole path a client sees: HTTP to the
  gateway under gunicorn, RPC over RabbitMQ to the offerings service
  (``nameko run``), its index file (the one built below: ``node_ready_s``
  is from starting both processes to the first page), then the page's HSDS
  documents read from the store (set ``BENCH_SEARCH_GATEWAY=0`` to skip);
- ``repository.search, FTS5 index file``: the project's path, what the
  offerings service runs for ``GET /services``: check the directory's
  position in the store (one read), then the SQLite FTS5 index file
  (tokenise, one MATCH with the facets, BM25, paginate, exact total);
  ``index_build_s`` is its build from every projection (a missing file),
  ``ready_after_restart_s`` its reopening with a current file;
- ``repository.search, in-memory index (before)``: the hand-written index
  the file replaced (postings per facet), same position read; its
  ``ready_after_restart_s`` is a full read of the projections plus build,
  which it paid at every restart;
- ``store find, same filter``: baseline, the same query handed straight to
  the store as a filter on the projections, ``find().limit(per_page)``, no
  ranking and no total. The store has no secondary index on the projections'
  arrays: building a multikey token index on the local store (SecantusDB)
  took 65 s for 1,000 services, so at 100,000 it is not an option; each
  request scans, hence a smaller fixed request count for this row.

:func:`measure` takes any callable and the same :data:`QUERIES`, e.g.
``measure("gateway", lambda q: session.get(url, params=http_params(q)),
QUERIES)``.

Data: services get a name and a description written from French and English
phrases of social services, 1 to 2 locations in municipalities drawn from
``../shared/data/quebec_geo/qc_census_subdivisions.csv`` (so every MRC is
covered), languages, outreach modes, waiting lists and weekly hours. A fixed
seed makes every run search the same directory.
"""

from __future__ import annotations

import csv
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from services.offerings.domain import (
    SearchIndex,
    SearchQuery,
    ServiceView,
    search_entry,
    week_minute,
)
from services.offerings.repository import SEARCH, OfferingsRepository

ROOT = Path(__file__).resolve().parent.parent
GEO = ROOT.parent / "shared" / "data" / "quebec_geo" / "qc_census_subdivisions.csv"
SERVICES = int(os.environ.get("BENCH_SEARCH_SERVICES", "100000"))
REQUESTS = int(os.environ.get("BENCH_SEARCH_REQUESTS", "400"))
SCAN_REQUESTS = int(os.environ.get("BENCH_SEARCH_SCAN_REQUESTS", "16"))
SEED = 2026
GATEWAY = os.environ.get("BENCH_SEARCH_GATEWAY", "1") != "0"

KINDS = [
    ("Aide alimentaire", "Food assistance", "alimentation"),
    ("Popote roulante", "Meals on wheels", "alimentation"),
    ("Banque alimentaire", "Food bank", "alimentation"),
    ("Hébergement d'urgence", "Emergency shelter", "hebergement"),
    ("Logement social", "Social housing", "logement"),
    ("Soutien aux proches aidants", "Caregiver support", "aidants"),
    ("Aide aux devoirs", "Homework help", "education"),
    ("Halte-garderie", "Drop-in daycare", "famille"),
    ("Santé mentale : écoute", "Mental health listening line", "sante_mentale"),
    ("Accompagnement-transport médical", "Medical transport escort", "transport"),
    ("Friperie communautaire", "Community thrift shop", "materiel"),
    ("Cuisine collective", "Community kitchen", "alimentation"),
    ("Intervention de milieu auprès des aînés", "Outreach worker for seniors", "aines"),
    ("Travail de rue", "Street outreach", "itinerance"),
    (
        "Francisation des personnes immigrantes",
        "French classes for newcomers",
        "immigration",
    ),
    ("Clinique d'impôts bénévole", "Volunteer tax clinic", "budget"),
    ("Maison des jeunes", "Youth centre", "jeunesse"),
    ("Centre de femmes", "Women's centre", "femmes"),
    ("Soutien en dépendances", "Addiction support", "dependances"),
    ("Répit pour familles", "Respite for families", "famille"),
]
FOR_WHOM = [
    "pour les aînés",
    "pour les familles",
    "pour les jeunes de 12 à 17 ans",
    "pour les femmes",
    "pour les personnes immigrantes",
    "pour les personnes seules",
    "pour les proches aidants",
    "pour tous",
]
PHRASES = [
    "Service gratuit et confidentiel offert par un organisme communautaire.",
    "Accueil chaleureux, sans jugement, en personne ou par téléphone.",
    "Les bénévoles se déplacent à domicile dans toute la MRC.",
    "Inscription requise; une liste d'attente peut s'appliquer.",
    "Repas chauds, paniers d'épicerie et dépannage alimentaire.",
    "Free and confidential service; English spoken on request.",
    "Référence d'un CLSC non nécessaire, appelez-nous directement.",
    "Ateliers de groupe, cafés-rencontres et activités de socialisation.",
    "Accompagnement dans les démarches auprès des ressources du réseau.",
    "Heures prolongées le jeudi soir et certaines fins de semaine.",
    "Soutien psychosocial, écoute active et références personnalisées.",
    "Located downtown, wheelchair accessible, near public transit.",
]
HOURS = [
    ("MO,TU,WE,TH,FR", "09:00", "17:00"),
    ("MO,TU,WE,TH,FR", "08:30", "16:30"),
    ("TU,TH", "13:00", "21:00"),
    ("SA,SU", "10:00", "16:00"),
    ("MO,WE,FR", "18:00", "22:00"),
    ("MO,TU,WE,TH,FR,SA,SU", "00:00", "23:59"),
]
OUTREACH = ["at_home", "public_spaces", "community_organizations"]

QUERIES: list[dict[str, Any]] = [
    {"search": "aide alimentaire"},
    {"search": "aines", "mrc": "2466"},
    {"search": "hébergement d'urgence", "per_page": 10},
    {"search": "homework help"},
    {"search": "santé mentale", "language": "en"},
    {"search": "popote roulante", "mrc": "2423"},
    {"search": "logement", "page": 3},
    {"mrc": "2478", "no_referral_required": True},
    {"municipality": "2466023", "outreach_mode": "at_home"},
    {"mrc": "2494", "waiting_list_open": True},
    {"search": "travail de rue", "open_at": "2026-11-24T10:00"},
    {"taxonomy_term_id": "alimentation", "mrc": "2403"},
    {"search": "cuisine collective", "outreach_mode": "community_organizations"},
    {"language": "en", "mrc": "2471"},
    {"search": "friperie"},
    {"search": "repit familles", "no_referral_required": True},
]


def _municipalities() -> list[tuple[str, str]]:
    with GEO.open(newline="", encoding="utf-8") as handle:
        return [
            (row["id"].rsplit("csd:", 1)[1], row["name_fr"] or row["name"])
            for row in csv.DictReader(handle)
        ]


def generate(count: int, seed: int = SEED) -> Iterator[tuple[dict, dict]]:
    """``(service record, search entry)`` pairs, deterministic for a seed."""
    rng = random.Random(seed)
    places = _municipalities()
    for index in range(count):
        fr, en, term = KINDS[index % len(KINDS)]
        code, town = places[rng.randrange(len(places))]
        locations = [
            {
                "id": str(uuid.UUID(int=rng.getrandbits(128))),
                "name": f"Point de service de {town}",
                "mrc_code": code[:4],
                "municipality_code": code,
            }
        ]
        if rng.random() < 0.3:
            other, other_town = places[rng.randrange(len(places))]
            locations.append(
                {
                    "id": str(uuid.UUID(int=rng.getrandbits(128))),
                    "name": f"Antenne de {other_town}",
                    "mrc_code": other[:4],
                    "municipality_code": other,
                }
            )
        service = {
            "id": str(uuid.UUID(int=rng.getrandbits(128))),
            "organization_id": str(uuid.UUID(int=rng.getrandbits(128))),
            "name": f"{fr} {rng.choice(FOR_WHOM)} – {town}",
            "alternate_name": en,
            "description": " ".join(rng.sample(PHRASES, 3)),
            "status": "active",
            "publication_status": "published",
            "no_referral_required": rng.random() < 0.6,
            "outreach_modes": ",".join(rng.sample(OUTREACH, rng.randrange(0, 3))),
            "waiting_list_open": rng.random() < 0.25,
        }
        languages = [{"code": "fr"}] + ([{"code": "en"}] if rng.random() < 0.3 else [])
        days, opens, closes = rng.choice(HOURS)
        schedules = [
            {"freq": "WEEKLY", "byday": days, "opens_at": opens, "closes_at": closes}
        ]
        view = ServiceView(
            service,
            None,
            locations,
            languages,
            schedules,
            [term],
            [{"name": term.replace("_", " ")}],
        )
        yield service, search_entry(view)


def http_params(params: dict[str, Any]) -> dict[str, Any]:
    """The same query as ``GET /services`` parameters (for the gateway row):
    a fixed ``open_at`` becomes ``open_now``, booleans become strings."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        if key == "open_at":
            out["open_now"] = "true"
        elif isinstance(value, bool):
            out[key] = "true" if value else "false"
        else:
            out[key] = value
    return out


def _query(params: dict[str, Any]) -> SearchQuery:
    values = dict(params)
    text = values.pop("search", "")
    open_at = values.pop("open_at", None)
    return SearchQuery(
        text=text,
        open_at=datetime.fromisoformat(open_at) if open_at else None,
        **values,
    )


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def measure(
    path: str,
    call: Callable[[dict[str, Any]], Any],
    queries: list[dict[str, Any]],
    requests: int = REQUESTS,
    warm_up: bool = True,
) -> dict[str, Any]:
    """Run ``requests`` calls cycling through ``queries``, one at a time."""
    for params in queries if warm_up else ():  # one pass, not measured
        call(params)
    latencies = []
    started = time.perf_counter()
    for index in range(requests):
        params = queries[index % len(queries)]
        t0 = time.perf_counter()
        call(params)
        latencies.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - started
    return {
        "path": path,
        "services": SERVICES,
        "requests": requests,
        "req_per_s": round(requests / elapsed, 1 if requests > elapsed else 3),
        "p50_ms": round(_percentile(latencies, 0.50) * 1000, 2),
        "p99_ms": round(_percentile(latencies, 0.99) * 1000, 2),
    }


def store_filter(params: dict[str, Any]) -> dict[str, Any]:
    """The same query as a store filter on the projections (the baseline)."""
    query = _query(params)
    filt: dict[str, Any] = {"published": True}
    if query.terms:
        filt["tokens"] = {"$all": query.terms}
    for column, value in (
        ("mrc", query.mrc),
        ("municipality", query.municipality),
        ("taxonomy_term", query.taxonomy_term_id),
        ("outreach", query.outreach_mode),
    ):
        if value:
            filt[column] = value
    if query.language:
        filt["language"] = query.language
    if query.no_referral_required is not None:
        filt["no_referral"] = query.no_referral_required
    if query.waiting_list_open is not None:
        filt["waiting_list_open"] = query.waiting_list_open
    if query.open_at is not None:
        minute = week_minute(query.open_at)
        filt["slots"] = {"$elemMatch": {"s": {"$lte": minute}, "e": {"$gt": minute}}}
    return filt


NODE_READY_S: list[float] = []  # start of the service and gateway to first page
MGMT = os.environ.get("MAILLAGE_TEST_RABBIT_API", "http://127.0.0.1:15672/api")
AMQP_HOST = os.environ.get("MAILLAGE_TEST_AMQP_HOST", "127.0.0.1:5672")
PREFIX = "bench_"  # the service's database is <prefix>offerings


@contextmanager
def _gateway_node(store_uri: str, logs: Path, index_dir: Path) -> Iterator[str]:
    """The offerings service (``nameko run``) and the gateway (gunicorn) on a
    throwaway RabbitMQ vhost, over the benchmark's store; yields the base URL."""
    import requests

    from shared.localstore import free_port
    from shared.node import gateway_command, service_class_name
    from shared.rabbitadmin import BrokerAdmin

    broker = BrokerAdmin(MGMT)
    vhost = broker.add_vhost(prefix="bench-search")
    port = free_port()
    env = dict(
        os.environ,
        AMQP_URI=f"amqp://guest:guest@{AMQP_HOST}/{vhost}",
        MONGODB_URI=store_uri,
        DB_PREFIX=PREFIX,
        MAILLAGE_SECRET_KEY="bench-search-" + "0123456789" * 4,
        MAILLAGE_RPC_TIMEOUT="300",
        MAILLAGE_GATEWAY_BIND=f"127.0.0.1:{port}",
        MAILLAGE_GATEWAY_WORKERS="2",
        MAILLAGE_GATEWAY_THREADS="8",
        PROMETHEUS_MULTIPROC_DIR=str(logs / "prom"),
        LOG_LEVEL="WARNING",
        OFFERINGS_INDEX_DIR=str(index_dir),
    )
    (logs / "prom").mkdir(exist_ok=True)
    module = "services.offerings.service"
    commands = [
        [
            sys.executable,
            "-m",
            "nameko",
            "run",
            "--config",
            str(ROOT / "deploy" / "config.yaml"),
            f"{module}:{service_class_name(module)}",
        ],
        gateway_command(),
    ]
    procs = []
    started = time.perf_counter()
    try:
        for index, command in enumerate(commands):
            service_env = (
                dict(env, METRICS_PORT=str(free_port())) if index == 0 else env
            )
            procs.append(
                subprocess.Popen(
                    command,
                    env=service_env,
                    cwd=ROOT,
                    stdout=(logs / f"p{index}.log").open("wb"),
                    stderr=subprocess.STDOUT,
                )
            )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 600
        while True:  # until the service answers (its index is read at first use)
            try:
                if requests.get(base + "/services", timeout=300).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the gateway or the offerings service did not start")
            time.sleep(0.5)
        NODE_READY_S.append(round(time.perf_counter() - started, 1))
        yield base
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        broker.delete_vhost(vhost)


def run() -> list[dict[str, Any]]:
    import pymongo

    from services.offerings.repository import LiveIndex
    from shared.localstore import LocalStore

    with tempfile.TemporaryDirectory() as tmp, LocalStore(Path(tmp)) as store:
        client: pymongo.MongoClient = pymongo.MongoClient(store.uri)
        db = client[f"{PREFIX}offerings"]
        repository = OfferingsRepository(db)
        repository.ensure_indexes()
        t0 = time.perf_counter()
        batch: list[dict[str, Any]] = []
        services: list[dict[str, Any]] = []
        for service, entry in generate(SERVICES):
            entry["modified"] = "2026-11-23T00:00:00Z"
            batch.append(entry)
            services.append({**service, "_id": service["id"]})
            if len(batch) == 5000:
                repository.insert_search_entries(batch)
                db["hsds_service"].insert_many(services, ordered=False)
                batch, services = [], []
        repository.insert_search_entries(batch)
        if services:
            db["hsds_service"].insert_many(services, ordered=False)
        repository.bump_generation()
        load_seconds = round(time.perf_counter() - t0, 1)

        # the index file where the gateway's offerings service will look
        index_dir = Path(tmp) / "search"
        index_path = str(index_dir / f"{db.name}.sqlite3")
        t0 = time.perf_counter()
        live = LiveIndex(index_path)
        live.current(repository)
        index_seconds = round(time.perf_counter() - t0, 1)
        live.close()
        t0 = time.perf_counter()  # a restart: reopen the file, check the position
        live = LiveIndex(index_path)
        live.current(repository)
        ready_seconds = round(time.perf_counter() - t0, 3)
        index_mb = round(os.path.getsize(index_path) / 1e6, 1)
        # before: the hand-written in-memory index, rebuilt at every restart
        t0 = time.perf_counter()
        memory = SearchIndex()
        for entry in repository.load_entries(None):
            memory.put(entry)
        memory_seconds = round(time.perf_counter() - t0, 1)
        filters = [store_filter(q) for q in QUERIES]

        def project(params: dict[str, Any]) -> Any:
            return repository.search(_query(params), live.current(repository))

        def before(params: dict[str, Any]) -> Any:
            repository.generation()  # the same position read per search
            return memory.search(_query(params))

        def direct(params: dict[str, Any]) -> Any:
            per_page = int(params.get("per_page", 20))
            filt = filters[QUERIES.index(params)]
            return list(db[SEARCH].find(filt, {"_id": 1}).limit(per_page))

        rows = [
            measure("repository.search, FTS5 index file (project)", project, QUERIES),
            measure("repository.search, in-memory index (before)", before, QUERIES),
            measure(
                "store find, same filter (baseline)",
                direct,
                QUERIES,
                SCAN_REQUESTS,
                warm_up=False,
            ),
        ]
        if GATEWAY:
            import requests

            with _gateway_node(store.uri, Path(tmp), index_dir) as base:
                session = requests.Session()

                def through_gateway(params: dict[str, Any]) -> Any:
                    response = session.get(
                        base + "/services", params=http_params(params), timeout=300
                    )
                    response.raise_for_status()
                    return response.content

                rows.insert(
                    0, measure("gateway GET /services (HTTP)", through_gateway, QUERIES)
                )
                rows[0]["node_ready_s"] = NODE_READY_S[-1]
        for row in rows:
            row["store_load_s"] = load_seconds
            if "before" in row["path"]:
                row["index_build_s"] = memory_seconds
                row["ready_after_restart_s"] = memory_seconds
            else:
                row["index_build_s"] = index_seconds
                row["ready_after_restart_s"] = ready_seconds
                row["index_file_mb"] = index_mb
        client.close()
        return rows
