"""A deliberation under the Code Morin in a real browser, against a running node.

The board, its four members, the meeting (open, everyone present) and its item
are set up through the boards service (the pages that do it are tested in
``test_boards_meeting.py``). Then, through the pages only: Alice moves the main
motion on her phone, Bruno seconds; Alice and Chloé ask for the floor and the
speakers' list moves on every phone and on the projector (an anonymous laptop:
the public item's public view) without a reload; the secretary gives the floor
in order, the turn's time limit shown. Chloé amends (a span replaced, the
resulting text previewed), David sub-amends the amendment, a second amendment
is refused with the engine's rule named in French; the previous question is
moved, seconded and carried by roll call from the phones (3 of 4, two thirds);
the votes are then taken in order (sub-amendment and amendment by show of
hands counted by the secretary, the main motion by a secret ballot asked for
by Chloé), and the public register shows the adopted text with how it was
amended. axe-core runs on each page; screenshots at phone and laptop widths go
to ``test-output/web``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from nameko.standalone.rpc import ClusterRpcProxy
from playwright.sync_api import expect

from tests.web.conftest import assert_accessible, new_context, screenshot

pytestmark = [pytest.mark.e2e]

MRC = "2456"
BOARD = "conseil-procedure"
PASSWORD = "un mot de passe assez long"
LAPTOP = {"width": 1280, "height": 900}
MEETING = "seance-deliberation"
ITEM = "item-camp"
MEMBERS = {
    # username: (display name, role, seat)
    "alice": ("Alice Tremblay", "citizen_representative", "citizens-1"),
    "bruno": ("Bruno Gagnon", "board_member", "community_organisations-1"),
    "chloe": ("Chloé Roy", "board_member", "community_organisations-2"),
    "david": ("David Côté", "citizen_representative", "citizens-2"),
}
MOTION = "Accorder 10 000 $ au Carrefour jeunesse pour le camp d'été."
ADOPTED = "Accorder 11 000 $ au Carrefour jeunesse pour le camp d'été."


@pytest.fixture(scope="module")
def node(request: pytest.FixtureRequest) -> Any:
    import os

    saved = os.environ.get("MAILLAGE_MRC_CODE")
    os.environ["MAILLAGE_MRC_CODE"] = MRC
    try:
        yield request.getfixturevalue("running_node")
    finally:
        if saved is None:
            os.environ.pop("MAILLAGE_MRC_CODE", None)
        else:
            os.environ["MAILLAGE_MRC_CODE"] = saved


@pytest.fixture(scope="module")
def meeting(node: dict[str, Any]) -> str:
    """A board whose charter allows a secret ballot on request and limits a
    turn to two minutes; its four members seated; a public meeting open now
    with everyone present and one item."""
    start = (date.today() - timedelta(days=30)).isoformat()
    with ClusterRpcProxy(node["config"], timeout=30) as rpc:
        rpc.boards.create_board(
            {
                "board_id": BOARD,
                "name": "Conseil local des Maskoutains",
                "seat_groups": [
                    {"constituency": "citizens", "seats": 2},
                    {"constituency": "community_organisations", "seats": 2},
                ],
                "procedure": {
                    "code": "morin",
                    "time_limit_seconds": 120,
                    "secret_ballot_on_request": True,
                },
            }
        )
        for username, (name, _, seat) in MEMBERS.items():
            rpc.boards.appoint(
                BOARD,
                {
                    "seat_id": seat,
                    "member": {"member_id": username, "name": name},
                    "start": start,
                },
            )
        rpc.boards.schedule_meeting(
            BOARD,
            {
                "meeting_id": MEETING,
                "kind": "public",
                "scheduled_at": datetime.now(UTC).isoformat(),
                "place": "Salle du conseil",
            },
        )
        rpc.boards.add_agenda_item(
            MEETING, {"item_id": ITEM, "title": "Camp d'été du Carrefour jeunesse"}
        )
        rpc.boards.open_meeting(MEETING)
        for username in MEMBERS:
            rpc.boards.record_attendance(MEETING, username, True)
    _accounts(node["config"])
    return f"/conseils/{BOARD}/seances/{MEETING}"


def _accounts(config: dict[str, Any]) -> None:
    from gateway.auth import hash_password
    from gateway.store import GatewayStore
    from shared.mongo import make_client

    client = make_client(config["MONGODB_URI"])
    try:
        store = GatewayStore(lambda: client, f"{config['DB_PREFIX']}gateway")
        store.add_account(
            {
                "username": "secretaire",
                "password_hash": hash_password(PASSWORD),
                "role": "board_secretary",
                "mrc": MRC,
                "display_name": "Secrétariat",
            }
        )
        for username, (name, role, _) in MEMBERS.items():
            store.add_account(
                {
                    "username": username,
                    "password_hash": hash_password(PASSWORD),
                    "role": role,
                    "mrc": MRC,
                    "display_name": name,
                    "member_id": username,
                }
            )
    finally:
        client.close()


def sign_in(page: Any, username: str, then: str) -> None:
    page.goto(f"/connexion?suite={then}")
    page.get_by_label("Nom d'utilisateur").fill(username)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()


LATER = 15000  # another screen sees it at the next poll (every 2 s)


def test_a_motion_amended_sub_amended_and_closed_by_the_previous_question_is_voted_in_order(  # noqa: E501
    browser: Any, node: dict[str, Any], meeting: str
) -> None:
    site = node["base_url"]
    item = f"{meeting}/points/{ITEM}"
    # a shared two-core machine: a page's answer may take a few seconds
    expect.set_options(timeout=LATER)

    # the secretary, on a laptop, goes from the meeting's agenda to the item
    secretary = new_context(browser, site).new_page()
    secretary.set_viewport_size(LAPTOP)
    sign_in(secretary, "secretaire", meeting)
    secretary.get_by_role("link", name="Délibérer").click()
    expect(secretary.get_by_role("heading", level=1)).to_have_text(
        "Camp d'été du Carrefour jeunesse"
    )
    expect(secretary.locator("#direct")).to_contain_text("Quorum atteint : 4")

    # the projector in the room: no account, the public item's public view
    screen = new_context(browser, site).new_page()
    screen.set_viewport_size(LAPTOP)
    screen.goto(f"{item}/projection")
    expect(screen.locator("#ecran")).to_contain_text("En attente d'une proposition.")

    phones = {}
    for username in MEMBERS:
        phone = new_context(browser, site).new_page()
        sign_in(phone, username, item)
        phones[username] = phone
    alice, bruno, chloe, david = (phones[u] for u in MEMBERS)

    # Alice moves the main motion; Bruno's phone offers to second it
    alice.get_by_label("Texte de la proposition").fill(MOTION)
    alice.get_by_role("button", name="Proposer", exact=True).click()
    expect(alice.locator("#direct")).to_contain_text("en attente d'appui")
    bruno.get_by_role("button", name="J'appuie").click(timeout=LATER)
    expect(bruno.locator("#direct")).to_contain_text("appuyée par Bruno Gagnon")
    expect(screen.locator("#ecran")).to_contain_text(MOTION, timeout=LATER)

    # the speakers' list, in the order asked, on the phones and the projector
    alice.get_by_role("button", name="Demander la parole").click(timeout=LATER)
    chloe.get_by_role("button", name="Demander la parole").click(timeout=LATER)
    expect(chloe.locator("ol.speakers li")).to_have_text(
        ["Alice Tremblay", "Chloé Roy"]
    )
    expect(david.locator("ol.speakers li")).to_have_text(
        ["Alice Tremblay", "Chloé Roy"], timeout=LATER
    )
    expect(screen.locator("ol.speakers li")).to_have_text(
        ["Alice Tremblay", "Chloé Roy"], timeout=LATER
    )
    assert_accessible(david)
    screenshot(david, "procedure-phone-speakers")
    secretary.reload()
    secretary.get_by_role("button", name="Donner la parole à Alice Tremblay").click()
    expect(secretary.locator("#direct")).to_contain_text("Alice Tremblay a la parole")
    expect(secretary.locator("#direct")).to_contain_text("2 min par intervention")
    expect(screen.locator("#ecran")).to_contain_text(
        "Alice Tremblay a la parole", timeout=LATER
    )
    expect(screen.locator("ol.speakers li")).to_have_text(["Chloé Roy"])
    expect(bruno.locator("ol.speakers li")).to_have_text(["Chloé Roy"], timeout=LATER)
    screenshot(screen, "procedure-projector-speaking")
    assert_accessible(screen)
    secretary.get_by_role("button", name="Fin de l'intervention").click()
    secretary.get_by_role("button", name="Donner la parole à Chloé Roy").click()
    secretary.get_by_role("button", name="Fin de l'intervention").click()
    expect(secretary.locator("#direct")).to_contain_text("Personne n'a la parole.")

    # Chloé amends: "10 000 $" replaced by "12 000 $", previewed as she types
    chloe.reload()
    chloe.get_by_label("Remplacer des mots").check()
    chloe.get_by_label("Mots visés").fill("10 000 $")
    chloe.get_by_label("Nouveaux mots ou nouveau texte").fill("12 000 $")
    expect(chloe.locator("#apercu")).to_contain_text(
        "Accorder 10 000 $12 000 $ au Carrefour"
    )
    expect(chloe.locator("#apercu ins")).to_have_text("12 000 $")
    assert_accessible(chloe)
    screenshot(chloe, "procedure-phone-amendment-preview")
    chloe.get_by_role("button", name="Proposer la modification").click()
    expect(chloe.locator("#direct")).to_contain_text("Amendement n° 1")
    bruno.get_by_role("button", name="J'appuie").click(timeout=LATER)

    # David sub-amends the amendment: "12 000" becomes "11 000"
    david.reload()
    expect(
        david.get_by_label("L'amendement en cours (sous-amendement)")
    ).to_be_checked()
    david.get_by_label("Mots visés").fill("12 000")
    david.get_by_label("Nouveaux mots ou nouveau texte").fill("11 000")
    expect(david.locator("#apercu ins")).to_have_text("11 000 $")
    david.get_by_role("button", name="Proposer la modification").click()
    expect(david.locator("#direct")).to_contain_text("Sous-amendement n° 1")
    alice.get_by_role("button", name="J'appuie").click(timeout=LATER)
    expect(screen.locator("#ecran")).to_contain_text(
        "Sous-amendement n° 1", timeout=LATER
    )
    expect(screen.locator("#ecran ins").first).to_contain_text("11 000 $")
    screenshot(screen, "procedure-projector-amendments")

    # a second amendment while one is open: refused, the rule named
    bruno.reload()
    bruno.get_by_label("La proposition (amendement)").check()
    bruno.get_by_label("Mots visés").fill("camp d'été")
    bruno.get_by_label("Nouveaux mots ou nouveau texte").fill("camp de jour")
    bruno.get_by_role("button", name="Proposer la modification").click()
    refusal = bruno.get_by_role("alert")
    expect(refusal).to_contain_text("Règle : Un seul amendement à la fois")
    expect(refusal).not_to_contain_text("one_amendment_at_a_time")
    assert_accessible(bruno)
    screenshot(bruno, "procedure-phone-refused")
    bruno.goto(item)

    # the previous question: moved, seconded, carried by roll call (3 of 4)
    david.reload()
    david.get_by_text("Proposition de procédure", exact=True).click()
    david.get_by_label("Genre", exact=True).select_option("previous_question")
    david.get_by_role("button", name="Proposer cette procédure").click()
    chloe.get_by_role("button", name="J'appuie").click(timeout=LATER)
    secretary.reload()
    secretary.get_by_label("Mode de scrutin").select_option("roll_call")
    secretary.get_by_role("button", name="Mettre aux voix : Question préalable").click()
    for who, choice in (("alice", "Pour"), ("bruno", "Pour"), ("chloe", "Pour")):
        phones[who].get_by_role("button", name=choice, exact=True).click(timeout=LATER)
        expect(phones[who].locator("#direct")).to_contain_text(
            f"Vous avez voté : {choice}"
        )
    david.get_by_role("button", name="Contre", exact=True).click(timeout=LATER)
    expect(screen.locator("dl.tally")).to_contain_text("3", timeout=LATER)
    secretary.reload()
    expect(secretary.locator("#direct")).to_contain_text("Chloé Roy : Pour")
    secretary.get_by_role("button", name="Clore le vote").click()
    expect(secretary.locator("#direct")).to_contain_text("Question préalable : adoptée")
    expect(alice.locator("#direct")).to_contain_text(
        "La question préalable est adoptée", timeout=LATER
    )

    # the votes in order: the sub-amendment, then the amendment (show of hands)
    for label, counts in (
        ("Sous-amendement n° 1", ("4", "0", "0")),
        ("Amendement n° 1", ("3", "1", "0")),
    ):
        secretary.get_by_role("button", name=f"Mettre aux voix : {label}").click()
        for field, n in zip(("Pour", "Contre", "Abstentions"), counts, strict=True):
            secretary.get_by_label(field, exact=True).fill(n)
        secretary.get_by_role("button", name="Consigner les nombres").click()
        secretary.get_by_role("button", name="Clore le vote").click()
        expect(secretary.locator(".results-list li").first).to_contain_text(
            f"{label} : adopté"
        )
    expect(secretary.locator("#direct")).to_contain_text(ADOPTED)

    # the main motion as amended, by secret ballot at Chloé's request
    secretary.get_by_label("Mode de scrutin").select_option("secret")
    secretary.get_by_label("Demandé par").select_option(label="Chloé Roy")
    secretary.get_by_role(
        "button", name="Mettre aux voix : Proposition principale"
    ).click()
    for who in MEMBERS:
        phones[who].get_by_role("button", name="Pour", exact=True).click(timeout=LATER)
        expect(phones[who].locator("#direct")).to_contain_text(
            "Votre vote secret est enregistré."
        )
    expect(screen.locator("#ecran")).to_contain_text(
        "Scrutin secret en cours", timeout=LATER
    )
    secretary.reload()
    assert_accessible(secretary)
    screenshot(secretary, "procedure-laptop-secretary")
    secretary.get_by_role("button", name="Clore le vote").click()
    expect(secretary.locator("#direct")).to_contain_text("État du point : Adopté")
    expect(screen.locator("#ecran .result")).to_contain_text(
        "Proposition principale : adoptée", timeout=LATER
    )
    expect(screen.locator("#ecran")).to_contain_text(ADOPTED)
    screenshot(screen, "procedure-projector-adopted")
    screen.reload()  # without JavaScript's help, the same
    expect(screen.locator("#ecran .result")).to_contain_text(
        "Proposition principale : adoptée"
    )
    screenshot(alice, "procedure-phone-adopted")

    # the public register: the adopted text and how it came to be
    public = new_context(browser, site).new_page()
    public.goto(f"/conseils/{BOARD}/registre")
    resolution = public.locator("article.resolution").first
    expect(resolution).to_contain_text(ADOPTED)
    resolution.get_by_text("Comment ce texte a été adopté").click()
    expect(resolution).to_contain_text(MOTION)
    expect(resolution).to_contain_text("Amendement n° 1 — adopté")
    expect(resolution).to_contain_text("Sous-amendement n° 1 — adopté")
    expect(resolution).to_contain_text("tel que sous-amendé : « 11 000 $ »")
    assert_accessible(public)
    screenshot(public, "procedure-register-phone")
