"""The participation service with nameko's worker_factory and the real store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import eventlet
import pymongo
import pytest
from nameko.testing.services import worker_factory

from services.participation.dependencies import VoterKeyHandle
from services.participation.events import RESULTS_PUBLISHED
from services.participation.repository import ParticipationRepository
from services.participation.service import ParticipationService
from shared.envelope import Envelope
from shared.errors import Conflict, Forbidden, Invalid
from shared.outbox import OutboxHandle
from shared.store import StoreHandle

pytestmark = pytest.mark.integration
T0 = datetime(2026, 11, 1, tzinfo=UTC)


def _iso(days: int) -> str:
    return (T0 + timedelta(days=days)).isoformat().replace("+00:00", "Z")


PHASES = {
    "proposals": [_iso(0), _iso(10)],
    "deliberation": [_iso(10), _iso(20)],
    "voting": [_iso(20), _iso(30)],
    "results": [_iso(30), _iso(60)],
}


class FakeOutbox(OutboxHandle):
    """Keeps what would be published; checks the transaction's session is given."""

    def __init__(self) -> None:
        self.events: list[Envelope] = []

    def add(
        self,
        event_type: str,
        payload: dict[str, Any],
        *,
        session: Any,
        schema_version: int | None = None,
    ) -> Envelope:
        assert session is not None
        envelope = Envelope(event_type, payload, "test-node")
        self.events.append(envelope)
        return envelope


class Clock:
    def __init__(self) -> None:
        self.now = T0 + timedelta(days=1)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def env(store_uri: str, db_prefix: str) -> Iterator[dict[str, Any]]:
    client: pymongo.MongoClient = pymongo.MongoClient(store_uri, tz_aware=True)
    db = client[f"{db_prefix}participation"]
    ParticipationRepository(db).ensure_indexes()
    clock = Clock()
    outbox = FakeOutbox()

    secret = b"test-node-ballot-key-0123456789abcdef"

    def make() -> ParticipationService:
        worker = worker_factory(
            ParticipationService,
            store=StoreHandle(client, db),
            outbox=outbox,
            voter_keys=VoterKeyHandle(secret),
        )
        worker.clock = clock
        return worker

    yield {
        "make": make,
        "service": make(),
        "clock": clock,
        "outbox": outbox,
        "db": db,
        "secret": secret,
    }
    client.drop_database(db.name)
    client.close()


def _process(service, **extra) -> str:
    data = {
        "mrc_code": "2423",
        "title": "Priorités 2027",
        "method": "irv",
        "support_threshold": 2,
        "phases": PHASES,
        **extra,
    }
    process = service.create_process(data)
    service.load_registry(
        process["id"],
        "person,municipality_code\n"
        + "".join(f"p{i}@x.org,2423027\n" for i in range(10)),
    )
    return process["id"]


def _ballot_ready(env, **extra) -> tuple[str, list[str]]:
    service = env["service"]
    pid = _process(service, **extra)
    ids = []
    for title in ("Parc", "Piste", "Popote"):
        prop = service.submit_proposal(
            pid, {"title": title, "estimated_cost": "100"}, person="p0@x.org"
        )
        service.support_proposal(prop["id"], person="p1@x.org")
        service.support_proposal(prop["id"], person="p2@x.org")
        ids.append(prop["id"])
    env["clock"].now = T0 + timedelta(days=21)
    return pid, ids


def test_a_support_threshold_moves_a_proposal_to_the_ballot(env):
    service = env["service"]
    pid = _process(service)
    prop = service.submit_proposal(pid, {"title": "Parc"}, person="p0@x.org")
    assert (
        service.support_proposal(prop["id"], person="p1@x.org")["status"] == "submitted"
    )
    assert (
        service.support_proposal(prop["id"], person="p2@x.org")["status"] == "on_ballot"
    )
    with pytest.raises(Conflict):
        service.support_proposal(prop["id"], person="p2@x.org")


def test_a_person_outside_the_registry_may_not_propose_until_a_code_is_redeemed(env):
    service = env["service"]
    pid = _process(service)
    with pytest.raises(Forbidden):
        service.submit_proposal(pid, {"title": "Parc"}, person="stranger@x.org")
    code = service.issue_codes(pid, 1)[0]
    service.redeem_code(pid, code, person="stranger@x.org")
    assert service.submit_proposal(pid, {"title": "Parc"}, person="stranger@x.org")
    with pytest.raises(Conflict):
        service.redeem_code(pid, code, person="other@x.org")


def test_actions_outside_their_phase_are_refused(env):
    service = env["service"]
    pid, ids = _ballot_ready(env)
    with pytest.raises(Conflict):
        service.submit_proposal(pid, {"title": "Trop tard"}, person="p0@x.org")
    env["clock"].now = T0 + timedelta(days=5)
    with pytest.raises(Conflict):
        service.cast_ballot(pid, {"ranking": ids}, person="p3@x.org")


def test_a_ballot_for_a_proposal_not_on_the_ballot_names_the_field(env):
    pid, _ = _ballot_ready(env)
    with pytest.raises(Invalid) as info:
        env["service"].cast_ballot(pid, {"ranking": ["nope"]}, person="p3@x.org")
    assert "ranking" in info.value.fields


def test_two_ballots_from_the_same_person_sent_at_once_exactly_one_is_accepted(env):
    pid, ids = _ballot_ready(env)
    workers = [env["make"](), env["make"]()]

    def cast(worker, ranking):
        try:
            return worker.cast_ballot(pid, {"ranking": ranking}, person="p5@x.org")
        except Conflict as exc:
            return exc

    threads = [
        eventlet.spawn(cast, workers[0], ids),
        eventlet.spawn(cast, workers[1], ids[::-1]),
    ]
    outcomes = [t.wait() for t in threads]
    accepted = [o for o in outcomes if isinstance(o, dict)]
    assert len(accepted) == 1
    assert len(_stored_ballots(env["db"], pid)) == 1
    assert env["db"].participations.count_documents({"process_id": pid}) == 1


