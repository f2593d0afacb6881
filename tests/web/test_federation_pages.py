"""The regional coordinator at work in a real browser on a running node whose
federation service holds an agreement receiving from an MRC: the federation
page shows the peer, its agreement, the link and what was received and refused
(with why); the roll-up page shows what the MRC sent, a suppressed cell said
suppressed, and publishes the regional roll-up, listed afterwards with its time.
A board member reads the agreements; a practitioner is refused, in French.

Signed messages are put on the node's federation inbox, standing in for the
RabbitMQ federation link that carries them between brokers.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kombu import Connection, Producer
from playwright.sync_api import expect

from services.federation.topology import INBOX
from shared.envelope import Envelope
from tests.conftest import AMQP_HOST, MGMT
from tests.federation.helpers import (
    adopt_all,
    agreement,
    config_dict,
    identity,
    signed_for,
)
from tests.web.conftest import assert_accessible, new_context, screenshot
from tests.web.test_dashboard_downloads import load_geo
from tests.web.test_entry import sign_in

pytestmark = [pytest.mark.e2e]

PASSWORD = "un mot de passe assez long"
ME = "mrc-66023"  # the running node's NODE_ID
PEER = "mrc-2437"
APPROVED = "indicators.values_approved"
TYPES = [
    {
        "type": APPROVED,
        "fields": ["indicator", "period", "mrc_code", "org_unit", "cells"],
        "cell_fields": ["org_unit"],
        "count_fields": ["count"],
    }
]


@pytest.fixture(scope="module")
def peer(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return identity(tmp_path_factory.mktemp("peer"), PEER)


@pytest.fixture(scope="module")
def node_config(
    web_vhost: str, peer: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path]:
    """The node's YAML: one agreement receiving approved values from the MRC."""
    folder = tmp_path_factory.mktemp("fed")
    me = identity(folder, ME)
    data = config_dict(
        me,
        [(peer, None)],
        [agreement(PEER, "in", types=TYPES, threshold=5)],
        amqp_uri=f"amqp://guest:guest@{AMQP_HOST}/{web_vhost}",
        management_url=f"http://guest:guest@{MGMT.split('://', 1)[1]}",
        vhost=web_vhost,
    )
    path = folder / "node.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    saved = os.environ.get("NODE_CONFIG")
    os.environ["NODE_CONFIG"] = str(path)
    yield path
    if saved is None:
        os.environ.pop("NODE_CONFIG", None)
    else:
        os.environ["NODE_CONFIG"] = saved


@pytest.fixture(scope="module")
def site(node_config: Path, running_node: dict[str, Any], peer: Any) -> str:
    from gateway.auth import hash_password
    from gateway.store import GatewayStore
    from shared.mongo import make_client

    config = running_node["config"]
    load_geo(config)
    client = make_client(config["MONGODB_URI"])
    # the node's board adopted its agreement (what boards.resolution_adopted leaves)
    adopt_all(
        client[f"{config['DB_PREFIX']}federation"],
        yaml.safe_load(node_config.read_text()),
    )
    try:
        store = GatewayStore(lambda: client, f"{config['DB_PREFIX']}gateway")
        for username, role in (
            ("coord", "regional_coordinator"),
            ("membre", "board_member"),
            ("lea", "practitioner"),
        ):
            store.add_account(
                {
                    "username": username,
                    "password_hash": hash_password(PASSWORD),
                    "role": role,
                    "mrc": "2437",
                    "display_name": username.title(),
                }
            )
    finally:
        client.close()
    sent = Envelope(
        APPROVED,
        {
            "indicator": "home_interventions",
            "period": "2026Q1",
            "mrc_code": "2437",
            "org_unit": "cd:2437",
            "cells": [
                {"org_unit": "csd:2437067", "count": 41, "suppressed": False},
                {"org_unit": "csd:2437220", "count": None, "suppressed": True},
                {"org_unit": "csd:2437210", "count": None, "suppressed": True},
                {"org_unit": "cd:2437", "count": 52, "suppressed": False},
            ],
        },
        PEER,
    )
    good = copy.deepcopy(signed_for(peer, sent.to_dict(), ME))
    forged = signed_for(
        peer, Envelope(APPROVED, copy.deepcopy(sent.payload), PEER).to_dict(), ME
    )
    forged["payload"]["cells"][0]["count"] = 900  # changed on the way
    with Connection(
        config["AMQP_URI"], transport_options={"confirm_publish": True}
    ) as c:
        producer = Producer(c.channel())
        for message in (good, forged):
            producer.publish(
                json.dumps(message), routing_key=INBOX, content_type="application/json"
            )
    return str(running_node["base_url"])


