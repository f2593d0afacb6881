"""A whole consultation in a real browser against a running node (the services
as their own processes, the gateway under gunicorn, the real store and broker).

The board secretary signs in and creates the consultation through its form,
loads the registry (a CSV upload, with a refused row reported), prints one-time
codes; a citizen off the registry redeems one; citizens submit, edit, withdraw,
comment, reply and support; the secretary hides a proposal and a comment with a
public reason that their author reads; three citizens vote; the secretary closes
and publishes; the ranked priorities reach the board's next agenda through the
real ``participation.results_published`` event. Each page is checked by
axe-core and saved under ``test-output/web`` at phone width (and laptop width
for the secretary's pages).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from nameko.standalone.rpc import ClusterRpcProxy
from playwright.sync_api import expect

from tests.web.conftest import assert_accessible, new_context, screenshot

pytestmark = [pytest.mark.e2e]

MRC = "2456"
PASSWORD = "un mot de passe assez long"
QUEBEC = ZoneInfo("America/Toronto")
PROPOSALS_LAST = 150.0  # seconds for everything up to the supports
VOTE_LASTS = 45.0
BOARD = "table-consult"
LAPTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def rpc(running_node: dict[str, Any]) -> Iterator[Any]:
    with ClusterRpcProxy(running_node["config"], timeout=30) as proxy:
        yield proxy


@pytest.fixture(scope="module")
def site(running_node: dict[str, Any]) -> str:
    return str(running_node["base_url"])


@pytest.fixture(scope="module")
def accounts(running_node: dict[str, Any]) -> dict[str, str]:
    """The secretary and four citizens of the MRC: user name -> account id."""
    from gateway.auth import hash_password
    from gateway.store import GatewayStore
    from shared.mongo import make_client

    config = running_node["config"]
    client = make_client(config["MONGODB_URI"])
    made = {}
    try:
        store = GatewayStore(lambda: client, f"{config['DB_PREFIX']}gateway")
        for name, role in (
            ("secretaire", "board_secretary"),
            ("ana", "citizen"),
            ("bruno", "citizen"),
            ("chloe", "citizen"),
        ):
            account = store.add_account(
                {
                    "username": name,
                    "password_hash": hash_password(PASSWORD),
                    "role": role,
                    "mrc": MRC,
                    "display_name": name.capitalize(),
                }
            )
            made[name] = str(account["_id"])
    finally:
        client.close()
    return made


@pytest.fixture(scope="module")
def board(rpc: Any) -> str:
    """The MRC's board with a public meeting scheduled in two weeks."""
    rpc.boards.create_board(
        {
            "board_id": BOARD,
            "name": "Table de gouvernance partagée",
            "seat_groups": [{"constituency": "citizens", "seats": 2}],
        }
    )
    rpc.boards.schedule_meeting(
        BOARD,
        {
            "meeting_id": "m-consult",
            "kind": "public",
            "scheduled_at": (datetime.now(QUEBEC) + timedelta(days=14)).isoformat(),
            "place": "Salle du conseil",
        },
    )
    return BOARD


def sign_in(browser: Any, site: str, name: str, **options: Any) -> tuple[Any, Any]:
    context = new_context(browser, site, **options)
    page = context.new_page()
    page.goto("/connexion?suite=/participer")
    page.get_by_label("Nom d'utilisateur").fill(name)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").last.click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    return context, page


def check(page: Any, name: str) -> None:
    assert_accessible(page)
    screenshot(page, name)


def local(moment: datetime) -> str:
    return moment.astimezone(QUEBEC).strftime("%Y-%m-%dT%H:%M:%S")


