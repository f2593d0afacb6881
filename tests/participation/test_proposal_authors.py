"""Authors edit and withdraw their proposals, comments are answered and
moderated, the registry says which rows it refused: the participation service
with nameko's worker_factory and the real store (fixtures of test_service)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.errors import Conflict, Forbidden, Invalid, NotFound
from tests.participation.test_service import T0, _process, env  # noqa: F401

pytestmark = pytest.mark.integration


def test_an_author_edits_their_proposal_during_the_proposals_phase_only(env):  # noqa: F811
    service = env["service"]
    pid = _process(service)
    mine = service.submit_proposal(pid, {"title": "Parc"}, person="p0@x.org")
    edited = service.edit_proposal(
        mine["id"], {"title": "Parc riverain", "description": "Au bord"}, "p0@x.org"
    )
    assert edited["title"] == "Parc riverain"
    assert [p["title"] for p in service.list_proposals(pid)] == ["Parc riverain"]
    with pytest.raises(Forbidden):
        service.edit_proposal(mine["id"], {"title": "Pub"}, "p1@x.org")
    env["clock"].now = T0 + timedelta(days=11)
    with pytest.raises(Conflict):
        service.edit_proposal(mine["id"], {"title": "Trop tard"}, "p0@x.org")


def test_a_withdrawn_proposal_is_never_supported_nor_on_the_ballot(env):  # noqa: F811
    service = env["service"]
    pid = _process(service, support_threshold=0)
    gone = service.submit_proposal(pid, {"title": "Parc"}, person="p0@x.org")
    with pytest.raises(Forbidden):
        service.withdraw_proposal(gone["id"], "p1@x.org")
    assert service.withdraw_proposal(gone["id"], "p0@x.org")["status"] == "withdrawn"
    with pytest.raises(Conflict):
        service.support_proposal(gone["id"], person="p2@x.org")
    with pytest.raises(Conflict):
        service.withdraw_proposal(gone["id"], "p0@x.org")
    env["clock"].now = T0 + timedelta(days=21)
    with pytest.raises(Invalid):  # not on the ballot
        service.cast_ballot(pid, {"ranking": [gone["id"]]}, person="p3@x.org")


def test_answers_never_carry_an_authors_key_but_the_author_finds_theirs(env):  # noqa: F811
    service = env["service"]
    pid = _process(service)
    made = service.submit_proposal(pid, {"title": "Parc"}, person="p0@x.org")
    service.hide_proposal(made["id"], "Hors sujet / Off topic")
    other = service.submit_proposal(pid, {"title": "Piste"}, person="p1@x.org")
    said = service.comment(other["id"], "Oui", "p2@x.org")
    for answer in (made, said, *service.list_proposals(pid)):
        assert "author_key" not in answer
    assert "author_key" not in str(service.list_comments(other["id"], "p2@x.org"))
    mine = service.my_proposals(pid, "p0@x.org")
    assert [(p["id"], p["hidden_reason"]) for p in mine] == [
        (made["id"], "Hors sujet / Off topic")
    ]
    assert "author_key" not in mine[0]
    assert service.my_proposals(pid, "p3@x.org") == []


def test_a_hidden_comment_shows_its_reason_to_all_and_its_text_to_its_author(env):  # noqa: F811
    service = env["service"]
    pid = _process(service)
    prop = service.submit_proposal(pid, {"title": "Parc"}, person="p0@x.org")
    first = service.comment(prop["id"], "Bonne idée", "p1@x.org")
    reply = service.comment(prop["id"], "Insulte", "p2@x.org", parent_id=first["id"])
    assert reply["parent_id"] == first["id"]
    with pytest.raises(NotFound):
        service.hide_comment("another-process", reply["id"], "Injure")
    service.hide_comment(pid, reply["id"], "Propos injurieux / Abusive")
    # the fake clock gives both the same time: read them by id, not by order
    seen = {c["id"]: c for c in service.list_comments(prop["id"], "p1@x.org")}
    assert (seen[first["id"]]["text"], seen[first["id"]]["mine"]) == (
        "Bonne idée",
        True,
    )
    assert (seen[reply["id"]]["text"], seen[reply["id"]]["hidden"]) == ("", True)
    assert seen[reply["id"]]["hidden_reason"] == "Propos injurieux / Abusive"
    mine = service.list_comments(prop["id"], "p2@x.org")
    own = next(c for c in mine if c["id"] == reply["id"])
    assert (own["text"], own["mine"]) == ("Insulte", True)
    with pytest.raises(NotFound):  # a reply to a comment of another proposal
        other = service.submit_proposal(pid, {"title": "Piste"}, person="p0@x.org")
        service.comment(other["id"], "?", "p1@x.org", parent_id=first["id"])


def test_the_registry_loads_good_rows_and_names_each_refused_row(env):  # noqa: F811
    service = env["service"]
    pid = _process(service)
    report = service.load_registry(
        pid,
        "person,municipality_code\n"
        "new1@x.org,2423027\n"
        ",2423027\n"
        "new1@x.org,2423027\n"
        "new2@x.org,24230\n"
        "new3@x.org,2466023\n"
        "new4@x.org,\n",
    )
    assert (report["rows"], report["added"]) == (2, 2)
    assert [(r["row"], r["field"]) for r in report["refused"]] == [
        (3, "person"),
        (4, "person"),
        (5, "municipality_code"),
        (6, "municipality_code"),
    ]
    assert report["refused"][1]["en"] == "already named on row 2"
    assert "MRC 2423" in report["refused"][3]["fr"]
    assert service.submit_proposal(pid, {"title": "Parc"}, person="new4@x.org")
