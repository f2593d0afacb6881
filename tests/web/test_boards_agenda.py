"""Building an agenda, attaching documents and taking items, in English, in a
real browser against a running node.

Two members propose items from their phones; the secretary accepts one,
moves it up and refuses the other with a reason the proposer reads; attaches
a PDF (a PNG named ``.pdf`` is refused, and says why); the public downloads
the public item's document but not a closed meeting's; during the sitting the
secretary opens the item, a motion is moved (the form then hides while it is
open), seconded, voted and adopted, and its resolution number appears on a
member's screen without a reload; the item is closed. axe-core runs on each
page, and the seat-history, minutes and refusal pages are photographed at
phone width (``test-output/web``).
"""

# ruff: noqa: F811  (fixtures of the meeting test are imported, then requested)
from __future__ import annotations

import base64
import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from nameko.standalone.rpc import ClusterRpcProxy
from playwright.sync_api import expect

from tests.web.conftest import assert_accessible, new_context, screenshot
from tests.web.test_boards_meeting import (  # noqa: F401  (fixtures)
    LAPTOP,
    MEMBERS,
    PASSWORD,
    accounts,
    board,
    node,
    site,
    smtp,
)

pytestmark = [pytest.mark.e2e]

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def english(browser: Any, site: str) -> Any:
    context = new_context(browser, site)
    context.add_cookies([{"name": "lang", "value": "en", "url": site}])
    return context


def sign_in(page: Any, username: str, then: str) -> None:
    page.goto(f"/connexion?suite={then}")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


@pytest.fixture(scope="module")
def sitting(node: dict[str, Any], board: str, accounts: None) -> dict[str, str]:
    """The three members seated, a public meeting tomorrow with one item and a
    closed one next week with a document (through the service's RPC)."""
    zone = ZoneInfo("America/Montreal")
    tomorrow = (datetime.now(zone) + timedelta(days=1)).replace(hour=18, minute=30)
    with ClusterRpcProxy(node["config"], timeout=30) as rpc:
        for name, member_id, _, seat in MEMBERS.values():
            rpc.boards.appoint(
                board,
                {
                    "seat_id": seat,
                    "member": {"member_id": member_id, "name": name},
                    "start": "2026-01-01",
                },
            )
        rpc.boards.schedule_meeting(
            board,
            {
                "meeting_id": "seance-pub",
                "kind": "public",
                "scheduled_at": tomorrow.isoformat(),
                "place": "Council room",
            },
        )
        rpc.boards.add_agenda_item(
            "seance-pub", {"item_id": "budget", "title": "Budget 2027"}
        )
        rpc.boards.schedule_meeting(
            board,
            {
                "meeting_id": "seance-huis",
                "kind": "closed",
                "scheduled_at": (tomorrow + timedelta(days=7)).isoformat(),
                "place": "Room B",
            },
        )
        rpc.boards.add_agenda_item(
            "seance-huis", {"item_id": "hr", "title": "Staff file"}
        )
        secret = rpc.boards.attach_document(
            "seance-huis",
            {
                "filename": "staff.pdf",
                "data": base64.b64encode(PDF).decode(),
                "item_id": "hr",
            },
        )
    return {
        "public": f"/conseils/{board}/seances/seance-pub",
        "closed_doc": f"/conseils/{board}/seances/seance-huis/documents/"
        f"{secret['document_id']}",
    }


