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
