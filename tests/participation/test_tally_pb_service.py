"""A count the tally engine refuses is a named 422 refusal, not a 500.

Through the participation service (nameko worker_factory, the real store):
the engine's ``Refusal`` (a setting, its value, the reason in French and
English) becomes the service's ``Invalid`` naming the same setting, and the
process stays open so the setting can be fixed.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.errors import Invalid

from .test_service import PHASES as _PHASES
from .test_service import T0, _ballot_ready, env  # noqa: F401  (fixture)

pytestmark = pytest.mark.integration


def test_closing_a_ranked_vote_with_more_seats_than_proposals_is_refused_naming_seats(
    env,  # noqa: F811
):
    service = env["service"]
    pid, ids = _ballot_ready(env, method="stv-meek", seats=5)
    service.cast_ballot(pid, {"ranking": [ids[0], ids[1]]}, person="p3@x.org")
    env["clock"].now = T0 + timedelta(days=31)
    with pytest.raises(Invalid) as refused:
        service.close_vote(pid)
    reasons = refused.value.fields["seats"]
    assert len(reasons) == 1
    fr, en = reasons[0].split(" / ")
    assert "1 à 3 sièges" in fr and "5" in fr
    assert "1 to 3 seats expected" in en and "5" in en
    # nothing was published: the process is still open and can be closed later
    assert service.get_process(pid)["closed"] is False
    assert env["outbox"].events[-1].event_type != "participation.results_published"


def _refused_field(call) -> tuple[str, str, str]:
    with pytest.raises(Invalid) as refused:
        call()
    ((field, reasons),) = refused.value.fields.items()
    fr, en = reasons[0].split(" / ")
    return field, fr, en


def test_a_rule_variant_the_engine_does_not_know_is_refused_at_creation_by_name(
    env,  # noqa: F811
):
    service = env["service"]
    field, fr, en = _refused_field(
        lambda: _process_with(service, "irv", {"winnerElectionMode": "bordaish"})
    )
    assert field == "rules.winnerElectionMode"
    assert "mode inconnu" in fr and "bordaish" in fr
    assert "unknown mode" in en and "bordaish" in en


def test_a_tiebreak_that_asks_an_operator_is_refused_at_creation(env):  # noqa: F811
    field, fr, en = _refused_field(
        lambda: _process_with(
            env["service"], "irv", {"tiebreakMode": "stopCountingAndAsk"}
        )
    )
    assert field == "rules.tiebreakMode"
    assert "opérateur" in fr and "operator" in en


def test_an_unknown_rule_name_is_refused_naming_it(env):  # noqa: F811
    field, _, en = _refused_field(
        lambda: _process_with(env["service"], "irv", {"batchElimnation": True})
    )
    assert field == "rules.batchElimnation"
    assert "batchElimnation" in en


def test_rules_for_a_method_without_variants_are_refused_naming_rules(
    env,  # noqa: F811
):
    field, fr, en = _refused_field(
        lambda: _process_with(env["service"], "approval", {"completion": "none"})
    )
    assert field == "rules"
    assert "approval" in fr and "approval" in en


def test_an_equal_shares_completion_that_does_not_exist_is_refused(
    env,  # noqa: F811
):
    field, fr, en = _refused_field(
        lambda: _process_with(
            env["service"], "pb-mes", {"completion": "add2"}, budget="200"
        )
    )
    assert field == "rules.completion"
    assert "add1" in fr and "none" in en


def _process_with(service, method: str, rules: dict, **extra) -> dict:
    return service.create_process(
        {
            "mrc_code": "2423",
            "title": "Priorités 2027",
            "method": method,
            "phases": {k: list(v) for k, v in _PHASES.items()},
            "rules": rules,
            **extra,
        }
    )


def test_chosen_irv_rules_are_stored_used_at_close_and_shown_in_the_results(
    env,  # noqa: F811
):
    service = env["service"]
    pid, ids = _ballot_ready(env, rules={"minimumVoteThreshold": 2})
    shown = service.get_process(pid)["rules"]
    assert shown["minimumVoteThreshold"] == 2
    assert shown["winnerElectionMode"] == "singleWinnerMajority"  # safe default
    assert shown["tiebreakMode"] == "useCandidateOrder"
    for voter, ranking in [
        ("p3", [ids[0]]),
        ("p4", [ids[0]]),
        ("p5", [ids[1], ids[0]]),
        ("p6", [ids[2], ids[1]]),
    ]:
        service.cast_ballot(pid, {"ranking": ranking}, person=f"{voter}@x.org")
    env["clock"].now = T0 + timedelta(days=31)
    service.close_vote(pid)
    results = service.get_results(pid)
    assert results["rules"] == shown
    # under 2 votes, both others go in round 1 (no tie to break between them)
    first, second = results["result"]["rounds"]
    assert first["counts"] == {ids[0]: "2", ids[1]: "1", ids[2]: "1"}
    assert second["counts"] == {ids[0]: "3"}
    assert results["result"]["winners"] == [ids[0]]
    assert results["result"]["parameters"]["minimumVoteThreshold"] == 2


def test_equal_shares_without_completion_is_counted_as_chosen(env):  # noqa: F811
    service = env["service"]
    pid, ids = _ballot_ready(
        env, method="pb-mes", budget="200", rules={"completion": "none"}
    )
    for i, approve in enumerate(
        [[ids[0], ids[1]], [ids[0]], [ids[2]], [ids[0], ids[2]]]
    ):
        service.cast_ballot(pid, {"approve": approve}, person=f"p{i + 3}@x.org")
    env["clock"].now = T0 + timedelta(days=31)
    service.close_vote(pid)
    results = service.get_results(pid)
    assert results["rules"] == {"completion": "none"}
    assert results["result"]["parameters"]["completion"] == "none"


def test_a_process_without_rules_keeps_the_default_count_and_shows_none(
    env,  # noqa: F811
):
    service = env["service"]
    pid, ids = _ballot_ready(env)
    assert "rules" not in service.get_process(pid)
    service.cast_ballot(pid, {"ranking": [ids[0]]}, person="p3@x.org")
    env["clock"].now = T0 + timedelta(days=31)
    service.close_vote(pid)
    results = service.get_results(pid)
    assert results["rules"] is None
    assert results["result"]["method"] == "irv"
