"""``make federation-demo``: three MRC nodes and their regional coordinator.

Gaspésie: the MRCs Le Rocher-Percé (2402), La Côte-de-Gaspé (2403) and
La Haute-Gaspésie (2404) each run a node; ``region-11`` coordinates. Each node
is a vhost on the local RabbitMQ with its own federation service (a
``nameko run`` process), its own key and its own store databases; the
coordinator pulls from the MRCs and the MRCs pull the regional roll-up back,
all through RabbitMQ exchange federation set by ``apply``.

Each MRC's board first adopts its agreements by resolution
(``boards.resolution_adopted``): an MRC's node names its board, and nothing
leaves it under an agreement the board has not adopted as written.

The scripted day, published on each MRC's own events exchange (standing in
for its services' outbox relays):

1. a proximity service is published (``offerings.service_published``): no
   agreement covers it, so it never leaves its MRC;
2. a priority vote is closed (``participation.results_published``): the
   ranking and ballot count go to the coordinator, the receipts hash does not;
   La Haute-Gaspésie's 4 ballots are at or below the threshold: withheld;
3. indicator values are approved (``indicators.values_approved``): cells of 5
   or fewer are suppressed before signing;
4. the coordinator sums what it received into a regional roll-up
   (``indicators.rollup_published``), which goes back to the three MRCs.

Then each node prints what it received.
"""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import requests
import yaml
from pymongo import MongoClient

from services.federation.domain import agreement_digest
from services.federation.events import RESOLUTION_ADOPTED
from services.federation.identity import NodeIdentity, init_identity
from services.federation.management import apply, wait_for_links
from services.federation.schemas import load_config
from shared.broker import BatchPublisher
from shared.envelope import Envelope
from shared.localstore import LocalStore
from shared.rabbitadmin import BrokerAdmin

ROOT = Path(__file__).resolve().parent.parent.parent
GEO = ROOT.parent / "shared" / "data" / "quebec_geo" / "qc_census_divisions.csv"
AMQP = os.environ.get("MAILLAGE_DEMO_AMQP_HOST", "127.0.0.1:5672")
API = os.environ.get("MAILLAGE_DEMO_RABBIT_API", "guest:guest@127.0.0.1:15672")
MRCS = ("2402", "2403", "2404")
REGION = "region-11"
RESULTS = "participation.results_published"
APPROVED = "indicators.values_approved"
ROLLUP = "indicators.rollup_published"
OFFERING = "offerings.service_published"

TO_REGION = [
    {
        "type": RESULTS,
        "fields": ["process_id", "mrc_code", "method", "priorities", "ballots"],
        "count_fields": ["ballots"],
    },
    {
        "type": APPROVED,
        "fields": ["indicator", "period", "mrc_code", "cells"],
        "cell_fields": ["org_unit", "sex"],
        "count_fields": ["count"],
    },
]
FROM_REGION = [
    {
        "type": ROLLUP,
        "fields": ["indicator", "period", "cells"],
        "cell_fields": ["org_unit"],
        "count_fields": ["count"],
    }
]


def _names() -> dict[str, str]:
    """MRC names from the reference data when it is there (never copied)."""
    if not GEO.exists():
        return {}
    with GEO.open(encoding="utf-8") as f:
        return {
            row["id"].rsplit(":", 1)[1]: row["name_fr"] for row in csv.DictReader(f)
        }


def _agreement(
    me: str, peer: str, direction: str, types: list[dict[str, Any]]
) -> dict[str, Any]:
    sender, receiver = (me, peer) if direction == "out" else (peer, me)
    return {
        "id": f"{sender}-to-{receiver}",  # the same id in both nodes' configs
        "peer": peer,
        "direction": direction,
        "event_types": types,
        "aggregates_only": True,
        "suppression_threshold": 5,
        "valid_from": "2026-01-01",
        "valid_until": "2027-12-31",
    }


