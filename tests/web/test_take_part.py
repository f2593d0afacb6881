"""Taking part, in a real browser against a running node (``maillage node run``:
the services as their own processes, the gateway under gunicorn, the real store
and broker): submit and support a proposal, cast a ranked ballot and read the
receipt, fill a budget basket, read results round by round after the close.

Processes are created through the participation service's RPC, as staff tools
do, with phases a few seconds long where a journey needs the vote open or
closed. The citizen signs in through ``/auth/token`` and the browser sends the
bearer header; the service knows them only as a per-process pseudonymous key.
Each journey runs axe-core on the pages it visits and saves a screenshot under
``test-output/web``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from nameko.standalone.rpc import ClusterRpcProxy
from playwright.sync_api import expect

from tests.web.conftest import assert_accessible, new_context, screenshot

pytestmark = [pytest.mark.e2e]

MRC = "2456"
PASSWORD = "un mot de passe assez long"
OPTIONS = ("Halte-garderie", "Transport collectif", "Popote roulante")
OPENS_IN = 4.0  # seconds of proposals before the vote opens (short processes)
VOTE_LASTS = 5.0  # seconds of vote of the process whose results are read


@pytest.fixture(scope="module")
def rpc(running_node: dict[str, Any]) -> Iterator[Any]:
    with ClusterRpcProxy(running_node["config"], timeout=30) as proxy:
        yield proxy


@pytest.fixture(scope="module")
def site(running_node: dict[str, Any]) -> str:
    return str(running_node["base_url"])


@pytest.fixture(scope="module")
def citizen(running_node: dict[str, Any], site: str) -> dict[str, str]:
    """A citizen of the MRC, made as ``maillage gateway create-account`` does and
    signed in through the gateway: ``{"id", "token"}``."""
    from gateway.auth import hash_password
    from gateway.store import GatewayStore
    from shared.mongo import make_client

    config = running_node["config"]
    client = make_client(config["MONGODB_URI"])
    try:
        account = GatewayStore(
            lambda: client, f"{config['DB_PREFIX']}gateway"
        ).add_account(
            {
                "username": "citoyenne",
                "password_hash": hash_password(PASSWORD),
                "role": "citizen",
                "mrc": MRC,
                "display_name": "Citoyenne",
            }
        )
    finally:
        client.close()
    answer = requests.post(
        f"{site}/auth/token",
        json={"username": "citoyenne", "password": PASSWORD},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return {"id": str(account["_id"]), "token": str(answer.json()["token"])}


def _phases(start: datetime, opens_in: float, lasts: float) -> dict[str, list[str]]:
    """Proposals from an hour ago; the vote opens ``opens_in`` seconds after
    ``start`` and lasts ``lasts`` seconds; results after."""
    edges = [
        start - timedelta(hours=1),
        start + timedelta(seconds=opens_in / 2),
        start + timedelta(seconds=opens_in),
        start + timedelta(seconds=opens_in + lasts),
        start + timedelta(days=30),
    ]
    names = ["proposals", "deliberation", "voting", "results"]
    return {
        n: [edges[i].isoformat(), edges[i + 1].isoformat()] for i, n in enumerate(names)
    }


@pytest.fixture(scope="module")
def processes(rpc: Any, citizen: dict[str, str]) -> dict[str, Any]:
    """Four processes of the MRC: one taking proposals, one voting by ranking, one
    voting a budget, and one whose ranked vote is closed with its results."""
    start = datetime.now(UTC)
    hours = 6 * 3600.0
    plans = {
        "ideas": ("Idées pour 2027", "irv", _phases(start, hours, hours), 2),
        "vote": ("Priorités sociales 2027", "irv", _phases(start, OPENS_IN, hours), 0),
        "budget": (
            "Budget participatif 2027",
            "pb-greedy",
            _phases(start, OPENS_IN, hours),
            0,
        ),
        "closed": ("Priorités 2026", "irv", _phases(start, OPENS_IN, VOTE_LASTS), 0),
    }
    voters = [f"voisin{n}@example.org" for n in range(9)]
    registry = "person,municipality_code\n" + "".join(
        f"{p},2456083\n" for p in [citizen["id"], *voters]
    )
    made: dict[str, Any] = {}
    for key, (title, method, phases, threshold) in plans.items():
        data = {
            "mrc_code": MRC,
            "title": title,
            "method": method,
            "support_threshold": threshold,
            "phases": phases,
        }
        if method == "pb-greedy":
            data["budget"] = "50000"
        if key == "closed":
            data["eligible_count"] = 26  # 9 ballots of 26: 34.6 %
        pid = rpc.participation.create_process(data)["id"]
        rpc.participation.load_registry(pid, registry)
        titles = ["Jardin communautaire"] if key == "ideas" else OPTIONS
        ids = [
            rpc.participation.submit_proposal(
                pid,
                {
                    "title": title,
                    "description": f"{title} : description.",
                    "estimated_cost": str(20000 + 5000 * n),
                },
                person=voters[0],
            )["id"]
            for n, title in enumerate(titles)
        ]
        made[key] = {"id": pid, "options": dict(zip(titles, ids, strict=True))}
    # the closed process: 4 for the daycare, 3 for transport, 2 for the meals on
    # wheels (one of them going on to the daycare, one ranking nothing else)
    daycare, transport, meals = (made["closed"]["options"][t] for t in OPTIONS)
    rankings = [[daycare]] * 4 + [[transport]] * 3 + [[meals, daycare]] + [[meals]]
    _wait_until(start, OPENS_IN + 0.3)
    receipts = [
        rpc.participation.cast_ballot(
            made["closed"]["id"], {"ranking": ranking}, person=voter
        )["receipt"]
        for voter, ranking in zip(voters, rankings, strict=True)
    ]
    _wait_until(start, OPENS_IN + VOTE_LASTS + 0.3)
    rpc.participation.close_vote(made["closed"]["id"])
    made["closed"]["receipts"] = receipts
    return made


def _wait_until(start: datetime, seconds: float) -> None:
    left = (start + timedelta(seconds=seconds) - datetime.now(UTC)).total_seconds()
    if left > 0:
        time.sleep(left)


@pytest.fixture
def page(browser: Any, site: str, citizen: dict[str, str]) -> Iterator[Any]:
    """A tab of the signed-in citizen (bearer header on every request)."""
    context = new_context(
        browser,
        site,
        extra_http_headers={"Authorization": f"Bearer {citizen['token']}"},
    )
    yield context.new_page()
    context.close()


def test_a_citizen_submits_then_supports_a_proposal(
    page: Any, processes: dict[str, Any], rpc: Any
) -> None:
    page.goto(f"/participer?mrc={MRC}")
    listed = page.locator("ul.results > li").all_inner_texts()
    assert len(listed) == 3  # the open ones; the closed vote is not listed
    assert not [item for item in listed if "Priorités 2026" in item]
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
    stored = [
        p
        for p in rpc.participation.list_proposals(processes["ideas"]["id"])
        if p["title"] == "Frigo communautaire"
    ]
    assert [(p["supports"], p["status"]) for p in stored] == [(1, "submitted")]


def test_a_second_support_of_the_same_person_is_refused_in_words(
    page: Any, processes: dict[str, Any]
) -> None:
    process = processes["ideas"]
    garden = process["options"]["Jardin communautaire"]
    page.goto(f"/participer/{process['id']}")
    card = page.locator(f"#p-{garden}")
    card.get_by_role("button", name="Appuyer").click()
    expect(page.get_by_role("status")).to_have_text("Votre appui est enregistré.")
    page.locator(f"#p-{garden}").get_by_role("button", name="Appuyer").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Vous appuyez déjà cette proposition."
    )
    assert_accessible(page)


def test_a_proposal_without_title_comes_back_with_the_field_named(
    page: Any, processes: dict[str, Any]
) -> None:
    page.goto(f"/participer/{processes['ideas']['id']}")
    page.get_by_role("button", name="Déposer").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Titre")
    expect(page.get_by_label("Titre")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)


def test_a_ranking_with_two_equal_ranks_is_refused_on_the_ballot(
    page: Any, processes: dict[str, Any]
) -> None:
    page.goto(f"/participer/{processes['vote']['id']}/vote")
    page.get_by_label("Popote roulante").select_option(label="1er choix")
    page.get_by_label("Halte-garderie").select_option(label="1er choix")
    page.get_by_role("button", name="Voter").click()
    expect(page.get_by_role("alert")).to_contain_text("Deux options ont le même rang.")
    expect(page.get_by_label("Halte-garderie")).to_have_attribute(
        "aria-invalid", "true"
    )
    assert_accessible(page)


def test_a_ranked_ballot_is_cast_with_the_keyboard_and_gives_a_receipt(
    page: Any, processes: dict[str, Any], rpc: Any
) -> None:
    process = processes["vote"]
    page.goto(f"/participer/{process['id']}/vote")
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
    # the service counted one participant and keeps the results hidden
    assert rpc.participation.turnout(process["id"]) == {"participants": 1}
    # a second ballot of the same person is refused on the ballot page
    page.goto(f"/participer/{process['id']}/vote")
    page.get_by_label("Halte-garderie").select_option(label="1er choix")
    page.get_by_role("button", name="Voter").click()
    expect(page.get_by_role("alert")).to_contain_text("déjà voté")
    assert rpc.participation.turnout(process["id"]) == {"participants": 1}


def test_results_before_the_close_are_refused_in_words(
    page: Any, processes: dict[str, Any]
) -> None:
    response = page.goto(f"/participer/{processes['vote']['id']}/resultats")
    assert response.status == 409
    expect(page.get_by_role("alert")).to_contain_text(
        "Résultats cachés jusqu'à la clôture du vote."
    )
    assert_accessible(page)


def test_the_budget_basket_shows_what_remains_with_and_without_javascript(
    browser: Any, site: str, processes: dict[str, Any], citizen: dict[str, str]
) -> None:
    address = f"/participer/{processes['budget']['id']}/vote"
    signed_in = {"Authorization": f"Bearer {citizen['token']}"}
    for javascript in (True, False):
        context = new_context(
            browser,
            site,
            java_script_enabled=javascript,
            extra_http_headers=signed_in,
        )
        try:
            tab = context.new_page()
            tab.goto(address)
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


def test_results_after_the_close_show_each_round(
    page: Any, processes: dict[str, Any], rpc: Any
) -> None:
    process = processes["closed"]
    page.goto(f"/participer/{process['id']}/resultats")
    expect(page.locator("ol.winners > li").first).to_have_text("Halte-garderie")
    captions = page.locator(".round caption").all_inner_texts()
    assert captions == [
        "Tour 1 — éliminée : Popote roulante",
        "Tour 2 — élue : Halte-garderie",
    ]
    second = page.locator(".round").nth(1)
    assert "Bulletins épuisés : 1" in second.inner_text()
    published = rpc.participation.get_results(process["id"])
    assert published["ballots"] == 9
    assert_accessible(page)
    screenshot(page, "participate-results")


def test_a_closed_process_says_how_many_voted_and_the_turnout_in_both_languages(
    page: Any, processes: dict[str, Any]
) -> None:
    process = processes["closed"]
    page.goto(f"/participer/{process['id']}")
    figures = page.get_by_role("region", name="Participation au vote")
    expect(figures).to_contain_text("Bulletins déposés")
    assert figures.locator("dd").all_inner_texts() == [
        "9",
        "34,6\u00a0% (9 bulletin(s) sur 26 personnes admissibles)",
    ]
    assert_accessible(page)
    screenshot(page, "participate-closed-figures")
    page.goto(f"/participer/{process['id']}?lang=en")
    figures = page.get_by_role("region", name="Votes cast")
    assert figures.locator("dd").all_inner_texts() == [
        "9",
        "34.6% (9 ballot(s) of 26 eligible people)",
    ]
    # a process still voting shows no figures
    page.goto(f"/participer/{processes['vote']['id']}?lang=en")
    expect(page.locator(".vote-figures")).to_have_count(0)


def test_a_receipt_read_after_the_close_says_it_was_counted(
    page: Any, processes: dict[str, Any]
) -> None:
    process = processes["closed"]
    # the receipt is never put in a URL: the voter finds it in the published list
    page.goto(f"/participer/{process['id']}/recu")
    expect(page.locator("#receipts")).to_contain_text(process["receipts"][0])
    assert_accessible(page)
    expect(page.locator("#receipts")).not_to_contain_text("0" * 64)


@pytest.mark.parametrize(
    "address",
    [
        "/participer",
        "/participer/{ideas}",
        "/participer/{vote}/vote",
        "/participer/{budget}/vote",
        "/participer/{closed}/resultats",
    ],
)
def test_each_take_part_page_reads_in_english_and_stays_accessible(
    page: Any, processes: dict[str, Any], address: str
) -> None:
    ids = {key: value["id"] for key, value in processes.items()}
    page.goto(f"{address.format(**ids)}?lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    french = ("Participer", "Bulletin de vote", "Résultats", "Déposer")
    assert not any(w in page.locator("h1").inner_text() for w in french)
    assert page.get_by_role("link", name="Français").is_visible()
    assert_accessible(page)
