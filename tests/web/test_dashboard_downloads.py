"""A visitor downloads the dashboard's tables as CSV and its charts as SVG, in a
real browser on a running node: the files hold the page's own published
numbers, a suppressed cell written as suppressed (never blank, never 0), and an
indicator without data says so instead of drawing empty axes.
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from typing import Any
from xml.etree import ElementTree

import pytest
import requests
from nameko.standalone.rpc import ClusterRpcProxy
from playwright.sync_api import expect

from tests.conftest import ROOT
from tests.web.conftest import assert_accessible, new_context, screenshot

pytestmark = [pytest.mark.e2e]

MRC = "2437"
SMALL_TOWN = "2437220"  # two interventions a month: suppressed in public
SVG = "{http://www.w3.org/2000/svg}"


def load_geo(config: dict[str, Any]) -> None:
    loaded = subprocess.run(
        [
            sys.executable,
            "-m",
            "shared.cli",
            "indicators",
            "load-geo",
            "--store-uri",
            config["MONGODB_URI"],
            "--db-prefix",
            config["DB_PREFIX"],
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert loaded.returncode == 0, loaded.stderr


@pytest.fixture(scope="module")
def site(running_node: dict[str, Any]) -> str:
    """Interventions of two years in three municipalities, approved for sharing."""
    config = running_node["config"]
    load_geo(config)
    with ClusterRpcProxy(config, timeout=60) as rpc:
        for period, counts in (("202503", (41, 2, 9)), ("202603", (38, 3, 12))):
            for unit, value in zip(
                ("csd:2437067", f"csd:{SMALL_TOWN}", "csd:2437210"), counts, strict=True
            ):
                for element in ("home_interventions", "community_interventions"):
                    rpc.indicators.enter_value(
                        {
                            "data_element": element,
                            "org_unit": unit,
                            "period": period,
                            "value": value,
                            "confirm": True,
                        }
                    )
        for year in ("2025", "2026"):
            rpc.indicators.approve(
                {"org_unit": f"cd:{MRC}", "period": f"{year}Q1", "by": "coord"}
            )
    return str(running_node["base_url"])


@pytest.fixture
def page(browser: Any, site: str) -> Any:
    context = new_context(browser, site)
    yield context.new_page()
    context.close()


def page_table(panel: Any) -> list[list[str]]:
    rows = panel.locator("tbody tr")
    return [
        [rows.nth(i).locator("th").inner_text()]
        + rows.nth(i).locator("td").all_inner_texts()
        for i in range(rows.count())
    ]


def test_a_visitor_downloads_a_table_and_a_chart_holding_the_suppressed_marker(
    page: Any, site: str
) -> None:
    page.goto(f"/indicateurs?mrc={SMALL_TOWN}")
    panels = page.locator("section.panel")
    suppressed = page.locator("section.panel:has(td.suppressed)")
    assert suppressed.count() >= 1, "the small municipality has a suppressed cell"
    panel = suppressed.first
    shown = page_table(panel)
    assert any("supprimé" in row for row in shown)

    link = panel.get_by_role("link", name="Télécharger le tableau (CSV)")
    link.focus()  # reachable from the keyboard, named with its indicator
    expect(link).to_be_focused()
    answer = requests.get(site + link.get_attribute("href"), timeout=30)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in answer.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows[0][0] == "Période"
    assert len(rows) - 1 == len(shown)
    for page_row, file_row in zip(shown, rows[1:], strict=True):
        assert file_row[0] == page_row[0]
        for on_page, in_file in zip(page_row[1:], file_row[1:], strict=True):
            if on_page == "supprimé":
                assert in_file == "supprimé"  # never blank, never 0
            elif on_page == "—":
                assert in_file == ""
            else:
                number = float(on_page.replace("\u202f", "").replace(",", "."))
                assert float(in_file) == number

    chart_link = panel.get_by_role("link", name="Télécharger le graphique (SVG)")
    answer = requests.get(site + chart_link.get_attribute("href"), timeout=30)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("image/svg+xml")
    drawing = ElementTree.fromstring(answer.content)
    texts = [t.text for t in drawing.iter(f"{SVG}text")]
    on_page = panel.locator("svg.chart text").all_text_contents()
    assert texts == on_page  # the same drawing as the page
    assert "S" in texts
    description = drawing.find(f"{SVG}desc").text
    assert "supprimé" in description

    # in English, the file says "suppressed"
    english = requests.get(
        site + link.get_attribute("href").replace("?", "?lang=en&"), timeout=30
    )
    text = english.content.decode("utf-8-sig")
    assert text.startswith("Period") and "suppressed" in text and "supprimé" not in text
    assert panels.count() >= 1
    assert_accessible(page)
    screenshot(page, "dashboard-downloads-phone")
    page.set_viewport_size({"width": 1280, "height": 900})
    screenshot(page, "dashboard-downloads-laptop")


def test_an_indicator_without_data_says_so_instead_of_empty_axes(
    page: Any, site: str
) -> None:
    page.goto(f"/indicateurs?mrc={MRC}&lang=en")
    empty = page.locator("section.panel:has(svg.chart.empty)")
    assert empty.count() >= 1, "waiting lists have no value on this node"
    first = empty.first
    expect(first.locator("figcaption")).to_have_text("No data yet for this indicator.")
    assert first.locator("svg.chart line").count() == 0  # no axes, no grid
    assert "No data yet" in first.locator("svg.chart").text_content()
    answer = requests.get(
        site
        + first.get_by_role("link", name="Download the chart (SVG)").get_attribute(
            "href"
        ),
        timeout=30,
    )
    assert answer.status_code == 200 and b"No data yet" in answer.content
    missing = requests.get(f"{site}/indicateurs/nope.csv?mrc={MRC}", timeout=30)
    assert missing.status_code == 404
    assert_accessible(page)