def test_a_whole_consultation_runs_in_the_browser_and_reaches_the_board(
    browser: Any, site: str, rpc: Any, accounts: dict[str, str], board: str
) -> None:
    start = datetime.now(QUEBEC)
    edges = [
        start - timedelta(hours=1),
        start + timedelta(seconds=PROPOSALS_LAST),
        start + timedelta(seconds=PROPOSALS_LAST + 2),
        start + timedelta(seconds=PROPOSALS_LAST + 2 + VOTE_LASTS),
        start + timedelta(days=30),
    ]
    secretary, desk = sign_in(browser, site, "secretaire")
    desk.set_viewport_size(LAPTOP)

    # --- the secretary creates the consultation --------------------------------
    desk.goto("/participer/gestion")
    expect(desk.get_by_text("Aucune consultation pour l'instant.")).to_be_visible()
    desk.get_by_role("link", name="Créer une consultation").click()
    expect(desk.get_by_role("heading", level=1)).to_contain_text("Le Haut-Richelieu")
    check(desk, "consult-new-laptop")
    desk.get_by_label("Titre").fill("Priorités sociales 2027")
    desk.get_by_label("Méthode de vote").select_option(label="Approbation")
    desk.get_by_label("Nombre de priorités retenues (sièges)").fill("2")
    desk.get_by_label("Appuis requis pour aller au bulletin").fill("1")
    desk.get_by_label("Personnes admissibles au vote").fill("40")
    for i, phase in enumerate(
        ("Dépôt des propositions", "Délibération", "Vote", "Résultats")
    ):
        desk.get_by_label(f"Début — {phase}").fill(local(edges[i]))
        desk.get_by_label(f"Fin — {phase}").fill(local(edges[i + 1]))
    desk.get_by_role("button", name="Créer la consultation").click()
    expect(desk.get_by_text("La consultation est créée.")).to_be_visible()
    manage_url = desk.url.split("?")[0]
    process_id = re.search(r"/participer/([^/]+)/gestion", manage_url).group(1)

    # --- the registry, with one row refused --------------------------------------
    registry = (
        "person,municipality_code\n"
        "ana,2456083\n"
        "bruno,2456083\n"
        ",2456083\n"
        "quelquun,2466023\n"
    )
    desk.get_by_label("Fichier CSV").set_input_files(
        files=[
            {
                "name": "registre.csv",
                "mimeType": "text/csv",
                "buffer": registry.encode(),
            }
        ]
    )
    desk.get_by_role("button", name="Charger le registre").click()
    report = desk.locator("#rapport")
    expect(report).to_contain_text("2 ligne(s) lue(s), 2 personne(s) ajoutée(s).")
    expect(report.get_by_role("row")).to_have_count(3)
    expect(report).to_contain_text("valeur attendue")
    expect(report).to_contain_text("municipalité hors de la MRC 2456")
    check(desk, "consult-registry-report-laptop")

    # --- one-time codes, printed -------------------------------------------------
    desk.goto(manage_url)
    desk.get_by_label("Nombre de codes").fill("2")
    desk.get_by_role("button", name="Générer et imprimer").click()
    slips = desk.locator("ol.slips li")
    expect(slips).to_have_count(2)
    codes = [c.strip() for c in desk.locator("ol.slips .code").all_inner_texts()]
    check(desk, "consult-codes-laptop")
    desk.emulate_media(media="print")
    assert not desk.locator("header.site").is_visible()
    desk.emulate_media(media="screen")

    # --- a citizen off the registry redeems a code --------------------------------
    c_ctx, chloe = sign_in(browser, site, "chloe")
    chloe.goto(f"/participer/{process_id}")
    chloe.get_by_role("link", name="J'ai un code de participation").click()
    chloe.get_by_label("Code").fill("MAUVAISCODE")
    chloe.get_by_role("button", name="Valider mon code").click()
    expect(chloe.get_by_role("alert")).to_contain_text("Code inconnu ou déjà utilisé.")
    chloe.get_by_label("Code").fill(codes[0].lower())
    chloe.keyboard.press("Enter")
    expect(chloe.get_by_text("Code accepté")).to_be_visible()
    check(chloe, "consult-redeem-phone")

    # --- proposals: submitted, edited, withdrawn ----------------------------------
    a_ctx, ana = sign_in(browser, site, "ana")
    b_ctx, bruno = sign_in(browser, site, "bruno")

    def submit(page: Any, title: str) -> None:
        page.goto(f"/participer/{process_id}")
        page.get_by_label("Titre").fill(title)
        page.get_by_role("button", name="Déposer", exact=True).click()
        expect(page.get_by_text("Votre proposition est déposée.")).to_be_visible()

    submit(ana, "Halte-garderie")
    submit(ana, "Idée en double")
    submit(bruno, "Transport collectif")
    submit(chloe, "Achetez mes produits")

    ana.get_by_role("link", name="Halte-garderie", exact=True).click()
    ana.get_by_text("Modifier ma proposition", exact=True).last.click()
    ana.get_by_label("Titre").fill("Halte-garderie communautaire")
    ana.get_by_role("button", name="Enregistrer les changements").click()
    expect(ana.get_by_text("Votre proposition est modifiée.")).to_be_visible()
    expect(ana.get_by_role("heading", level=1)).to_have_text(
        "Halte-garderie communautaire"
    )
    check(ana, "consult-proposal-mine-phone")
    ana.goto(f"/participer/{process_id}")
    ana.get_by_role("link", name="Idée en double", exact=True).click()
    ana.get_by_role("button", name="Retirer ma proposition").click()
    expect(ana.get_by_text("Votre proposition est retirée.")).to_be_visible()
    # someone else cannot edit it: no form, and the API handler refuses by name
    bruno.goto(ana.url.split("?")[0])
    expect(bruno.get_by_role("button", name="Retirer ma proposition")).to_have_count(0)

    # --- comments and replies -----------------------------------------------------
    bruno.goto(f"/participer/{process_id}")
    bruno.get_by_role("link", name="Halte-garderie communautaire", exact=True).click()
    expect(bruno.get_by_text("Aucun commentaire pour l'instant.")).to_be_visible()
    bruno.get_by_label("Commentaire", exact=True).fill("Et les horaires du soir ?")
    bruno.get_by_role("button", name="Publier").click()
    expect(bruno.get_by_text("Votre commentaire est publié.")).to_be_visible()
    proposal_url = bruno.url.split("?")[0]
    ana.goto(proposal_url)
    ana.get_by_text("Répondre", exact=True).click()
    ana.get_by_label("Votre réponse").fill("Oui, jusqu'à 21 h.")
    ana.get_by_role("button", name="Publier").first.click()
    expect(ana.locator(".replies")).to_contain_text("Oui, jusqu'à 21 h.")
    chloe.goto(proposal_url)
    chloe.get_by_label("Commentaire", exact=True).fill("Vous êtes tous nuls")
    chloe.get_by_role("button", name="Publier").last.click()
    expect(chloe.get_by_text("Votre commentaire est publié.")).to_be_visible()
    check(ana, "consult-comments-phone")

    # --- moderation ------------------------------------------------------------------
    desk.goto(manage_url)
    desk.get_by_label("Motif public (Achetez mes produits)").fill("Publicité")
    desk.get_by_role("button", name="Masquer : Achetez mes produits").click()
    expect(desk.get_by_text("Masqué. Le motif est public.")).to_be_visible()
    desk.get_by_label(re.compile(r"Motif public \(Vous êtes")).fill("Propos injurieux")
    desk.get_by_role("button", name=re.compile("Masquer : Vous êtes")).click()
    expect(desk.get_by_text("Masqué. Le motif est public.")).to_be_visible()
    check(desk, "consult-moderation-laptop")
    chloe.goto(f"/participer/{process_id}")
    expect(chloe.get_by_text("Motif : Publicité")).to_be_visible()
    chloe.goto(proposal_url)
    expect(chloe.get_by_text("Motif : Propos injurieux")).to_be_visible()
    expect(chloe.get_by_text("Vous êtes tous nuls")).to_be_visible()  # the author
    bruno.goto(proposal_url)
    expect(bruno.get_by_text("Motif : Propos injurieux")).to_be_visible()
    expect(bruno.get_by_text("Vous êtes tous nuls")).to_have_count(0)
    check(chloe, "consult-hidden-comment-phone")

    # --- supports --------------------------------------------------------------------
    bruno.goto(f"/participer/{process_id}")
    bruno.get_by_role("button", name="Appuyer : Halte-garderie communautaire").click()
    expect(bruno.get_by_text("Votre appui est enregistré.")).to_be_visible()
    ana.goto(f"/participer/{process_id}")
    ana.get_by_role("button", name="Appuyer : Transport collectif").click()
    expect(ana.get_by_text("Votre appui est enregistré.")).to_be_visible()
    check(ana, "consult-process-phone")
    used = (datetime.now(QUEBEC) - start).total_seconds()
    assert used < PROPOSALS_LAST, f"the proposals phase took {used:.0f}s"

    # --- the vote --------------------------------------------------------------------
    time.sleep(max(0.0, (edges[2] - datetime.now(QUEBEC)).total_seconds() + 1))
    for page, picks in (
        (ana, ["Halte-garderie communautaire"]),
        (bruno, ["Halte-garderie communautaire", "Transport collectif"]),
        (chloe, ["Transport collectif", "Halte-garderie communautaire"]),
    ):
        page.goto(f"/participer/{process_id}/vote")
        for title in picks:
            page.get_by_label(title).check()
        page.get_by_role("button", name="Voter").click()
        expect(page.locator("main")).to_contain_text(re.compile("[0-9a-f]{64}"))

    # --- the close, the results, the board's agenda ------------------------------------
    desk.goto(manage_url)
    expect(desk.get_by_text("la clôture sera possible ensuite")).to_be_visible()
    time.sleep(max(0.0, (edges[3] - datetime.now(QUEBEC)).total_seconds() + 1))
    desk.goto(manage_url)
    desk.get_by_role("button", name="Clore le vote et publier les résultats").click()
    expect(desk.locator("main")).to_contain_text("Halte-garderie communautaire")
    check(desk, "consult-results-laptop")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        agenda = rpc.boards.get_meeting("m-consult")
        titles = [i.get("title") for i in agenda.get("agenda", agenda.get("items", []))]
        if any("Halte-garderie" in str(t) for t in titles):
            break
        time.sleep(0.5)
    desk.goto(f"/conseils/{board}")
    expect(desk.locator("ol.agenda")).to_contain_text("Halte-garderie communautaire")
    expect(desk.locator("ol.agenda")).to_contain_text("Transport collectif")
    expect(desk.locator("ol.agenda")).not_to_contain_text("Idée en double")
    for context in (secretary, a_ctx, b_ctx, c_ctx):
        context.close()