class Demo:
    def __init__(self, base: Path) -> None:
        self.base = base
        self.store = LocalStore(base / "store")
        self.nodes = [f"mrc-{code}" for code in MRCS] + [REGION]
        self.vhost = {node: f"demo-{node}" for node in self.nodes}
        self.ids: dict[str, NodeIdentity] = {}
        self.configs: dict[str, Path] = {}
        self.procs: list[subprocess.Popen[bytes]] = []
        self.broker = BrokerAdmin(f"http://{API}/api")

    def uri(self, node: str) -> str:
        return f"amqp://guest:guest@{AMQP}/{self.vhost[node]}"

    def _api(self, method: str, path: str, **kw: Any) -> requests.Response:
        return requests.request(method, f"http://{API}/api/{path}", timeout=30, **kw)

    def setup(self) -> None:
        self.store.start()
        for node in self.nodes:
            self.broker.delete_vhost(self.vhost[node])  # a fresh start
            self.broker.add_vhost(self.vhost[node])
            key = self.base / "keys" / f"{node}.ed25519"
            self.ids[node] = init_identity(node, key)
        for node in self.nodes:
            self.configs[node] = self._write_config(node)
        for node in self.nodes:
            apply(load_config(self.configs[node]))

    def _write_config(self, node: str) -> Path:
        me = self.ids[node]
        if node == REGION:
            peers = [n for n in self.nodes if n != REGION]
            agreements = [_agreement(node, p, "in", TO_REGION) for p in peers] + [
                _agreement(node, p, "out", FROM_REGION) for p in peers
            ]
        else:
            peers = [REGION]
            agreements = [
                _agreement(node, REGION, "out", TO_REGION),
                _agreement(node, REGION, "in", FROM_REGION),
            ]
        data = {
            "node": {
                "id": node,
                "role": "coordinator" if node == REGION else "mrc",
                "territory": "11" if node == REGION else node[4:],
                "signing_key": str(me.key_path),
                # an MRC's table (the boards service's id) adopts its agreements
                **({} if node == REGION else {"board": node}),
            },
            "broker": {
                "amqp_uri": self.uri(node),
                "management_url": f"http://{API}/api",
                "vhost": self.vhost[node],
            },
            "peers": [
                {
                    "id": p,
                    "public_key": self.ids[p].public_key_b64,
                    "upstream_uri": self.uri(p),
                    # what the peer may speak for: its MRC, or the region
                    "territory": "region:11" if p == REGION else f"cd:{p[4:]}",
                }
                for p in peers
            ],
            "agreements": agreements,
        }
        path = self.base / f"{node}.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        return path

    def start_services(self) -> None:
        for node in self.nodes:
            env = dict(
                os.environ,
                AMQP_URI=self.uri(node),
                MONGODB_URI=self.store.uri,
                DB_PREFIX=f"demo_{node.replace('-', '_')}_",
                NODE_ID=node,
                NODE_CONFIG=str(self.configs[node]),
                LOG_LEVEL="WARNING",
                METRICS_PORT="",
            )
            log = open(self.base / f"{node}.log", "ab")  # noqa: SIM115
            self.procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "nameko",
                        "run",
                        "--config",
                        str(ROOT / "deploy" / "config.yaml"),
                        "services.federation.service",
                    ],
                    env=env,
                    cwd=ROOT,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        for node in self.nodes:
            wait_for_links(load_config(self.configs[node]), timeout=60)
            self._wait_queue(node, "federation.share")

    def _wait_queue(self, node: str, queue: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._api("GET", f"queues/{self.vhost[node]}/{queue}").ok:
                return
            time.sleep(0.3)
        raise RuntimeError(f"{node}: the federation service did not start")

    def adopt_agreements(self, timeout: float = 60) -> None:
        """Each MRC's board adopts its agreements as written, by resolution
        (``boards.resolution_adopted`` carrying each agreement's digest, as the
        boards service sends it): until then nothing leaves or arrives."""
        waiting = {}
        for node in self.nodes:
            if node == REGION:
                continue
            config = load_config(self.configs[node])
            resolutions = [
                Envelope(
                    RESOLUTION_ADOPTED,
                    {
                        "board_id": config.board,
                        "resolution_id": f"res-{node}-{i + 1}",
                        "number": f"2026-{i + 1:03d}",
                        "adopted_on": "2026-01-15",
                        "definition": {
                            "service": "federation",
                            "kind": "agreement",
                            "id": a.id,
                            "digest": agreement_digest(a),
                        },
                    },
                    node,
                )
                for i, a in enumerate(config.agreements)
            ]
            self.publish(node, resolutions)
            waiting[node] = len(resolutions)
        deadline = time.monotonic() + timeout
        client = MongoClient(self.store.uri)
        try:
            for node, count in waiting.items():
                db = client[f"demo_{node.replace('-', '_')}_federation"]
                while db.adoptions.count_documents({}) < count:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{node}: the board's adoptions are late")
                    time.sleep(0.3)
        finally:
            client.close()

    def publish(self, node: str, events: list[Envelope]) -> None:
        publisher = BatchPublisher(self.uri(node))
        publisher.connect()
        publisher.publish_batch([e.to_dict() for e in events])
        publisher.close()

    def received(self, node: str) -> list[dict[str, Any]]:
        client = MongoClient(self.store.uri)
        db = client[f"demo_{node.replace('-', '_')}_federation"]
        docs = list(db.received.find().sort("received_at", 1))
        client.close()
        return docs

    def wait_received(self, node: str, count: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while len(self.received(node)) < count and time.monotonic() < deadline:
            time.sleep(0.3)

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.store.stop()
        for node in self.nodes:
            self.broker.delete_vhost(self.vhost[node])


def scripted_day(mrc_code: str, i: int) -> list[Envelope]:
    node = f"mrc-{mrc_code}"
    ballots = (412, 237, 4)[i]
    cells = [
        {"org_unit": f"csd:{mrc_code}{5 * (k + 1):03d}", "sex": sex, "count": n}
        for k, (sex, n) in enumerate([("F", 40 + i), ("M", 31), ("F", 3 + i)])
    ]
    return [
        Envelope(
            OFFERING,
            {
                "id": f"svc-{mrc_code}",
                "name": "Halte-répit",
                "mrc_code": mrc_code,
                "confidential_location": True,
            },
            node,
        ),
        Envelope(
            RESULTS,
            {
                "process_id": f"budget-{mrc_code}",
                "mrc_code": mrc_code,
                "method": "irv",
                "ballots": ballots,
                "priorities": [{"rank": 1, "proposal_id": "a1", "title": "Transport"}],
                "receipts_sha256": hashlib.sha256(mrc_code.encode()).hexdigest(),
            },
            node,
        ),
        Envelope(
            APPROVED,
            {
                "indicator": "usagers-soutien-domicile",
                "period": "2026Q3",
                "mrc_code": mrc_code,
                "cells": cells,
                "approved_by": "dsp-11",
            },
            node,
        ),
    ]


def rollup(received: list[dict[str, Any]]) -> Envelope:
    """The coordinator's roll-up: per MRC, the sum of its published cells."""
    totals: dict[str, int] = defaultdict(int)
    for doc in received:
        payload = doc["envelope"]["payload"]
        if doc["event_type"] == APPROVED:
            totals[payload["mrc_code"]] += sum(
                c.get("count", 0) for c in payload["cells"] if not c.get("suppressed")
            )
    cells = [
        {"org_unit": f"cd:{code}", "count": n} for code, n in sorted(totals.items())
    ]
    return Envelope(
        ROLLUP,
        {"indicator": "usagers-soutien-domicile", "period": "2026Q3", "cells": cells},
        REGION,
    )


def run(base: Path) -> dict[str, list[dict[str, Any]]]:
    demo = Demo(base)
    try:
        demo.setup()
        demo.start_services()
        demo.adopt_agreements()
        for i, code in enumerate(MRCS):
            demo.publish(f"mrc-{code}", scripted_day(code, i))
        # 2 results (one withheld) + 3 approvals reach the coordinator
        demo.wait_received(REGION, 5)
        demo.publish(REGION, [rollup(demo.received(REGION))])
        for code in MRCS:
            demo.wait_received(f"mrc-{code}", 1)
        time.sleep(1)  # anything that should not come has had time to come
        return {node: demo.received(node) for node in demo.nodes}
    finally:
        demo.stop()


def _summary(doc: dict[str, Any]) -> str:
    payload = doc["envelope"]["payload"]
    if doc["event_type"] == RESULTS:
        first = payload["priorities"][0]["title"]
        return f"{payload['ballots']} bulletins / ballots, 1re priorité : {first}"
    cells = ", ".join(
        f"{c['org_unit']}{'/' + c['sex'] if 'sex' in c else ''}="
        f"{'supprimé/suppressed' if c.get('suppressed') else c['count']}"
        for c in payload["cells"]
    )
    return f"{payload['indicator']} {payload['period']}: {cells}"


def main() -> int:
    names = _names()
    base = Path(tempfile.mkdtemp(prefix="maillage-federation-demo-"))
    try:
        results = run(base)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    for node, docs in results.items():
        code = node.split("-", 1)[1]
        title = names.get(
            code, "Gaspésie–Îles-de-la-Madeleine" if node == REGION else ""
        )
        print(f"\n== {node} ({title}) a reçu / received {len(docs)}")
        for doc in docs:
            print(f"  de / from {doc['peer']:9} {doc['event_type']:32} {_summary(doc)}")
    return 0
