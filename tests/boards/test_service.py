"""The boards service in a real container: real broker (own vhost), real store."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
import requests
from kombu import Connection, Queue
from nameko.containers import ServiceContainer
from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ServiceRpcProxy
from pymongo import MongoClient

from services.boards import events
from services.boards.service import BoardsService
from shared.broker import BatchPublisher, events_exchange
from shared.envelope import Envelope, utcnow
from tests.boards.factories import SEATS
from tests.conftest import MGMT, MGMT_AUTH

pytestmark = pytest.mark.integration

BOARD = "mrc-66023"
CHARTER = {
    "board_id": BOARD,
    "name": "Table locale de gouvernance partagée",
    "seat_groups": [
        {"constituency": "citizens", "seats": 2},
        {"constituency": "community_organisations", "seats": 2},
        {"constituency": "practitioners", "seats": 1},
        {"constituency": "municipal_elected", "seats": 1, "term_months": 48},
        {"constituency": "first_nations_inuit", "seats": 1},
    ],
    "quorum": {"share": "1/2", "strictly_more": True, "min_present": {"citizens": 1}},
}
RESULTS = {
    "process_id": "proc-2027",
    "title": "Budget participatif 2027",
    "priorities": [
        {"rank": 2, "proposal_id": "p-b", "title": "Transport collectif"},
        {"rank": 1, "proposal_id": "p-a", "title": "Halte-garderie"},
        {"rank": 3, "proposal_id": "p-c", "title": "Popote roulante"},
    ],
}


def wait_for(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


@pytest.fixture
def node(amqp_uri, store_uri, db_prefix):
    """A running boards service, a listener on its events, and an RPC proxy."""
    config = {
        "AMQP_URI": amqp_uri,
        "MONGODB_URI": store_uri,
        "DB_PREFIX": db_prefix,
        "NODE_ID": "mrc-66023",
    }
    with Connection(amqp_uri) as conn:
        channel = conn.channel()
        exchange = events_exchange()
        exchange(channel).declare()
        Queue("listener", exchange=exchange, routing_key="boards.#")(channel).declare()
    container = ServiceContainer(BoardsService, config)
    container.start()
    client = MongoClient(store_uri, tz_aware=True)
    try:
        with ServiceRpcProxy("boards", config) as boards:
            boards.create_board(CHARTER)
            for n, (seat_id, member_id) in enumerate(SEATS.items()):
                boards.appoint(
                    BOARD,
                    {
                        "seat_id": seat_id,
                        "member": {
                            "member_id": member_id,
                            "name": member_id.capitalize(),
                            "email": f"{member_id}@courriel.example",
                        },
                        "start": "2026-01-01",
                        "office": "chair" if n == 0 else "member",
                    },
                )
            yield boards, client[f"{db_prefix}boards"], config
    finally:
        container.stop()
        client.drop_database(f"{db_prefix}boards")
        client.close()


def published(amqp_uri: str, expected: int) -> list[dict]:
    """The boards events the listener queue received, waiting for ``expected``."""
    found: list[dict] = []
    with Connection(amqp_uri) as conn:
        queue = Queue("listener")(conn.channel())
        deadline = time.monotonic() + 20
        while len(found) < expected and time.monotonic() < deadline:
            message = queue.get(no_ack=True)
            if message is None:
                time.sleep(0.05)
                continue
            found.append(json.loads(message.body))
        time.sleep(0.3)
        while (message := queue.get(no_ack=True)) is not None:
            found.append(json.loads(message.body))
    return found


def soon(days: int) -> str:
    return (utcnow() + timedelta(days=days)).isoformat()


def sit(boards, present: list[str], meeting_id="m1", kind="public"):
    boards.schedule_meeting(
        BOARD,
        {
            "meeting_id": meeting_id,
            "kind": kind,
            "scheduled_at": soon(0),
            "place": "Salle du conseil",
        },
    )
    boards.open_meeting(meeting_id)
    for member_id in present:
        boards.record_attendance(meeting_id, member_id)


def test_a_vote_without_quorum_then_a_recused_vote_are_refused_over_rpc(node, amqp_uri):
    boards, db, _ = node
    sit(boards, ["alice", "chloe", "denis"])
    item = boards.add_agenda_item("m1", {"title": "Subvention au Carrefour"})
    motion = boards.move(
        "m1",
        {
            "item_id": item["item_id"],
            "text": "Accorder 10 000 $",
            "moved_by": "alice",
            "seconded_by": "chloe",
        },
    )
    vote = {"motion_id": motion["motion_id"], "member_id": "alice", "choice": "for"}
    with pytest.raises(RemoteError) as refused:
        boards.vote("m1", vote)
    assert refused.value.exc_type == "Conflict"
    # nameko carries the English text as ``value`` (French travels in exc_args).
    assert "quorum not met: 3 voting member(s) present, 4 required" in (
        refused.value.value
    )

    for member_id in ("bruno", "emma"):
        boards.record_attendance("m1", member_id)
    boards.declare_conflict("m1", "denis", item["item_id"], "administrateur")
    with pytest.raises(RemoteError) as recused:
        boards.vote("m1", {**vote, "member_id": "denis"})
    assert recused.value.exc_type == "Forbidden"
    assert "conflict of interest" in recused.value.value

    # Votes arrive at the same time: none may be lost to a concurrent save.
    pending = [
        boards.vote.call_async("m1", {**vote, "member_id": member_id, "choice": c})
        for member_id, c in (("alice", "for"), ("bruno", "for"), ("chloe", "against"))
    ]
    for reply in pending:
        reply.result()
    stored = boards.get_meeting("m1")["motions"][0]["votes"]
    assert sorted(v["member_id"] for v in stored) == ["alice", "bruno", "chloe"]
    closed = boards.close_vote("m1", motion["motion_id"])
    assert closed["adopted"]
    assert closed["votes"] == {"for": 2, "against": 1, "abstain": 0}

    resolution = closed["resolution"]
    boards.follow_up(
        resolution["resolution_id"],
        {
            "on": "2026-12-01",
            "status": "in_progress",
            "progress": 10,
            "responsible": "CISSS",
            "due": "2026-12-31",
        },
    )
    register = boards.public_register(BOARD, "2027-01-15")
    assert [r["number"] for r in register["resolutions"]] == [resolution["number"]]
    assert register["resolutions"][0]["follow_up"]["overdue"] is True
    assert "courriel.example" not in json.dumps(register)

    kinds = [e["event_type"] for e in published(amqp_uri, 3)]
    assert kinds == [
        events.MEETING_SCHEDULED,
        events.RESOLUTION_ADOPTED,
        events.DECISION_STATUS_CHANGED,
    ]
    assert db.outbox.count_documents({"sent": False}) == 0


def test_closed_session_resolution_stays_out_of_the_register_and_events(node, amqp_uri):
    boards, _, _ = node
    sit(boards, ["alice", "bruno", "chloe", "denis"], kind="closed")
    item = boards.add_agenda_item("m1", {"title": "Dossier de Mme Gagnon"})
    motion = boards.move(
        "m1",
        {
            "item_id": item["item_id"],
            "text": "Huis clos",
            "moved_by": "alice",
        },
    )
    # the seconder acts for themself, as a seat holder does through the gateway
    assert boards.second("m1", motion["motion_id"], "bruno")["seconded_by"] == "bruno"
    boards.vote(
        "m1", {"motion_id": motion["motion_id"], "member_id": "alice", "choice": "for"}
    )
    closed = boards.close_vote("m1", motion["motion_id"])
    assert closed["adopted"]
    assert boards.public_register(BOARD)["resolutions"] == []
    outside = boards.get_meeting("m1", True)
    assert set(outside) == {"meeting_id", "kind", "date", "status"}
    assert boards.quorum("m1", None, True) == outside
    assert boards.quorum("m1")["present"] == 4
    resolution_id = closed["resolution"]["resolution_id"]
    assert boards.get_resolution(resolution_id)["closed_session"] is True
    refusals = []
    for ident in (resolution_id, "res-000000000000"):
        with pytest.raises(RemoteError) as refused:
            boards.get_resolution(ident, public=True)
        refusals.append(
            (refused.value.exc_type, refused.value.value.replace(ident, ""))
        )
    assert refusals[0] == refusals[1] == ("NotFound", 'resolution not found: ""')
    assert [m["kind"] for m in boards.list_meetings(BOARD, True)] == ["closed"]
    sent = published(amqp_uri, 2)
    text = json.dumps(sent)
    assert "Gagnon" not in text and "Huis clos" not in text
    assert "Salle du conseil" not in text


def test_a_tie_broken_by_the_chairs_casting_vote_is_recorded_everywhere(node, amqp_uri):
    boards, db, _ = node
    board_id = "mrc-casting"
    with pytest.raises(RemoteError) as refused:
        boards.create_board({**CHARTER, "board_id": board_id, "casting_vote": "oui"})
    assert refused.value.exc_type == "Invalid" and "casting_vote" in (
        refused.value.value
    )
    created = boards.create_board(
        {**CHARTER, "board_id": board_id, "casting_vote": "chair"}
    )
    assert created["charter"]["casting_vote"] == "chair"
    seats = ("citizens-1", "citizens-2", "community_organisations-1")
    for seat_id, member_id in zip(seats, ("alice", "bruno", "chloe"), strict=True):
        appointment = {
            "seat_id": seat_id,
            "member": {"member_id": member_id, "name": member_id.capitalize()},
            "start": "2026-01-01",
            "office": "chair" if member_id == "alice" else "member",
        }
        boards.appoint(board_id, appointment)
    meeting = {"meeting_id": "m-tie", "kind": "public", "place": "Salle du conseil"}
    boards.schedule_meeting(board_id, {**meeting, "scheduled_at": soon(0)})
    boards.open_meeting("m-tie")
    for member_id in ("alice", "bruno", "chloe"):
        boards.record_attendance("m-tie", member_id)
    item = boards.add_agenda_item("m-tie", {"title": "Halte-garderie"})
    moved = {"item_id": item["item_id"], "text": "Ouvrir", "moved_by": "bruno"}
    motion = boards.move("m-tie", {**moved, "seconded_by": "alice"})["motion_id"]
    for member_id, choice in (("alice", "for"), ("bruno", "against")):
        vote = {"motion_id": motion, "member_id": member_id, "choice": choice}
        boards.vote("m-tie", vote)
    boards.vote(
        "m-tie", {"motion_id": motion, "member_id": "chloe", "choice": "abstain"}
    )

    closed = boards.close_vote("m-tie", motion)
    assert closed["adopted"] and closed["decided_by_casting_vote"] is True
    assert closed["votes"] == {"for": 1, "against": 1, "abstain": 1}
    assert closed["resolution"]["decided_by_casting_vote"] is True
    stored = boards.get_meeting("m-tie")["motions"][0]
    assert stored["status"] == "adopted" and stored["decided_by_casting_vote"]
    [entry] = boards.public_register(board_id)["resolutions"]
    assert entry["decided_by_casting_vote"] is True
    resolution_id = closed["resolution"]["resolution_id"]
    assert boards.get_resolution(resolution_id, public=True) == entry

    sent = [
        e
        for e in published(amqp_uri, 2)
        if e["event_type"] == events.RESOLUTION_ADOPTED
    ]
    assert [e["schema_version"] for e in sent] == [3]  # v3 added history
    assert sent[0]["payload"]["decided_by_casting_vote"] is True


def _consumer_queue_ready(vhost: str) -> bool:
    resp = requests.get(
        f"{MGMT}/queues/{vhost}/boards.add_results_to_agenda", auth=MGMT_AUTH, timeout=5
    )
    return resp.status_code == 200


def test_participation_results_reach_the_next_agenda_once_even_if_delivered_twice(
    node, amqp_uri, vhost
):
    boards, db, _ = node
    for meeting_id, kind, days in (
        ("closed-soon", "closed", 2),
        ("next", "public", 10),
        ("later", "public", 40),
    ):
        boards.schedule_meeting(
            BOARD,
            {
                "meeting_id": meeting_id,
                "kind": kind,
                "scheduled_at": soon(days),
                "place": "Salle",
            },
        )
    assert wait_for(lambda: _consumer_queue_ready(vhost))
    first = Envelope(events.RESULTS_PUBLISHED, RESULTS, origin_node="mrc-66023")
    republished = Envelope(events.RESULTS_PUBLISHED, RESULTS, origin_node="mrc-66023")
    publisher = BatchPublisher(amqp_uri)
    try:
        publisher.publish_batch([first.to_dict(), first.to_dict()])
        publisher.publish_batch([republished.to_dict()])
    finally:
        publisher.close()

    assert wait_for(lambda: db.processed_events.count_documents({}) == 2)
    agenda = boards.get_meeting("next")["agenda"]
    assert [(i["rank"], i["proposal_id"]) for i in agenda] == [
        (1, "p-a"),
        (2, "p-b"),
        (3, "p-c"),
    ]
    assert all(i["process_id"] == "proc-2027" and i["proposed"] for i in agenda)
    assert boards.get_meeting("later")["agenda"] == []
    assert boards.get_meeting("closed-soon")["agenda"] == []


def test_results_published_before_any_public_meeting_wait_for_the_next_one(
    node, amqp_uri, vhost
):
    boards, db, _ = node
    assert wait_for(lambda: _consumer_queue_ready(vhost))
    publisher = BatchPublisher(amqp_uri)
    try:
        # as participation publishes it: no process title, extra fields
        shape = {
            **{k: v for k, v in RESULTS.items() if k != "title"},
            "mrc_code": "66023",
            "method": "irv",
            "ballots": 412,
        }
        envelope = Envelope(events.RESULTS_PUBLISHED, shape, origin_node="x")
        publisher.publish_batch([envelope.to_dict()] * 2)
    finally:
        publisher.close()
    assert wait_for(lambda: db.processed_events.count_documents({}) == 1)
    assert len(boards.get_board(BOARD)["pending_items"]) == 3
    boards.schedule_meeting(
        BOARD,
        {
            "meeting_id": "next",
            "kind": "public",
            "scheduled_at": soon(7),
            "place": "Salle",
        },
    )
    assert [i["rank"] for i in boards.get_meeting("next")["agenda"]] == [1, 2, 3]
    assert boards.get_board(BOARD)["pending_items"] == []


def test_invalid_input_names_each_field(node):
    boards, _, _ = node
    with pytest.raises(RemoteError) as err:
        boards.schedule_meeting(
            BOARD, {"meeting_id": "m", "kind": "secret", "scheduled_at": "demain"}
        )
    assert err.value.exc_type == "Invalid"
    for name in ("kind", "scheduled_at", "place"):
        assert name in err.value.value
    with pytest.raises(RemoteError) as missing:
        boards.get_meeting("nope")
    assert missing.value.exc_type == "NotFound"


def test_indicator_crossing_a_watched_threshold_proposes_one_item(node):
    boards, _, _ = node
    boards.watch_indicator(
        BOARD, {"indicator_id": "attente", "threshold": 30, "title": "Attente"}
    )
    boards.schedule_meeting(
        BOARD,
        {
            "meeting_id": "next",
            "kind": "public",
            "scheduled_at": soon(5),
            "place": "Salle",
        },
    )
    value = {"indicator_id": "attente", "period": "2026Q3", "value": 41, "previous": 25}
    item = boards.consider_indicator(BOARD, value)
    assert item["source"] == "indicator" and item["proposed"]
    assert boards.consider_indicator(BOARD, value) is None
    assert [i["item_id"] for i in boards.get_meeting("next")["agenda"]] == [
        item["item_id"]
    ]


def _queue_depth(vhost: str, name: str) -> int:
    resp = requests.get(f"{MGMT}/queues/{vhost}/{name}", auth=MGMT_AUTH, timeout=5)
    return int(resp.json().get("messages", 0)) if resp.status_code == 200 else -1


def test_a_malformed_results_event_is_dead_lettered_without_blocking_the_next(
    node, amqp_uri, vhost
):
    boards, db, _ = node
    boards.schedule_meeting(
        BOARD,
        {
            "meeting_id": "next",
            "kind": "public",
            "scheduled_at": soon(5),
            "place": "Salle",
        },
    )
    assert wait_for(lambda: _consumer_queue_ready(vhost))
    bad = Envelope(events.RESULTS_PUBLISHED, {"priorities": "?"}, origin_node="x")
    good = Envelope(events.RESULTS_PUBLISHED, RESULTS, origin_node="x")
    publisher = BatchPublisher(amqp_uri)
    try:
        publisher.publish_batch([bad.to_dict(), good.to_dict()])
    finally:
        publisher.close()
    assert wait_for(lambda: len(boards.get_meeting("next")["agenda"]) == 3)
    dead = "boards.add_results_to_agenda.dead"
    assert wait_for(lambda: _queue_depth(vhost, dead) == 1, timeout=30)
    assert db.processed_events.count_documents({}) == 1


def test_a_deliberation_amended_sub_amended_and_closed_by_the_previous_question(
    node, amqp_uri
):
    """Issue 21 over RPC: the record is kept per item in the store, the votes go
    innermost first, the resolution carries the adopted text and its history,
    the register names people, the event (version 3) carries no member id."""
    boards, db, _ = node
    sit(boards, ["alice", "bruno", "chloe", "denis", "emma"])
    item = boards.add_agenda_item("m1", {"title": "Subvention au Carrefour"})
    secret = boards.add_agenda_item(
        "m1", {"title": "Dossier nominatif", "in_camera": True}
    )
    i = item["item_id"]
    text = "Accorder 10 000 $ au Carrefour jeunesse"
    boards.move_main_motion("m1", i, {"member_id": "alice", "text": text})
    boards.second_question("m1", i, {"member_id": "bruno"})
    boards.ask_for_floor("m1", i, {"member_id": "chloe"})
    given = boards.give_floor("m1", i)["procedure"]["speaking"]
    assert given["member_id"] == "chloe"
    boards.end_turn("m1", i)
    change = {"op": "replace", "start": 9, "end": 17, "text": "12 000 $"}
    boards.move_amendment(
        "m1", i, {"member_id": "chloe", "target_id": "q1", "change": change}
    )
    boards.second_question("m1", i, {"member_id": "denis"})
    sub = {"op": "replace", "start": 0, "end": 2, "text": "15"}
    boards.move_amendment(
        "m1", i, {"member_id": "emma", "target_id": "q2", "change": sub}
    )
    boards.second_question("m1", i, {"member_id": "alice"})
    with pytest.raises(RemoteError) as third:
        boards.move_amendment(
            "m1", i, {"member_id": "bruno", "target_id": "q3", "change": sub}
        )
    assert third.value.exc_type == "Conflict"
    assert 'rule "no_sub_sub_amendment"' in third.value.value
    with pytest.raises(RemoteError) as gone:  # felix is not present
        boards.ask_for_floor("m1", i, {"member_id": "felix"})
    assert gone.value.exc_type == "Forbidden"
    boards.move_procedural_motion(
        "m1", i, {"member_id": "denis", "kind": "previous_question"}
    )
    boards.second_question("m1", i, {"member_id": "emma"})
    with pytest.raises(RemoteError) as early:
        boards.call_vote("m1", i, {"question_id": "q1"})
    assert 'rule "vote_order"' in early.value.value

    def hands(qid, yes, no):
        boards.call_vote("m1", i, {"question_id": qid})
        boards.record_show_of_hands("m1", i, {"for": yes, "against": no})
        return boards.close_procedure_vote("m1", i)

    assert hands("q4", 4, 1)["procedure"]["debate_closed"] is True
    hands("q3", 3, 2)
    hands("q2", 4, 1)
    done = hands("q1", 5, 0)
    assert done["effects"] == ["vote_closed", "main_adopted"]
    resolution = done["resolution"]
    adopted = "Accorder 15 000 $ au Carrefour jeunesse"
    assert resolution["text"] == adopted
    assert resolution["history"]["amendments"][0]["moved_by"] == "chloe"
    stored = db.procedures.find_one({"_id": f"m1/{i}"})
    assert stored["state"]["status"] == "adopted" and stored["version"] > 1

    entry = boards.public_register(BOARD)["resolutions"][0]
    assert entry["history"]["moved_text"] == text
    assert entry["history"]["adopted_text"] == adopted
    assert entry["history"]["amendments"][0]["moved_by"]["name"] == "Chloe"
    public = boards.get_procedure("m1", i, True)
    assert public["questions"][0]["moved_by"]["name"] == "Alice"
    assert "alice" not in json.dumps(public)
    with pytest.raises(RemoteError) as hidden:
        boards.get_procedure("m1", secret["item_id"], True)
    assert hidden.value.exc_type == "NotFound"
    assert boards.get_procedure("m1", secret["item_id"])["questions"] == []

    minutes = boards.draft_minutes_from_record("m1")["minutes"]
    assert "q2 — Amendement sur q1" in minutes and "appuyée par Denis" in minutes
    assert f"Texte adopté : « {adopted} »" in minutes

    sent = [
        e
        for e in published(amqp_uri, 2)
        if e["event_type"] == events.RESOLUTION_ADOPTED
    ]
    assert sent[0]["schema_version"] == 3
    assert sent[0]["payload"]["history"]["adopted_text"] == adopted
    for member_id in ("alice", "bruno", "chloe", "denis", "emma"):
        assert member_id not in json.dumps(sent[0]["payload"]).lower()
