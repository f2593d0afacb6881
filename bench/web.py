"""What server-side rendering costs: each web page beside the JSON of the same data.

The gateway app runs in-process (werkzeug's test client, no network) with its
services port answering from memory, so only the gateway's own work is timed:
routing, Jinja2 templates, the SVG charts. The baseline is the same service
answer sent as JSON by the gateway's ``json_response`` (what a JSON route
does), timed in the same run.

    python -m bench web
"""

from __future__ import annotations

import os
import statistics
import time
from typing import Any

from werkzeug.test import Client

from gateway.http import json_response
from gateway.rpc import RpcPool

YEARS = [str(y) for y in range(2017, 2027)]


def dashboard() -> dict[str, Any]:
    def points(offset: int) -> list[dict[str, Any]]:
        return [
            {"period": y, "value": None, "suppressed": True}
            if (i + offset) % 7 == 3
            else {"period": y, "value": 10 + (i * 3 + offset) % 17, "suppressed": False}
            for i, y in enumerate(YEARS)
        ]

    return {
        "org_unit": {"id": "2456", "name": "Le Haut-Richelieu"},
        "indicators": [
            {
                "indicator_id": f"i{n}",
                "name": f"Indicateur {n}",
                "definition": "Ce qui est mesuré, en une phrase.",
                "numerator": "#{a}",
                "denominator": "#{b}",
                "factor": 1000,
                "unit": "pour 1 000",
                "chart": "bar" if n % 2 else "line",
                "series": [
                    {"name": "MRC", "points": points(n)},
                    {"name": "Région", "points": points(n + 1)},
                ],
            }
            for n in range(8)
        ],
    }


def results() -> dict[str, Any]:
    ids = [f"p{n}" for n in range(12)]
    rounds = []
    alive = list(ids)
    for number in range(1, 12):
        counts = {c: str(100 + 7 * i + number) for i, c in enumerate(alive)}
        loser = alive.pop(0)
        rounds.append(
            {
                "number": number,
                "action": "eliminate",
                "candidates": [loser],
                "counts": counts,
                "transfers": {},
                "exhausted": "0",
                "threshold": None,
                "note": "",
            }
        )
    return {
        "ballots": 1500,
        "priorities": [{"rank": 1, "proposal_id": alive[0], "title": "Projet 11"}],
        "result": {"method": "irv", "winners": alive, "rounds": rounds},
    }


class MemoryServices(RpcPool):
    def __init__(self) -> None:
        super().__init__("amqp://memory/")
        self.answers = {
            ("indicators", "dashboard"): dashboard(),
            ("participation", "get_results"): results(),
            ("participation", "get_process"): {
                "id": "p",
                "title": "Priorités",
                "method": "irv",
                "closed": True,
                "phases": {},
            },
            ("participation", "list_proposals"): [
                {"id": f"p{n}", "title": f"Projet {n}", "status": "on_ballot"}
                for n in range(12)
            ],
        }

    def call(self, service: str, method: str, *args: Any, **kwargs: Any) -> Any:
        return self.answers[(service, method)]


def _time(func: Any, repeat: int) -> list[float]:
    for _ in range(5):
        func()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        func()
        samples.append(time.perf_counter() - started)
    return samples


def _row(path: str, samples: list[float], size: int) -> dict[str, Any]:
    return {
        "path": path,
        "p50_ms": round(statistics.median(samples) * 1000, 3),
        "p95_ms": round(sorted(samples)[int(len(samples) * 0.95)] * 1000, 3),
        "per_s": round(len(samples) / sum(samples)),
        "bytes": size,
    }


def run(repeat: int = 300) -> list[dict[str, Any]]:
    os.environ.setdefault("MAILLAGE_ENV", "dev")
    from gateway.app import create_app

    app = create_app(
        {
            "AMQP_URI": "amqp://memory/",
            "MONGODB_URI": "mongodb://127.0.0.1:1/",
            "NODE_ID": "bench",
            "DB_PREFIX": "bench_",
            "ENV": "dev",
        }
    )
    app.rpc = MemoryServices()
    client = Client(app)
    rows = []
    for page, data in (
        ("/indicateurs?mrc=2456", app.rpc.answers[("indicators", "dashboard")]),
        ("/participer/p/resultats", app.rpc.answers[("participation", "get_results")]),
    ):
        html = client.get(page)
        assert html.status_code == 200, html.text[:300]
        rows.append(
            _row(
                f"web page {page}",
                _time(lambda p=page: client.get(p), repeat),
                len(html.data),
            )
        )
        body = json_response(data).get_data()
        rows.append(
            _row(
                f"baseline: same data as JSON ({page})",
                _time(lambda d=data: json_response(d).get_data(), repeat),
                len(body),
            )
        )
    return rows
