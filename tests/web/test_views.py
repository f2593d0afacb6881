"""The rules the pages rely on, on plain values (no browser, no services)."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from gateway.api import Context
from gateway.web import charts, views
from gateway.web.core import page_lang
from gateway.web.messages import MESSAGES
from gateway.web.participation import ballot_kind, read_ballot
from services.boards.domain import DecisionStatus
from services.offerings.hsds import OUTREACH_MODES
from services.participation.domain import BUDGET, CARDINAL, PHASES, RANKED

SHELTER = {
    "service_at_locations": [
        {
            "location": {
                "name": "Refuge",
                "confidential_location": True,
                "transportation": "Autobus 7",
                "addresses": [{"address_1": "1, rue Secrète", "city": "Granby"}],
                "schedules": [{"byday": "MO", "opens_at": "09:00"}],
            }
        }
    ]
}


def test_a_confidential_location_shows_neither_address_nor_directions_nor_hours():
    places = views.public_places(SHELTER)
    assert places == [
        {
            "name": "Refuge",
            "confidential": True,
            "address": [],
            "transportation": "",
            "accessibility": "",
        }
    ]
    assert views.schedule_rows(SHELTER) == []


def test_a_public_location_shows_its_physical_address_and_how_to_get_there():
    service = {
        "locations": [
            {
                "name": "Comptoir",
                "transportation": "Autobus 12",
                "addresses": [
                    {
                        "address_1": "12, rue Champlain",
                        "city": "Saint-Jean",
                        "postal_code": "J3B 6V4",
                    },
                    {"address_type": "postal", "address_1": "C.P. 9"},
                ],
            }
        ]
    }
    (place,) = views.public_places(service)
    assert place["address"] == ["12, rue Champlain", "Saint-Jean J3B 6V4"]
    assert place["transportation"] == "Autobus 12"


def test_waiting_list_is_open_closed_or_unknown_never_guessed():
    assert views.waiting_list({"waiting_list_open": True})["state"] == "open"
    assert views.waiting_list({"waiting_list_open": False})["state"] == "closed"
    assert views.waiting_list({})["state"] == "unknown"


def test_opening_hours_come_in_week_order():
    rows = views.schedule_rows(
        {
            "schedules": [
                {"byday": "FR", "opens_at": "13:00:00"},
                {"byday": "MO,TU", "opens_at": "09:00", "closes_at": "12:00"},
            ]
        }
    )
    assert [(r["days"], r["opens"]) for r in rows] == [
        (["MO", "TU"], "09:00"),
        (["FR"], "13:00"),
    ]


def test_ranks_typed_per_option_become_an_ordered_ballot():
    read = views.read_ranking(
        {"rank-a": "2", "rank-b": "1", "rank-c": ""}, ["a", "b", "c"]
    )
    assert (read.choices, read.errors) == (["b", "a"], {})


def test_a_repeated_rank_names_both_options():
    read = views.read_ranking({"rank-a": "1", "rank-b": "1"}, ["a", "b", "c"])
    assert read.choices == []
    assert read.errors == {"rank-a": "rank.repeated", "rank-b": "rank.repeated"}


def test_a_gap_an_out_of_range_rank_and_an_empty_ranking_are_refused():
    assert views.read_ranking(
        {"rank-a": "1", "rank-b": "3"}, ["a", "b", "c"]
    ).errors == {"ranking": "rank.gap"}
    assert views.read_ranking({"rank-a": "4"}, ["a", "b", "c"]).errors == {
        "rank-a": "rank.range"
    }
    assert views.read_ranking({}, ["a"]).errors == {"ranking": "rank.empty"}


def test_the_basket_says_what_remains_and_when_it_is_over():
    state = views.basket(
        "50000", {"a": "20000", "b": "25000", "c": "30000"}, ["a", "b"]
    )
    assert (state["spent"], state["remaining"], state["over"]) == (
        Decimal(45000),
        Decimal(5000),
        False,
    )
    assert views.basket(50000, {"a": 30000, "c": 30000}, ["a", "c"])["over"] is True


def test_every_method_of_participation_has_its_ballot():
    kinds = {m: ballot_kind(m) for m in (*RANKED, *CARDINAL, *BUDGET)}
    assert {m for m, k in kinds.items() if k == "ranking"} == set(RANKED)
    assert {m for m, k in kinds.items() if k == "budget"} == set(BUDGET)
    assert kinds["approval"] == "approval" and kinds["score"] == "score"


def test_an_over_budget_basket_is_refused_before_reaching_the_service():
    from werkzeug.datastructures import MultiDict

    options = [{"id": "a", "cost": "30000"}, {"id": "b", "cost": "30000"}]
    content, errors = read_ballot(
        "budget", MultiDict([("project", "a"), ("project", "b")]), options, "50000"
    )
    assert content == {"approve": ["a", "b"]}
    assert errors == {"project": "budget.over"}


def test_rounds_read_in_vote_order_with_titles_and_transfers():
    rows = views.follow_rounds(
        {
            "rounds": [
                {
                    "number": 2,
                    "action": "elect",
                    "counts": {"a": "40", "b": "58"},
                    "transfers": {"b": "13"},
                    "candidates": ["b"],
                }
            ]
        },
        {"a": "Halte", "b": "Popote"},
    )
    assert [(c["title"], c["count"], c["transfer"]) for c in rows[0]["counts"]] == [
        ("Popote", "58", "13"),
        ("Halte", "40", None),
    ]
    assert rows[0]["candidates"] == ["Popote"]


def test_the_next_meeting_is_the_first_public_one_not_yet_held():
    meetings = [
        {"date": "2026-11-01T18:00", "status": "adjourned"},
        {"date": "2026-12-15T18:00", "status": "scheduled"},
        {"date": "2026-12-01T18:00", "status": "scheduled", "kind": "closed"},
        {"date": "2026-12-08T18:00", "status": "cancelled"},
    ]
    assert views.next_meeting(meetings, "2026-11-23")["date"] == "2026-12-15T18:00"
    assert views.next_meeting(meetings[:1], "2026-11-23") is None


def test_an_in_camera_item_is_listed_without_its_title():
    (item,) = views.public_agenda(
        {"agenda": [{"title": "Dossier d'une personne", "in_camera": True}]}
    )
    assert item["title"] is None and item["in_camera"]


def test_vote_figures_give_ballots_and_a_turnout_only_from_a_declared_count():
    published = {"ballots": 1234, "eligible_count": 4000}
    assert views.vote_figures(published, "fr") == {
        "ballots": "1\u202f234",
        "eligible": "4\u202f000",
        "turnout": "30,9\u00a0%",  # 30.85 rounds half up
    }
    assert views.vote_figures(published, "en")["turnout"] == "30.9%"
    assert views.vote_figures({"ballots": 4, "eligible_count": 13}, "en") == {
        "ballots": "4",
        "eligible": "13",
        "turnout": "30.8%",
    }
    # no declared count (or a result published before there was one): no turnout
    for missing in ({"ballots": 9}, {"ballots": 9, "eligible_count": None}):
        assert views.vote_figures(missing, "fr") == {
            "ballots": "9",
            "eligible": None,
            "turnout": None,
        }
    # ballots outnumbering the count never make a turnout above 100 %
    assert (
        views.vote_figures({"ballots": 9, "eligible_count": 5}, "fr")["turnout"] is None
    )
    assert views.vote_figures({}, "fr") is None


def test_a_suppressed_cell_reads_suppressed_never_zero():
    assert views.cell_text({"value": None, "suppressed": True}, "fr") == "supprimé"
    assert views.cell_text({"value": None, "suppressed": True}, "en") == "suppressed"
    assert views.cell_text({"value": None}, "fr") == "—"
    assert views.cell_text({"value": 0}, "fr") == "0"
    assert views.cell_text({"value": 1234.5}, "fr") == "1\u202f234,5"
    assert views.cell_text({"value": 1234.5}, "en") == "1,234.5"


SERIES = [
    {
        "name": "MRC",
        "points": [
            {"period": "2024", "value": 12},
            {"period": "2025", "value": None, "suppressed": True},
            {"period": "2026", "value": 15},
        ],
    },
    {
        "name": "Région",
        "points": [
            {"period": "2024", "value": 10},
            {"period": "2025", "value": 11},
            {"period": "2026", "value": 13},
        ],
    },
]


def test_a_line_chart_breaks_at_a_suppressed_period_and_marks_it_s():
    svg = str(charts.line_chart("Taux", ["2024", "2025", "2026"], SERIES, uid="t"))
    assert svg.startswith("<svg") and 'role="img"' in svg
    assert '<title id="t-t">Taux</title>' in svg
    assert "2025 : supprimé" in svg  # the description says it in words
    # the MRC line has no segment across 2025: two single points, no polyline
    assert svg.count("<polyline") == 1  # the region only
    assert ">S</text>" in svg
    # series differ by dash and marker shape, not only colour
    assert 'stroke-dasharray=""' in svg and 'stroke-dasharray="8 4"' in svg
    assert "<circle" in svg and "<rect x=" in svg


def test_a_bar_chart_draws_no_bar_for_a_suppressed_cell_and_patterns_each_series():
    svg = str(charts.bar_chart("Taux", ["2024", "2025", "2026"], SERIES, uid="b"))
    bars = re.findall(r'<rect x="[^"]+" y="[^"]+" width="[^"]+" height="([^"]+)"', svg)
    assert "0.0" not in bars
    assert "url(#b-hatch)" in svg and "url(#b-suppressed)" in svg


TEMPLATES = Path(__file__).resolve().parents[2] / "gateway" / "web" / "templates"


def test_every_sentence_the_templates_use_exists_in_both_languages():
    used = set()
    for template in TEMPLATES.glob("*.html"):
        used |= set(
            re.findall(r"""(?<![\w.])t\(["']([a-z_.]+)["']""", template.read_text())
        )
    dynamic = (
        {f"decision.{s.value}" for s in DecisionStatus}
        | {f"outreach.{m}" for m in OUTREACH_MODES}
        | {f"phase.{p}" for p in (*PHASES, "none")}
        | {f"method.{k}" for k in ("approval", "ranking", "budget", "score")}
        | {f"waiting.{s}" for s in ("open", "closed", "unknown")}
        | {f"day.{d}" for d in views.DAYS}
        | {
            "rank.range",
            "rank.repeated",
            "rank.gap",
            "rank.empty",
            "score.number",
            "budget.over",
            "ballot.empty",
        }
    )
    used = {k for k in used if not k.endswith(".")}  # prefixes of dynamic keys
    missing = sorted(k for k in used | dynamic if k not in MESSAGES)
    assert missing == []
    assert all(fr and en for fr, en in MESSAGES.values())


def _ctx(url: str, **headers: str) -> Context:
    request = Request(
        EnvironBuilder(
            path=url.split("?")[0], query_string=url.partition("?")[2], headers=headers
        ).get_environ()
    )
    accept = request.accept_languages.best_match(["fr", "en"], default="fr")
    return Context(request=request, lang=accept, correlation_id="c", call=print)


def test_language_is_the_query_then_the_cookie_then_accept_language():
    assert page_lang(_ctx("/aide")) == "fr"
    assert page_lang(_ctx("/aide", **{"Accept-Language": "en-CA,en"})) == "en"
    assert page_lang(_ctx("/aide", Cookie="lang=en")) == "en"
    assert page_lang(_ctx("/aide?lang=fr", Cookie="lang=en")) == "fr"
    assert page_lang(_ctx("/aide?lang=de", **{"Accept-Language": "en"})) == "en"
