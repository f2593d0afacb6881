"""Take-part pages in the browser, served by the real gateway app whose services
port is a fake (:mod:`tests.web.fake_node`), because the participation service
does not offer ``get_process`` / ``list_processes`` yet. The journeys, the
ballots and the accessibility checks are the same as they will be on a node.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from tests.conftest import ROOT
from tests.web.conftest import assert_accessible, free_port, new_context, screenshot

pytestmark = [pytest.mark.e2e]


@pytest.fixture(scope="module")
def fake_site(store_uri: str) -> Iterator[str]:
    port = free_port()
    prefix = f"wf{uuid.uuid4().hex[:8]}_"
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.web.fake_node", str(port), store_uri, prefix],
        cwd=ROOT,
        env=dict(os.environ, MAILLAGE_ENV="dev"),
        stdout=subprocess.DEVNULL,
        stderr=None,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{base}/participer", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        else:
            pytest.fail("the gateway with fake services did not start")
        yield base
    finally:
        server.terminate()
        server.wait(10)


@pytest.fixture
def page(browser: Any, fake_site: str) -> Iterator[Any]:
    context = new_context(browser, fake_site)
    yield context.new_page()
    context.close()


def test_a_citizen_submits_then_supports_a_proposal(page: Any) -> None:
    page.goto("/participer?mrc=2456")
    assert page.locator("ul.results > li").count() == 4
    assert_accessible(page)
    page.get_by_role("link", name="Idées pour 2027").click()
    expect(page.locator("h1")).to_have_text("Idées pour 2027")
    assert_accessible(page)
    page.get_by_label("Titre").fill("Frigo communautaire")
    page.get_by_label("Description").fill("Un frigo partagé au centre.")
    page.get_by_role("button", name="Déposer").click()
    expect(page.get_by_role("status")).to_have_text("Votre proposition est déposée.")
    card = page.locator("article", has_text="Frigo communautaire")
    expect(card).to_contain_text("0 appui(s)")
    card.get_by_role("button", name="Appuyer").click()
    expect(page.get_by_role("status")).to_have_text("Votre appui est enregistré.")
    expect(page.locator("article", has_text="Frigo communautaire")).to_contain_text(
        "1 appui(s)"
    )
    assert_accessible(page)
    screenshot(page, "participate-proposals")


def test_a_proposal_without_title_comes_back_with_the_field_named(page: Any) -> None:
    page.goto("/participer/p-idees")
    page.get_by_role("button", name="Déposer").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Titre")
    expect(page.get_by_label("Titre")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)


def test_a_ranked_ballot_is_cast_with_the_keyboard_and_gives_a_receipt(
    page: Any,
) -> None:
    page.goto("/participer/p-vote/vote")
    assert_accessible(page)
    # ranks chosen in selects, no drag-and-drop: the keyboard is enough
    page.get_by_label("Popote roulante").focus()
    page.keyboard.press("ArrowDown")  # 1st choice
    page.get_by_label("Halte-garderie").select_option(label="2ᵉ choix")
    page.get_by_role("button", name="Voter").click()
    expect(page.locator("h1")).to_have_text("Reçu de vote")
    receipt = page.locator("#receipt").inner_text()
    assert re.fullmatch(r"[0-9a-f]{64}", receipt)
    expect(page.locator("main")).to_contain_text("publiée à la clôture")
    assert_accessible(page)
    screenshot(page, "participate-receipt")


def test_a_ranking_with_two_equal_ranks_is_refused_on_the_ballot(page: Any) -> None:
    page.goto("/participer/p-vote/vote")
    page.get_by_label("Popote roulante").select_option(label="1er choix")
    page.get_by_label("Halte-garderie").select_option(label="1er choix")
    page.get_by_role("button", name="Voter").click()
    expect(page.get_by_role("alert")).to_contain_text("Deux options ont le même rang.")
    expect(page.get_by_label("Halte-garderie")).to_have_attribute(
        "aria-invalid", "true"
    )
    assert_accessible(page)


def test_the_budget_basket_shows_what_remains_with_and_without_javascript(
    browser: Any, fake_site: str
) -> None:
    for javascript in (True, False):
        context = new_context(browser, fake_site, java_script_enabled=javascript)
        try:
            tab = context.new_page()
            tab.goto("/participer/p-budget/vote")
            tab.get_by_label(re.compile("^Halte-garderie")).check()
            tab.get_by_label(re.compile("^Transport collectif")).check()
            if not javascript:
                tab.get_by_role("button", name="Recalculer le montant restant").click()
            remaining = tab.locator("[data-remaining]")
            expect(remaining).to_have_text("5000")
            expect(tab.locator("[data-spent]")).to_have_text("45000")
            if javascript:  # axe itself needs JavaScript
                assert_accessible(tab)
                tab.get_by_label(re.compile("^Popote roulante")).check()
                expect(tab.locator("[data-over]")).to_be_visible()
                screenshot(tab, "participate-budget")
        finally:
            context.close()


def test_results_after_the_close_show_each_round(page: Any) -> None:
    page.goto("/participer/p-2026/resultats")
    expect(page.locator("ol.winners")).to_have_text("Halte-garderie")
    captions = page.locator(".round caption").all_inner_texts()
    assert captions == [
        "Tour 1 — éliminée : Popote roulante",
        "Tour 2 — élue : Halte-garderie",
    ]
    second = page.locator(".round").nth(1)
    assert "Bulletins épuisés : 2" in second.inner_text()
    assert_accessible(page)
    screenshot(page, "participate-results")


def test_results_before_the_close_are_refused_in_words(page: Any) -> None:
    response = page.goto("/participer/p-vote/resultats")
    assert response.status == 409
    expect(page.get_by_role("alert")).to_contain_text(
        "Résultats cachés jusqu'à la clôture du vote."
    )
    assert_accessible(page)


@pytest.mark.parametrize(
    "address",
    [
        "/participer",
        "/participer/p-idees",
        "/participer/p-vote/vote",
        "/participer/p-budget/vote",
        "/participer/p-2026/resultats",
    ],
)
def test_each_take_part_page_reads_in_english_and_stays_accessible(
    page: Any, address: str
) -> None:
    page.goto(f"{address}?lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    french = ("Participer", "Bulletin de vote", "Résultats", "Déposer")
    assert not any(w in page.locator("h1").inner_text() for w in french)
    assert page.get_by_role("link", name="Français").is_visible()
    assert_accessible(page)
