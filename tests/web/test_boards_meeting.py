"""A whole board meeting in a real browser, against a running node.

The secretary (laptop) appoints three members through the pages, schedules a
public meeting and a closed one, builds the agenda, publishes the notice,
opens the meeting and records attendance; three members sign in on three
phone-sized browser contexts. One declares a conflict of interest on the item
(recused, shown to all); the motion is moved and seconded; when the citizen
seat leaves, the quorum rule (at least one citizen present) refuses the vote,
says why on every member's screen, and a vote attempt is refused with the
reason; the citizen comes back, the members vote from their phones, the
secretary closes the vote and "Adopted" appears on a member's screen without a
reload. The public register shows the resolution; the board's iCalendar feed
(public meetings) and a member's private feed (the closed one too) parse as
RFC 5545 with ``icalendar``; a real SMTP server (``aiosmtpd``, its own process)
received the notices. axe-core runs on each page; screenshots at phone and
laptop widths go to ``test-output/web``.
"""

from __future__ import annotations

import html
import mailbox
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from icalendar import Calendar
from nameko.standalone.rpc import ClusterRpcProxy
from playwright.sync_api import expect

from tests.web.conftest import (
    assert_accessible,
    free_port,
    new_context,
    screenshot,
)

pytestmark = [pytest.mark.e2e]

MRC = "2456"
BOARD = "conseil-haut-richelieu"
PASSWORD = "un mot de passe assez long"
LAPTOP = {"width": 1280, "height": 900}
MEMBERS = {
    # username: (display name, member id, role, seat)
    "alice": ("Alice Tremblay", "alice", "citizen_representative", "citizens-1"),
    "bruno": ("Bruno Gagnon", "bruno", "board_member", "community_organisations-1"),
    "chloe": ("Chloé Roy", "chloe", "board_member", "community_organisations-2"),
}


