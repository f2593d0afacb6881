"""A process may declare how many can vote: the denominator of its turnout."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.participation import domain
from services.participation.events import RESULTS_PUBLISHED
from shared.envelope import Envelope, current_version
from shared.errors import Conflict, Invalid
from tests.participation import test_service
from tests.participation.test_service import T0, _ballot_ready, _process

env = test_service.env  # the service on the real store, as in test_service

# --- domain -----------------------------------------------------------------------


@pytest.mark.parametrize("value", [0, -3, True, 12.5, "120", [120]])
def test_an_eligible_count_that_is_not_a_positive_integer_is_refused_in_both_languages(
    value,
):
    with pytest.raises(domain.ParticipationRefused) as info:
        domain.check_eligible_count(value, 0)
    refusal = info.value.refusal
    assert (refusal.kind, refusal.field) == ("invalid", "eligible_count")
    assert refusal.fr == "entier positif attendu"
    assert refusal.en == "positive integer expected"


def test_an_eligible_count_below_the_ballots_already_cast_is_refused():
    assert domain.check_eligible_count(120, 37) == 120
    assert domain.check_eligible_count(37, 37) == 37
    assert domain.check_eligible_count(None, 37) is None
    with pytest.raises(domain.ParticipationRefused) as info:
        domain.check_eligible_count(36, 37)
    refusal = info.value.refusal
    assert refusal.field == "eligible_count"
    assert "37" in refusal.fr and "37" in refusal.en


def test_results_carry_no_eligible_count_when_ballots_outnumber_the_declared_one():
    assert domain.published_eligible({"eligible_count": 120}, 37) == 120
    assert domain.published_eligible({"eligible_count": 120}, 121) is None
    assert domain.published_eligible({}, 37) is None


# --- the event's versions ---------------------------------------------------------


def _wire(version: int, payload: dict) -> dict:
    return Envelope(
        RESULTS_PUBLISHED,
        payload,
        "mrc-2423",
        schema_version=version,
        occurred_at=datetime(2026, 12, 1, tzinfo=UTC),
    ).to_dict()


def test_a_version_1_results_event_loads_with_no_eligible_count():
    v1 = {"process_id": "p1", "mrc_code": "2423", "ballots": 37, "priorities": []}
    loaded = Envelope.from_dict(_wire(1, v1))
    assert current_version(RESULTS_PUBLISHED) == 2
    assert loaded.schema_version == 2
    assert loaded.payload == v1 | {"eligible_count": None}
    v2 = {"process_id": "p1", "mrc_code": "2423", "ballots": 37, "eligible_count": 120}
    loaded = Envelope.from_dict(_wire(2, v2))
    assert (loaded.schema_version, loaded.payload) == (2, v2)


# --- the service on the real store ------------------------------------------------


@pytest.mark.integration
@pytest.mark.parametrize("value", [0, -1, "douze", 12.5, True])
def test_creating_a_process_with_a_bad_eligible_count_names_the_field(env, value):
    with pytest.raises(Invalid) as info:
        _process(env["service"], eligible_count=value)
    assert list(info.value.fields) == ["eligible_count"]
    (reason,) = info.value.fields["eligible_count"]
    assert reason == "Entier positif attendu. / Positive integer expected."


@pytest.mark.integration
def test_the_declared_eligible_count_is_read_with_the_process_and_published(env):
    service = env["service"]
    pid, ids = _ballot_ready(env, eligible_count=10)
    assert service.get_process(pid)["eligible_count"] == 10
    for voter in ("p3", "p4", "p5"):
        service.cast_ballot(pid, {"ranking": ids}, person=f"{voter}@x.org")
    with pytest.raises(Invalid) as info:
        service.set_eligible_count(pid, 2)
    assert list(info.value.fields) == ["eligible_count"]
    assert "3" in info.value.fields["eligible_count"][0]
    assert service.set_eligible_count(pid, 8)["eligible_count"] == 8
    env["clock"].now = T0 + timedelta(days=31)
    service.close_vote(pid)
    (published,) = [
        e for e in env["outbox"].events if e.event_type == RESULTS_PUBLISHED
    ]
    assert (published.payload["ballots"], published.payload["eligible_count"]) == (3, 8)
    assert service.get_results(pid)["eligible_count"] == 8
    with pytest.raises(Conflict):
        service.set_eligible_count(pid, 9)


@pytest.mark.integration
def test_a_process_that_declares_no_eligible_count_publishes_none(env):
    service = env["service"]
    pid, ids = _ballot_ready(env)
    service.cast_ballot(pid, {"ranking": ids}, person="p3@x.org")
    env["clock"].now = T0 + timedelta(days=31)
    service.close_vote(pid)
    (published,) = [
        e for e in env["outbox"].events if e.event_type == RESULTS_PUBLISHED
    ]
    assert published.payload["eligible_count"] is None
