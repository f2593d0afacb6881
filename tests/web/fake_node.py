"""The real gateway app with a fake services port, for web tests that need the
pages without a running node (the take-part journeys themselves run on a real
node: ``test_take_part.py``).

Run as its own process (no eventlet)::

    python -m tests.web.fake_node 8765 mongodb://127.0.0.1:27117/ t123_

:class:`FakeServices` subclasses the gateway's :class:`RpcPool` (the port the
pages call through ``ctx.rpc``) and answers the participation contract the
pages are written against, keeping proposals, supports and ballots in memory
with the service's own rules where a page shows them (one support per person,
phase checks, a receipt per ballot, results only after the close).
"""

from __future__ import annotations

import hashlib
import sys
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from werkzeug.serving import run_simple

from gateway.app import create_app
from gateway.rpc import RpcPool
from shared.errors import Conflict, Invalid, NotFound

PERSON = "citoyenne@example.org"


def _span(days_from: int, days_to: int) -> list[str]:
    now = datetime.now(UTC)
    return [
        (now + timedelta(days=days_from)).isoformat(),
        (now + timedelta(days=days_to)).isoformat(),
    ]


def _phases(current: str) -> dict[str, list[str]]:
    order = ["proposals", "deliberation", "voting", "results"]
    at = order.index(current)
    return {
        name: _span((i - at) * 10 - 5, (i - at) * 10 + 5)
        for i, name in enumerate(order)
    }


