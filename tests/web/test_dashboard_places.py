"""The dashboard's place picker: MRCs and towns by name, never a typed code."""

from __future__ import annotations

from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from gateway.api import Context
from gateway.web import indicators


def _ctx(query: str) -> Context:
    request = Request(
        EnvironBuilder(path="/indicateurs", query_string=query).get_environ()
    )
    return Context(request, "fr", "cid", lambda *a, **k: {})


def test_the_picker_lists_every_mrc_by_name_and_the_towns_of_the_chosen_one():
    mrcs, towns = indicators.place_choices("2466")
    names = dict(mrcs)
    assert len(mrcs) == 98 and names["2466"] == "Montréal"
    assert [name for _, name in mrcs] == sorted(names.values(), key=str.casefold)
    assert towns and all(code.startswith("2466") for code, _ in towns)
    assert not any(name.isdigit() for _, name in (*mrcs, *towns))
    assert indicators.place_choices("")[1] == []


def test_a_town_is_asked_for_within_its_mrc_and_an_old_town_link_still_works():
    assert indicators._place(_ctx("mrc=2466&municipalite=2466023")) == (
        "2466",
        "2466023",
        "2466023",
    )
    # a town of another MRC is not asked for under this one
    assert indicators._place(_ctx("mrc=2466&municipalite=2437067")) == (
        "2466",
        "",
        "2466",
    )
    # links of earlier pages gave a town's code as mrc
    assert indicators._place(_ctx("mrc=2466023")) == ("2466", "2466023", "2466023")