def test_an_agenda_is_built_documented_and_taken_item_by_item_in_english(
    browser: Any, site: str, board: str, sitting: dict[str, str]
) -> None:
    url = sitting["public"]
    phones = {}
    for username in MEMBERS:
        phone = english(browser, site).new_page()
        sign_in(phone, username, url)
        phones[username] = phone
    alice, bruno, chloe = phones["alice"], phones["bruno"], phones["chloe"]

    # two members propose items from their phones
    for phone, title in ((bruno, "Youth centre"), (chloe, "New logo")):
        phone.get_by_text("Propose an item").click()
        phone.locator("#p-title").fill(title)
        phone.get_by_role("button", name="Propose", exact=True).click()
        expect(phone.locator("ol.agenda")).to_contain_text(title)

    # the secretary accepts one, moves it up, refuses the other with a reason
    secretary = english(browser, site).new_page()
    secretary.set_viewport_size(LAPTOP)
    sign_in(secretary, "secretaire", url)
    expect(secretary.locator("ol.agenda")).to_contain_text("Proposal to accept")
    secretary.get_by_role("button", name='Accept "Youth centre"').click()
    secretary.get_by_role("button", name='Move "Youth centre" up').click()
    expect(secretary.locator("ol.agenda > li").first).to_contain_text("Youth centre")
    secretary.get_by_text('Refuse "New logo"').click()
    secretary.get_by_label("Reason for refusing").fill("The logo is the MRC's call.")
    secretary.get_by_role("button", name="Refuse", exact=True).click()
    expect(secretary.locator("#odj")).to_contain_text("Refused proposals")
    assert_accessible(secretary)
    chloe.reload()
    expect(chloe.locator("#odj")).to_contain_text(
        '"New logo" — refused: The logo is the MRC\'s call.'
    )
    expect(chloe.locator("#odj")).to_contain_text("your proposal")
    assert_accessible(chloe)
    screenshot(chloe, "boards-agenda-phone-refused-proposal")

    # a document: a PDF is attached, a PNG named .pdf is refused and says why
    secretary.get_by_label("File (PDF, image").set_input_files(
        {"name": "budget-2027.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    secretary.get_by_label("Attach to").select_option(label="Budget 2027")
    secretary.get_by_role("button", name="Attach", exact=True).click()
    expect(secretary.locator("#documents")).to_contain_text("budget-2027.pdf")
    link = secretary.get_by_role("link", name="budget-2027.pdf").get_attribute("href")
    refusal = english(browser, site).new_page()  # a phone-sized page
    sign_in(refusal, "secretaire", url)
    refusal.get_by_label("File (PDF, image").set_input_files(
        {"name": "plan.pdf", "mimeType": "application/pdf", "buffer": PNG}
    )
    refusal.get_by_role("button", name="Attach", exact=True).click()
    expect(refusal.get_by_role("alert")).to_contain_text(
        'the content is a PNG image, but the name "plan.pdf"'
    )
    assert_accessible(refusal)
    screenshot(refusal, "boards-refusal-phone-document")

    # the public reads the public item's document, not the closed meeting's
    public = requests.get(f"{site}{link}", timeout=10)
    assert public.status_code == 200 and public.content == PDF
    assert public.headers["X-Content-Type-Options"] == "nosniff"
    assert requests.get(f"{site}{sitting['closed_doc']}", timeout=10).status_code == 404
    inside = secretary.request.get(f"{site}{sitting['closed_doc']}")
    assert inside.status == 200 and inside.body() == PDF

    # the sitting: attendance, the item opened, a motion adopted, the item closed
    secretary.get_by_role("button", name="Open the meeting").click()
    for name, *_ in MEMBERS.values():
        secretary.get_by_role("button", name=f"{name} arrives").click()
        expect(secretary.get_by_role("button", name=f"{name} leaves")).to_be_visible()
    secretary.get_by_role("button", name='Open item "Budget 2027"').click()
    expect(secretary.locator("ol.agenda")).to_contain_text("Under discussion")
    alice.reload()
    expect(alice.locator("#m-item")).to_have_value("budget")
    alice.get_by_label("Text of the motion").fill("Adopt the 2027 budget.")
    alice.get_by_role("button", name="Move", exact=True).click()
    expect(alice.locator("main")).to_contain_text("A motion is open")
    expect(alice.get_by_label("Text of the motion")).to_have_count(0)
    bruno.reload()
    bruno.get_by_role("button", name="I second").click()
    for phone in (alice, bruno, chloe):
        phone.reload()
        phone.get_by_role("button", name="For", exact=True).click()
        expect(phone.locator("#direct")).to_contain_text("You voted: For")
    secretary.reload()
    secretary.get_by_role("button", name="Close the vote").click()
    expect(bruno.locator("#direct .result")).to_contain_text(
        "Resolution no. ", timeout=10000
    )
    expect(bruno.locator("#direct .result")).to_contain_text("Adopted")
    screenshot(bruno, "boards-agenda-phone-resolution-number")
    secretary.get_by_role("button", name='Close item "Budget 2027"').click()
    expect(secretary.locator("ol.agenda")).to_contain_text("Closed")
    refusal.goto(url)
    refusal.get_by_role("button", name="Adjourn the meeting").click()

    # the seat-history and minutes pages, at phone width
    alice.goto(f"/conseils/{board}/sieges/citizens-1")
    expect(alice.locator("main")).to_contain_text("Citizens, seat 1")
    expect(alice.locator("main")).to_contain_text("Alice Tremblay")
    assert_accessible(alice)
    screenshot(alice, "boards-seat-history-phone")
    refusal.goto(f"{url}/proces-verbal")
    expect(refusal.get_by_label("Text of the minutes")).to_have_value(
        re.compile("Adopt the 2027 budget")
    )
    assert_accessible(refusal)
    screenshot(refusal, "boards-minutes-phone")