@pytest.fixture(scope="module")
def smtp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A real SMTP server (aiosmtpd) in its own process, delivering to a Maildir."""
    box = tmp_path_factory.mktemp("mail") / "Maildir"
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"127.0.0.1:{port}",
            "-c",
            "aiosmtpd.handlers.Mailbox",
            str(box),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    import socket

    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            time.sleep(0.2)
    try:
        yield {"port": port, "box": box}
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(scope="module")
def node(smtp: dict[str, Any], request: pytest.FixtureRequest) -> Iterator[dict]:
    """The running node, its gateway told where the SMTP server is and which
    MRC boards created outside it belong to."""
    saved = {k: os.environ.get(k) for k in ("SMTP_HOST", "SMTP_PORT", "SMTP_FROM")}
    saved["MAILLAGE_MRC_CODE"] = os.environ.get("MAILLAGE_MRC_CODE")
    os.environ.update(
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(smtp["port"]),
        SMTP_FROM="secretariat@mrc.example",
        MAILLAGE_MRC_CODE=MRC,
    )
    try:
        yield request.getfixturevalue("running_node")
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="module")
def site(node: dict[str, Any]) -> str:
    return str(node["base_url"])


@pytest.fixture(scope="module")
def board(node: dict[str, Any]) -> str:
    """The board's charter, created as the node's tools do (RPC): two citizen
    seats and two community seats; quorum a majority of filled seats with at
    least one citizen present."""
    with ClusterRpcProxy(node["config"], timeout=30) as rpc:
        rpc.boards.create_board(
            {
                "board_id": BOARD,
                "name": "Conseil local du Haut-Richelieu",
                "seat_groups": [
                    {"constituency": "citizens", "seats": 2},
                    {"constituency": "community_organisations", "seats": 2},
                ],
                "quorum": {"min_present": {"citizens": 1}},
            }
        )
    return BOARD


@pytest.fixture(scope="module")
def accounts(node: dict[str, Any]) -> None:
    from gateway.auth import hash_password
    from gateway.store import GatewayStore
    from shared.mongo import make_client

    config = node["config"]
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
        for username, (name, member_id, role, _) in MEMBERS.items():
            store.add_account(
                {
                    "username": username,
                    "password_hash": hash_password(PASSWORD),
                    "role": role,
                    "mrc": MRC,
                    "display_name": name,
                    "member_id": member_id,
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


def messages(box: Path) -> list[Any]:
    if not box.exists():
        return []
    return list(mailbox.Maildir(str(box), create=False))


def wait_for_mail(box: Path, subject_start: str, timeout: float = 15) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in messages(box):
            if str(message["Subject"]).startswith(subject_start):
                return message
        time.sleep(0.2)
    subjects = [m["Subject"] for m in messages(box)]
    pytest.fail(f"no mail '{subject_start}…' received; got {subjects}")


def test_a_whole_board_meeting_runs_in_the_browser(
    browser: Any,
    site: str,
    board: str,
    accounts: None,
    smtp: dict[str, Any],
) -> None:
    laptop = new_context(browser, site)
    secretary = laptop.new_page()
    secretary.set_viewport_size(LAPTOP)
    sign_in(secretary, "secretaire", f"/conseils/{board}/secretariat")
    expect(secretary.get_by_role("heading", name="Sièges et mandats")).to_be_visible()
    expect(
        secretary.get_by_text("Citoyennes et citoyens, siège 1").first
    ).to_be_visible()

    # the secretary appoints three members through the page
    for name, member_id, _, seat in MEMBERS.values():
        secretary.get_by_label("Siège", exact=True).first.select_option(seat)
        secretary.get_by_label("Nom de la personne").fill(name)
        secretary.get_by_label("Courriel (pour les avis)").fill(
            f"{member_id}@example.org"
        )
        secretary.get_by_label("Code de membre").fill(member_id)
        secretary.get_by_role("button", name="Nommer", exact=True).click()
        expect(secretary.locator(".notice.ok")).to_contain_text("C'est enregistré")
        expect(secretary.get_by_role("cell", name=name)).to_be_visible()
    assert_accessible(secretary)
    screenshot(secretary, "boards-secretariat-laptop")

    # a refused write says why: appointing to an occupied seat
    secretary.get_by_label("Siège", exact=True).first.select_option("citizens-1")
    secretary.get_by_label("Nom de la personne").fill("Personne de trop")
    secretary.get_by_role("button", name="Nommer", exact=True).click()
    expect(secretary.get_by_role("alert")).to_contain_text("Alice Tremblay")
    secretary.go_back()

    # schedule a public meeting tomorrow evening and a closed one next week
    zone = ZoneInfo("America/Montreal")
    tomorrow = (datetime.now(zone) + timedelta(days=1)).replace(hour=18, minute=30)
    later = tomorrow + timedelta(days=7)
    secretary.goto(f"/conseils/{board}/secretariat")
    secretary.get_by_label("À huis clos").check()
    secretary.get_by_label("Date et heure").fill(later.strftime("%Y-%m-%dT%H:%M"))
    secretary.get_by_label("Lieu ou lien de visioconférence").fill(
        "https://visio.example/rh"
    )
    secretary.get_by_role("button", name="Convoquer", exact=True).click()
    expect(secretary.locator(".notice.ok")).to_contain_text("Avis envoyé à 3 membre(s)")
    secretary.goto(f"/conseils/{board}/secretariat")
    secretary.get_by_label("Publique").check()
    secretary.get_by_label("Date et heure").fill(tomorrow.strftime("%Y-%m-%dT%H:%M"))
    secretary.get_by_label("Lieu ou lien de visioconférence").fill(
        "Salle du conseil, 109 rue Saint-Jacques"
    )
    secretary.get_by_role("button", name="Convoquer", exact=True).click()
    expect(secretary.locator(".notice.ok")).to_contain_text("Avis envoyé à 3 membre(s)")
    meeting_url = secretary.url.split("?")[0]
    wait_for_mail(smtp["box"], "Convocation : Conseil local du Haut-Richelieu")

    # agenda, notice, opening, attendance
    secretary.get_by_label("Titre du point").fill("Plan d'action 2027")
    secretary.get_by_role("button", name="Ajouter un point").click()
    expect(secretary.locator("ol.agenda")).to_contain_text("Plan d'action 2027")
    secretary.get_by_role("button", name="Publier l'avis de convocation").click()
    expect(secretary.locator(".notice.ok")).to_contain_text("Avis envoyé à 3 membre(s)")
    agenda_mail = wait_for_mail(smtp["box"], "Ordre du jour : Conseil local")
    assert "Plan d'action 2027" in agenda_mail.get_payload(decode=True).decode()
    secretary.get_by_role("button", name="Ouvrir la séance").click()
    for name, *_ in MEMBERS.values():
        secretary.get_by_role("button", name=f"Arrivée de {name}").click()
        expect(
            secretary.get_by_role("button", name=f"Départ de {name}")
        ).to_be_visible()
    expect(secretary.locator("#direct")).to_contain_text("Quorum atteint : 3")
    assert_accessible(secretary)

    # three members on three phones
    phones = {}
    for username in MEMBERS:
        context = new_context(browser, site)
        phone = context.new_page()
        sign_in(phone, username, meeting_url.replace(site, ""))
        expect(phone.get_by_role("heading", name="En direct")).to_be_visible()
        phones[username] = phone
    alice, bruno, chloe = phones["alice"], phones["bruno"], phones["chloe"]

    # Chloé declares a conflict of interest on the item and is recused
    chloe.get_by_text("Déclarer un conflit d'intérêts").click()
    chloe.get_by_label("Motif (facultatif)").fill("Mon organisme est candidat.")
    chloe.get_by_role("button", name="Déclarer et me retirer").click()
    expect(chloe.locator("#conflits")).to_contain_text(
        "Chloé Roy se retire du point « Plan d'action 2027 »"
    )

    # Alice moves, Bruno seconds (his screen shows the motion without a reload)
    alice.get_by_label("Texte de la proposition").fill(
        "Adopter le plan d'action 2027 tel que présenté."
    )
    alice.get_by_role("button", name="Proposer", exact=True).click()
    expect(alice.locator("#direct")).to_contain_text("en attente d'appui")
    expect(bruno.get_by_role("button", name="J'appuie")).to_be_visible(timeout=10000)
    bruno.get_by_role("button", name="J'appuie").click()
    expect(bruno.locator("#direct")).to_contain_text("appuyée par Bruno Gagnon")
    expect(chloe.locator("#direct")).to_contain_text(
        "Vous vous êtes retiré·e de ce point.", timeout=10000
    )
    assert_accessible(bruno)
    screenshot(bruno, "boards-meeting-phone-motion")

    # the citizen seat leaves: the vote cannot be held, and says why
    secretary.reload()
    secretary.get_by_role("button", name="Départ de Alice Tremblay").click()
    expect(bruno.locator("#direct")).to_contain_text(
        "Le vote ne peut pas avoir lieu", timeout=10000
    )
    expect(bruno.locator("#direct")).to_contain_text(
        "Il manque 1 membre(s) du collège Citoyennes et citoyens"
    )
    screenshot(bruno, "boards-meeting-phone-no-quorum")
    bruno.get_by_role("button", name="Pour", exact=True).click()
    expect(bruno.get_by_role("alert")).to_contain_text("quorum non atteint")
    assert_accessible(bruno)
    bruno.goto(meeting_url)

    # she comes back; the two members who may vote vote from their phones
    secretary.get_by_role("button", name="Arrivée de Alice Tremblay").click()
    expect(alice.locator("#direct")).to_contain_text("Quorum atteint", timeout=10000)
    alice.get_by_role("button", name="Pour", exact=True).click()
    expect(alice.locator("#direct")).to_contain_text("Vous avez voté : Pour")
    bruno.reload()  # without JavaScript's help too
    bruno.get_by_role("button", name="Pour", exact=True).click()
    expect(bruno.locator("#direct")).to_contain_text("Vous avez voté : Pour")

    # the secretary closes the vote; Chloé's screen shows it without a reload
    secretary.reload()
    expect(secretary.locator("#direct")).to_contain_text("Pour 2, contre 0")
    secretary.get_by_role("button", name="Clore le vote").click()
    expect(secretary.locator("#direct")).to_contain_text("Adoptée")
    expect(chloe.locator("#direct .result")).to_contain_text("Adoptée", timeout=10000)
    screenshot(chloe, "boards-meeting-phone-adopted")
    screenshot(secretary, "boards-meeting-laptop")

    # the public register shows the resolution
    public = new_context(browser, site).new_page()
    public.goto(f"/conseils/{board}/registre")
    expect(public.locator("main")).to_contain_text("Plan d'action 2027")
    expect(public.locator("main")).to_contain_text(
        "Adopter le plan d'action 2027 tel que présenté."
    )
    assert_accessible(public)
    screenshot(public, "boards-register-phone")

    # the member's page: seat, next meetings, private calendar
    chloe.goto(f"/conseils/{board}/moi")
    expect(chloe.locator("main")).to_contain_text("Organismes communautaires, siège 2")
    assert_accessible(chloe)
    screenshot(chloe, "boards-member-phone")
    private_feed = chloe.get_by_role(
        "link", name="Mon calendrier personnel"
    ).get_attribute("href")

    # iCalendar: the public feed has the public meeting only, the member's both
    public_cal = Calendar.from_ical(
        requests.get(f"{site}/conseils/{board}/calendrier.ics", timeout=10).content
    )
    mine = requests.get(f"{site}{private_feed}", timeout=10)
    assert mine.headers["Content-Type"].startswith("text/calendar")
    private_cal = Calendar.from_ical(mine.content)
    public_events = public_cal.walk("VEVENT")
    private_events = private_cal.walk("VEVENT")
    assert [str(e["LOCATION"]) for e in public_events] == [
        "Salle du conseil, 109 rue Saint-Jacques"
    ]
    assert {str(e["CLASS"]) for e in private_events} == {"PUBLIC", "CONFIDENTIAL"}
    for event in [*public_events, *private_events]:
        assert event["UID"] and event["DTSTAMP"] and event["DTSTART"]
    assert public_events[0].decoded("DTSTART").astimezone(zone).hour == 18
    forged = requests.get(f"{site}/conseils/{board}/membres/chloe/0000.ics", timeout=10)
    assert forged.status_code == 404

    # minutes drafted from the record
    secretary.get_by_role("button", name="Lever la séance").click()
    secretary.get_by_role("link", name="Procès-verbal").click()
    draft = secretary.get_by_label("Texte du procès-verbal")
    expect(draft).to_have_value(re.compile("Chloé Roy se retire du point"))
    expect(draft).to_have_value(re.compile(r"Adoptée \(2/0/0\)"))
    secretary.get_by_role("button", name="Enregistrer le projet").click()
    expect(secretary.locator("#pv")).to_contain_text("Projet (non adopté)")

    subjects = [str(m["Subject"]) for m in messages(smtp["box"])]
    assert sum(s.startswith("Convocation") for s in subjects) == 2
    assert sum(s.startswith("Ordre du jour") for s in subjects) == 1
    # aiosmtpd records the envelope's recipients: every seated member, in Bcc
    delivered = {a.strip() for a in str(agenda_mail["X-RcptTo"]).split(",")}
    assert delivered == {f"{m}@example.org" for m in MEMBERS}
    assert "Bcc" not in agenda_mail


# --- the same checks as the API, through the pages ----------------------------------


def signed_in(site: str, username: str) -> tuple[requests.Session, str]:
    """A browser-like session signed in through /connexion, and its CSRF token
    as the pages carry it."""
    session = requests.Session()
    form = session.get(f"{site}/connexion", timeout=10).text
    token = re.search(r'name="csrf" value="([^"]+)"', form)
    assert token, form
    answer = session.post(
        f"{site}/connexion",
        data={"username": username, "password": PASSWORD, "csrf": token.group(1)},
        headers={"Accept": "text/html"},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 303, answer.text
    page = session.get(f"{site}/conseils/{BOARD}/secretariat", timeout=10).text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    return session, csrf.group(1) if csrf else ""


def _meetings(site: str, session: requests.Session) -> int:
    page = session.get(f"{site}/conseils/{BOARD}/secretariat", timeout=10).text
    return page.count("/seances/seance-")


MEETING = {"kind": "public", "when": "2027-03-02T18:30", "place": "Salle B"}


def test_a_page_write_without_the_sessions_csrf_token_is_refused_and_records_nothing(
    site: str, board: str, accounts: None
) -> None:
    session, csrf = signed_in(site, "secretaire")
    before = _meetings(site, session)
    forged = session.post(
        f"{site}/conseils/{board}/seances",
        data=MEETING,
        headers={"Accept": "text/html"},
        allow_redirects=False,
        timeout=10,
    )
    assert forged.status_code == 403
    assert "anti-falsification (CSRF)" in forged.text
    assert _meetings(site, session) == before
    made = session.post(
        f"{site}/conseils/{board}/seances",
        data={**MEETING, "csrf": csrf},
        headers={"Accept": "text/html"},
        allow_redirects=False,
        timeout=10,
    )
    assert made.status_code == 303
    assert _meetings(site, session) == before + 1


def audit_rows(filters: dict[str, Any]) -> list[dict[str, Any]]:
    from gateway.store import GatewayStore
    from shared.mongo import make_client

    config = _node_config
    client = make_client(config["MONGODB_URI"])
    try:
        store = GatewayStore(lambda: client, f"{config['DB_PREFIX']}gateway")
        return store.audit_entries(filters, 0, 50)[0]
    finally:
        client.close()


_node_config: dict[str, Any] = {}


def test_a_member_cannot_schedule_and_is_told_why_in_their_language(
    site: str, board: str, accounts: None
) -> None:
    session, _ = signed_in(site, "bruno")
    page = session.get(f"{site}/conseils/{board}/moi", timeout=10).text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    for lang, said in (
        ("fr", "ne permet pas l'action boards.meetings.manage"),
        ("en", "does not allow the action boards.meetings.manage"),
    ):
        refused = session.post(
            f"{site}/conseils/{board}/seances?lang={lang}",
            data={**MEETING, "csrf": csrf},
            headers={"Accept": "text/html", "Accept-Language": lang},
            allow_redirects=False,
            timeout=10,
        )
        assert refused.status_code == 403
        assert said in html.unescape(refused.text)


def test_an_invalid_form_is_refused_naming_the_field_and_audited_as_refused(
    site: str, board: str, accounts: None, node: dict[str, Any]
) -> None:
    _node_config.update(node["config"])
    session, csrf = signed_in(site, "secretaire")
    refused = session.post(
        f"{site}/conseils/{board}/seances?lang=en",
        data={"kind": "weekly", "when": "not a date", "place": "", "csrf": csrf},
        headers={"Accept": "text/html"},
        allow_redirects=False,
        timeout=10,
    )
    assert refused.status_code == 422
    for field in ("kind", "scheduled_at", "place"):
        assert f"<li>{field} :" in refused.text
    # the audit has the attempt as refused, with the form it carried (no token)
    rows = audit_rows({"path": f"/conseils/{board}/seances", "request.kind": "weekly"})
    assert [(r["outcome"], r["status"]) for r in rows] == [("refused", 422)]
    assert rows[0]["request"]["when"] == "not a date"
    assert "csrf" not in rows[0]["request"]


def test_the_secretariat_speaks_english_and_hides_the_board_from_the_public(
    site: str, board: str, accounts: None
) -> None:
    session, _ = signed_in(site, "secretaire")
    english = session.get(f"{site}/conseils/{board}/secretariat?lang=en", timeout=10)
    assert "Seats and terms" in english.text and "Citizens, seat 1" in english.text
    anonymous = requests.get(
        f"{site}/conseils/{board}/secretariat",
        headers={"Accept": "text/html"},
        timeout=10,
    )
    assert anonymous.status_code == 401
    assert "@example.org" not in anonymous.text