class FakeServices(RpcPool):
    def __init__(self) -> None:
        super().__init__("amqp://fake/")
        self.processes: dict[str, dict[str, Any]] = {
            "p-idees": {
                "id": "p-idees",
                "title": "Idées pour 2027",
                "mrc_code": "2456",
                "method": "irv",
                "phases": _phases("proposals"),
                "closed": False,
            },
            "p-vote": {
                "id": "p-vote",
                "title": "Priorités sociales 2027",
                "mrc_code": "2456",
                "method": "irv",
                "phases": _phases("voting"),
                "closed": False,
            },
            "p-budget": {
                "id": "p-budget",
                "title": "Budget participatif 2027",
                "mrc_code": "2456",
                "method": "pb-greedy",
                "budget": "50000",
                "phases": _phases("voting"),
                "closed": False,
            },
            "p-2026": {
                "id": "p-2026",
                "title": "Priorités 2026",
                "mrc_code": "2456",
                "method": "irv",
                "phases": _phases("results"),
                "closed": True,
            },
        }
        self.proposals: dict[str, dict[str, Any]] = {}
        for pid, titles in {
            "p-idees": ["Jardin communautaire"],
            "p-vote": ["Halte-garderie", "Transport collectif", "Popote roulante"],
            "p-budget": ["Halte-garderie", "Transport collectif", "Popote roulante"],
            "p-2026": ["Halte-garderie", "Transport collectif", "Popote roulante"],
        }.items():
            for n, title in enumerate(titles):
                key = f"{pid}-{n}"
                self.proposals[key] = {
                    "id": key,
                    "process_id": pid,
                    "title": title,
                    "description": f"{title} : description.",
                    "supports": 0,
                    "estimated_cost": str(20000 + 5000 * n),
                    "status": "on_ballot",
                    "hidden": False,
                }
        self.supports: set[tuple[str, str]] = set()
        self.ballots: dict[str, list[dict[str, Any]]] = {}
        self.receipts: dict[str, list[str]] = {"p-2026": ["a" * 64]}

    def call(self, service: str, method: str, *args: Any, **kwargs: Any) -> Any:
        kwargs.pop("correlation_id", None)
        kwargs.pop("timeout", None)
        handler = getattr(self, f"{service}__{method}", None)
        if handler is None:
            raise NotFound("method", f"{service}.{method}")
        return handler(*args, **kwargs)

    def _process(self, process_id: str) -> dict[str, Any]:
        if process_id not in self.processes:
            raise NotFound("process", process_id)
        return self.processes[process_id]

    def participation__list_processes(self, query: dict[str, Any]) -> dict:
        found = [
            p
            for p in self.processes.values()
            if query.get("mrc_code") in (None, p["mrc_code"])
        ]
        return {"items": found, "total": len(found), "offset": 0, "limit": 20}

    def participation__get_process(self, process_id: str) -> dict[str, Any]:
        return self._process(process_id)

    def participation__list_proposals(self, process_id: str) -> list[dict[str, Any]]:
        self._process(process_id)
        return [p for p in self.proposals.values() if p["process_id"] == process_id]

    def participation__my_proposals(
        self, process_id: str, person: str
    ) -> list[dict[str, Any]]:
        """The person's own proposals (their hidden ones and why, too)."""
        self._process(process_id)
        return [
            p
            for p in self.proposals.values()
            if p["process_id"] == process_id and p.get("author") == person
        ]

    def participation__submit_proposal(
        self, process_id: str, data: dict[str, Any], person: str
    ) -> dict[str, Any]:
        self._process(process_id)
        if not data.get("title"):
            raise Invalid({"title": ["Champ requis. / Field required."]})
        key = str(uuid.uuid4())
        self.proposals[key] = {
            "id": key,
            "process_id": process_id,
            "supports": 0,
            "status": "submitted",
            "hidden": False,
            **data,
            "author": person,
        }
        return self.proposals[key]

    def participation__support_proposal(self, proposal_id: str, person: str) -> dict:
        if (proposal_id, person) in self.supports:
            raise Conflict(
                "Vous appuyez déjà cette proposition.",
                "You already support this proposal.",
            )
        self.supports.add((proposal_id, person))
        self.proposals[proposal_id]["supports"] += 1
        return {"supports": self.proposals[proposal_id]["supports"]}

    def participation__cast_ballot(
        self, process_id: str, ballot: dict[str, Any], person: str
    ) -> dict[str, str]:
        self._process(process_id)
        receipt = hashlib.sha256(f"{process_id}{ballot}{uuid.uuid4()}".encode())
        self.ballots.setdefault(process_id, []).append(ballot)
        self.receipts.setdefault(process_id, []).append(receipt.hexdigest())
        return {"receipt": receipt.hexdigest()}

    def participation__receipts(self, process_id: str) -> list[str]:
        return self.receipts.get(process_id, [])

    def participation__get_results(self, process_id: str) -> dict[str, Any]:
        if not self._process(process_id)["closed"]:
            raise Conflict(
                "Résultats cachés jusqu'à la clôture du vote.",
                "Results are hidden until the vote closes.",
            )
        a, b, c = (f"{process_id}-{n}" for n in range(3))
        return {
            "process_id": process_id,
            "ballots": 100,
            "priorities": [{"rank": 1, "proposal_id": a, "title": "Halte-garderie"}],
            "result": {
                "method": "irv",
                "winners": [a],
                "rounds": [
                    {
                        "number": 1,
                        "action": "eliminate",
                        "candidates": [c],
                        "counts": {a: "45", b: "35", c: "20"},
                        "transfers": {},
                        "exhausted": "0",
                        "threshold": None,
                        "note": "",
                    },
                    {
                        "number": 2,
                        "action": "elect",
                        "candidates": [a],
                        "counts": {a: "58", b: "40"},
                        "transfers": {a: "13", b: "5"},
                        "exhausted": "2",
                        "threshold": None,
                        "note": "",
                    },
                ],
            },
        }


def make_app(store_uri: str, db_prefix: str) -> Any:
    """The gateway on the real store (its accounts audit every write there)."""
    app = create_app(
        {
            "AMQP_URI": "amqp://fake/",
            "MONGODB_URI": store_uri,
            "NODE_ID": "mrc-2456",
            "DB_PREFIX": db_prefix,
            "ENV": "dev",
        }
    )
    app.rpc = FakeServices()
    # A signed-in citizen: the accounts module is exercised by the real-node tests.
    app.before_request = [
        lambda ctx: setattr(ctx, "user", {"sub": PERSON, "role": "citizen"})
    ]
    app.authorize = lambda ctx, route: None
    return app


if __name__ == "__main__":
    port, store_uri, db_prefix = sys.argv[1:4]
    run_simple("127.0.0.1", int(port), make_app(store_uri, db_prefix), threaded=True)