def _stored_ballots(db, pid):
    return [
        e for box in db.ballot_boxes.find({"process_id": pid}) for e in box["ballots"]
    ]


def test_who_voted_is_stored_apart_from_what_was_voted(env):
    pid, ids = _ballot_ready(env)
    env["service"].cast_ballot(pid, {"ranking": ids}, person="p3@x.org")
    (entry,) = _stored_ballots(env["db"], pid)
    participation = env["db"].participations.find_one({"process_id": pid})
    assert set(entry) == {"ballot", "receipt"}
    assert set(participation) == {"_id", "process_id", "person_key"}
    assert "p3@x.org" not in repr(entry) and "p3@x.org" not in repr(participation)


def test_the_stored_order_of_ballots_does_not_follow_the_order_of_voting(env):
    pid, ids = _ballot_ready(env, support_threshold=0)
    service = env["service"]
    env["clock"].now = T0 + timedelta(days=1)
    more = [
        service.submit_proposal(pid, {"title": f"Idée {i}"}, person="p0@x.org")["id"]
        for i in range(9)
    ]
    env["clock"].now = T0 + timedelta(days=21)
    cast = [[m] for m in more]
    for i, ranking in enumerate(cast):
        service.cast_ballot(pid, {"ranking": ranking}, person=f"p{i}@x.org")
    stored = [e["ballot"]["ranking"] for e in _stored_ballots(env["db"], pid)]
    assert sorted(stored) == sorted(cast)
    # 9 ballots in 16 boxes at random positions: the voting order survives
    # with probability about 1/9!
    assert stored != cast


def test_results_stay_hidden_until_close_then_priorities_are_published(env):
    service = env["service"]
    pid, ids = _ballot_ready(env)
    receipts = []
    for voter, ranking in [
        ("p3", [ids[1], ids[0]]),
        ("p4", [ids[1]]),
        ("p5", [ids[0], ids[1]]),
        ("p6", [ids[2], ids[0]]),
    ]:
        receipts.append(
            service.cast_ballot(pid, {"ranking": ranking}, person=f"{voter}@x.org")[
                "receipt"
            ]
        )
    with pytest.raises(Conflict):
        service.get_results(pid)
    with pytest.raises(Conflict):
        service.receipts(pid)
    with pytest.raises(Conflict):
        service.close_vote(pid)  # voting phase not over
    env["clock"].now = T0 + timedelta(days=31)
    closed = service.close_vote(pid)
    # Parc 2 (p5 + p6 after Popote out), Piste 2 -> Piste keeps 2, Parc 2 ... IRV
    assert closed["ballots"] == 4
    assert closed["priorities"][0]["proposal_id"] in ids
    results = service.get_results(pid)
    assert results["result"]["winners"] == [
        p["proposal_id"] for p in closed["priorities"] if p["elected"]
    ]
    assert sorted(receipts) == service.receipts(pid)
    published = [e for e in env["outbox"].events if e.event_type == RESULTS_PUBLISHED]
    assert len(published) == 1
    assert published[0].payload["priorities"] == closed["priorities"]
    assert published[0].payload["title"] == "Priorités 2027"
    with pytest.raises(Conflict):
        service.close_vote(pid)


def test_a_budget_process_funds_within_its_budget_with_equal_shares(env):
    service = env["service"]
    pid, ids = _ballot_ready(env, method="pb-mes", budget="200")
    for i, approve in enumerate(
        [[ids[0], ids[1]], [ids[0]], [ids[2]], [ids[0], ids[2]]]
    ):
        service.cast_ballot(pid, {"approve": approve}, person=f"p{i + 3}@x.org")
    env["clock"].now = T0 + timedelta(days=31)
    closed = service.close_vote(pid)
    assert 1 <= len(closed["priorities"]) <= 2
    assert closed["priorities"][0]["proposal_id"] == ids[0]


def test_a_hidden_proposal_leaves_the_list_and_its_public_reason_stays(env):
    service = env["service"]
    pid = _process(service)
    kept = service.submit_proposal(pid, {"title": "Parc"}, person="p0@x.org")
    gone = service.submit_proposal(pid, {"title": "Pub"}, person="p1@x.org")
    with pytest.raises(Invalid):
        service.hide_proposal(gone["id"], "  ")
    service.hide_proposal(gone["id"], "Publicité / Advertising")
    assert [p["id"] for p in service.list_proposals(pid)] == [kept["id"]]
    assert service.hidden_proposals(pid) == [
        {"id": gone["id"], "hidden_reason": "Publicité / Advertising"}
    ]


def test_a_representatives_vote_admits_only_the_named_representatives(env):
    service = env["service"]
    data = {
        "mrc_code": "2423",
        "title": "Priorités des représentants",
        "method": "approval",
        "support_threshold": 0,
        "phases": PHASES,
        "eligibility": "representatives",
        "representatives": ["Rep@X.org"],
    }
    pid = service.create_process(data)["id"]
    prop = service.submit_proposal(pid, {"title": "Répit"}, person="rep@x.org")
    env["clock"].now = T0 + timedelta(days=21)
    with pytest.raises(Forbidden):
        service.cast_ballot(pid, {"approve": [prop["id"]]}, person="citizen@x.org")
    assert service.cast_ballot(pid, {"approve": [prop["id"]]}, person="rep@x.org")