@pytest.fixture
def tab(browser: Any, site: str) -> Iterator[Any]:
    context = new_context(browser, site)
    yield context.new_page()
    context.close()


def test_a_coordinator_reads_the_federation_page_and_publishes_a_roll_up(
    tab: Any,
) -> None:
    sign_in(tab, "coord")
    tab.goto("/federation")
    expect(tab.locator("h1")).to_have_text("Fédération")
    # the messages reach the page once the services have handled them
    for _ in range(60):
        text = tab.locator("main").inner_text()
        if "signature invalide" in text and "Valeurs d'indicateurs approuvées" in text:
            break
        tab.wait_for_timeout(500)
        tab.reload()
    main = tab.locator("main")
    expect(main).to_contain_text("Francheville (mrc-2437)")
    expect(main).to_contain_text("reçoit de ce pair")
    agreements = tab.locator("section[aria-labelledby=agreements-h]")
    expect(agreements).to_contain_text("Seuil de suppression")
    expect(agreements).to_contain_text("du 2026-01-01 au 2027-12-31")
    expect(agreements).to_contain_text("en vigueur")
    received = tab.locator("section[aria-labelledby=received-h] tbody")
    expect(received).to_contain_text("Valeurs d'indicateurs approuvées")
    refused = tab.locator("section[aria-labelledby=refused-h]")
    expect(refused).to_contain_text("signature invalide")
    assert_accessible(tab)
    screenshot(tab, "federation-phone")
    tab.set_viewport_size({"width": 1280, "height": 900})
    screenshot(tab, "federation-laptop")
    tab.set_viewport_size({"width": 390, "height": 844})

    link = tab.get_by_role("link", name="Cumuls régionaux")
    link.focus()
    tab.keyboard.press("Enter")
    expect(tab.locator("h1")).to_have_text("Cumuls régionaux")
    for _ in range(40):  # the indicators service keeps what it received
        if tab.locator("article.panel").count():
            break
        tab.wait_for_timeout(500)
        tab.reload()
    sent = tab.locator("section[aria-labelledby=sent-h] article").first
    expect(sent).to_contain_text("Francheville")
    expect(sent).to_contain_text("Trois-Rivières")
    cells = sent.locator("td.suppressed")
    assert cells.count() == 2
    assert cells.all_inner_texts() == ["supprimé", "supprimé"]  # never a number
    assert "csd:" not in sent.inner_text() and "cd:" not in sent.inner_text()
    assert_accessible(tab)
    for _ in range(20):  # the indicators service may not have applied it yet
        tab.get_by_role("button", name="Publier le cumul").click()
        tab.locator("h1").wait_for()
        if tab.get_by_role("status").count():
            break
        expect(tab.get_by_role("alert")).to_contain_text("Rien à cumuler")
        tab.wait_for_timeout(500)
    expect(tab.get_by_role("status")).to_contain_text("Cumul publié")
    published = tab.locator("section[aria-labelledby=published-h] article")
    expect(published.first).to_contain_text("Mauricie")
    expect(published.first).to_contain_text("UTC")
    expect(published.first).to_contain_text("Interventions à domicile")
    assert_accessible(tab)
    screenshot(tab, "federation-rollups-phone")


def test_a_board_member_reads_the_agreements_and_a_practitioner_is_refused(
    tab: Any, browser: Any, site: str
) -> None:
    sign_in(tab, "membre")
    tab.goto("/federation/ententes")
    expect(tab.locator("h1")).to_have_text("Ententes de partage")
    expect(tab.locator("main")).to_contain_text("Francheville (mrc-2437)")
    expect(tab.locator("main")).to_contain_text("Valeurs d'indicateurs approuvées")
    assert_accessible(tab)
    answer = tab.goto("/federation")
    assert answer.status == 403
    expect(tab.locator("main")).to_contain_text("ne permet pas")
