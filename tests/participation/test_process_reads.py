"""Reading processes (``get_process``, ``list_processes``): what the take-part
pages show, with the phase of the moment and nothing of the ballots or results."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.errors import Conflict, Invalid, NotFound
from tests.participation import test_service
from tests.participation.test_service import PHASES, T0, _ballot_ready, _process

env = test_service.env  # the service on the real store, as in test_service

pytestmark = pytest.mark.integration


def test_a_process_reads_with_its_dates_method_and_the_phase_of_the_moment(env):
    service = env["service"]
    pid = _process(
        service,
        method="pb-greedy",
        budget="50000",
        seats=1,
        eligibility="representatives",
        representatives=["Ana Tremblay"],
    )
    process = service.get_process(pid)
    assert process == {
        "id": pid,
        "mrc_code": "2423",
        "title": "Priorités 2027",
        "method": "pb-greedy",
        "seats": 1,
        "budget": "50000",
        "max_points": None,
        "cumulative": False,
        "support_threshold": 2,
        "eligibility": "representatives",
        "phases": PHASES,
        "phase": "proposals",
        "closed": False,
        "eligible_count": None,
    }
    env["clock"].now = T0 + timedelta(days=21)
    assert service.get_process(pid)["phase"] == "voting"
    env["clock"].now = T0 + timedelta(days=90)
    assert service.get_process(pid)["phase"] is None


def test_an_unknown_process_is_not_found(env):
    with pytest.raises(NotFound):
        env["service"].get_process("no-such-process")


def test_reading_a_process_during_the_vote_shows_no_ballot_nor_result(env):
    service = env["service"]
    pid, ids = _ballot_ready(env)
    service.cast_ballot(pid, {"ranking": [ids[1], ids[0]]}, person="p3@x.org")
    process = service.get_process(pid)
    listed = service.list_processes({"mrc_code": "2423"})["items"]
    for seen in (process, *listed):
        assert not {"result", "priorities", "ballots", "receipts"} & set(seen)
        assert ids[1] not in str(seen)
    with pytest.raises(Conflict):
        service.get_results(pid)
    env["clock"].now = T0 + timedelta(days=31)
    service.close_vote(pid)
    closed = service.get_process(pid)
    assert (closed["phase"], closed["closed"]) == ("results", True)
    assert "priorities" not in closed


def test_an_mrcs_open_processes_come_one_page_at_a_time(env):
    service = env["service"]
    mine = [_process(service, title=f"Consultation {n}") for n in (3, 1, 2)]
    _process(service, title="Ailleurs", mrc_code="2466")
    closing, _ = _ballot_ready(env, title="Close")
    env["clock"].now = T0 + timedelta(days=31)
    service.close_vote(closing)

    first = service.list_processes({"mrc_code": "2423", "limit": 2})
    assert first["total"] == 3
    assert [p["title"] for p in first["items"]] == ["Consultation 1", "Consultation 2"]
    second = service.list_processes({"mrc_code": "2423", "limit": 2, "offset": 2})
    assert [p["id"] for p in second["items"]] == [mine[0]]

    closed = service.list_processes({"mrc_code": "2423", "state": "closed"})
    assert [p["id"] for p in closed["items"]] == [closing]
    everywhere = service.list_processes({})
    assert {p["mrc_code"] for p in everywhere["items"]} == {"2423", "2466"}
    assert everywhere["total"] == 4


def test_a_list_query_out_of_bounds_names_the_field(env):
    with pytest.raises(Invalid) as refused:
        env["service"].list_processes({"limit": 1000, "state": "secret"})
    assert set(refused.value.fields) == {"limit", "state"}
