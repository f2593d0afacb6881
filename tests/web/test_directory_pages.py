"""Practitioners and the node administrator at work in a real browser, on a
running node (headless Chromium, the gateway under gunicorn, the services as
their own processes): a confidential shelter made through the pages never
shows its address to the public; accounts are made, changed and reset through
one-time links, and the audit viewer finds it all. axe-core on every page,
screenshots at phone and laptop widths under ``test-output/web``.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from tests.web.conftest import assert_accessible, new_context, screenshot

pytestmark = [pytest.mark.e2e]

PASSWORD = "un mot de passe assez long"
MRC = "2456"  # Le Haut-Richelieu
SECRET_STREET = "77, rue du Refuge-Secret"


@pytest.fixture(scope="module")
def node_mrc() -> Iterator[None]:
    """The node declares its own MRC (as a node of one MRC does)."""
    saved = os.environ.get("MAILLAGE_MRC_CODE")
    os.environ["MAILLAGE_MRC_CODE"] = MRC
    yield
    if saved is None:
        os.environ.pop("MAILLAGE_MRC_CODE", None)
    else:
        os.environ["MAILLAGE_MRC_CODE"] = saved


@pytest.fixture(scope="module")
def site(node_mrc: None, running_node: dict[str, Any]) -> str:
    from gateway.auth import hash_password
    from gateway.store import GatewayStore
    from shared.mongo import make_client

    config = running_node["config"]
    client = make_client(config["MONGODB_URI"])
    try:
        store = GatewayStore(lambda: client, f"{config['DB_PREFIX']}gateway")
        for username, role in (("camille", "node_admin"), ("lea", "practitioner")):
            store.add_account(
                {
                    "username": username,
                    "password_hash": hash_password(PASSWORD),
                    "role": role,
                    "mrc": MRC,
                    "display_name": username.title(),
                }
            )
    finally:
        client.close()
    return str(running_node["base_url"])


def sign_in(tab: Any, username: str, password: str = PASSWORD) -> None:
    tab.goto("/connexion")
    tab.get_by_label("Nom d'utilisateur").fill(username)
    tab.get_by_label("Mot de passe").fill(password)
    tab.get_by_role("button", name="Se connecter").click()
    expect(tab.get_by_role("button", name="Se déconnecter")).to_be_visible()


def both_widths(tab: Any, name: str) -> None:
    screenshot(tab, f"{name}-phone")
    tab.set_viewport_size({"width": 1280, "height": 900})
    screenshot(tab, f"{name}-laptop")
    tab.set_viewport_size({"width": 390, "height": 844})


@pytest.fixture
def tab(browser: Any, site: str) -> Iterator[Any]:
    context = new_context(browser, site)
    yield context.new_page()
    context.close()


def public_never_shows(site: str, browser: Any, service_id: str, name: str) -> None:
    """The public search, service page and both exports: the name, never the
    address or the coordinates."""
    context = new_context(browser, site)
    try:
        public = context.new_page()
        public.goto("/aide?search=Refuge+Horizon")
        expect(public.get_by_role("link", name=name)).to_be_visible()
        assert SECRET_STREET not in public.content()
        public.goto(f"/aide/services/{service_id}")
        expect(public.locator("h1")).to_have_text(name)
        assert SECRET_STREET not in public.content()
        assert "45.3071" not in public.content()
        assert_accessible(public)
    finally:
        context.close()
    exported = requests.get(f"{site}/annuaire/export.json", timeout=30)
    assert exported.status_code == 200
    assert name in exported.text
    assert SECRET_STREET not in exported.text and "J3B 9Z9" not in exported.text
    assert "45.3071" not in exported.text and "-73.26" not in exported.text
    archive = requests.get(f"{site}/annuaire/export.zip", timeout=30)
    assert archive.status_code == 200 and archive.content[:2] == b"PK"
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(archive.content)) as package:
        text = " ".join(package.read(n).decode() for n in package.namelist())
    assert name in text and SECRET_STREET not in text and "45.3071" not in text


def test_a_practitioner_keeps_a_confidential_shelter_whose_address_never_goes_public(
    tab: Any, site: str, browser: Any
) -> None:
    sign_in(tab, "lea")
    tab.goto("/annuaire/gestion")
    expect(tab.get_by_text("Aucun service pour l'instant.")).to_be_visible()
    assert_accessible(tab)
    tab.get_by_role("link", name="Nouvel organisme").click()
    tab.get_by_label("Nom", exact=True).fill("Maison Horizon")
    tab.get_by_label("Description").fill("Hébergement d'urgence")
    tab.get_by_role("button", name="Créer").click()

    expect(tab.locator("h1")).to_have_text("Nouveau service")
    assert_accessible(tab)
    tab.get_by_label("Nom", exact=True).fill("Refuge Horizon")
    tab.get_by_label("Description").fill("Hébergement pour femmes et enfants")
    tab.get_by_label("français").check()
    tab.get_by_label("À domicile").check()
    tab.get_by_label("Sans référence").check()
    tab.get_by_label("Capacité (places)").fill("abc")
    tab.get_by_role("button", name="Créer").click()
    expect(tab.get_by_role("alert")).to_contain_text("Capacité")  # named, in French
    tab.get_by_label("Capacité (places)").fill("12")
    tab.get_by_role("button", name="Créer").click()
    expect(tab.get_by_role("status").first).to_contain_text("Service créé")
    service_id = tab.url.split("/services/")[1].split("?")[0]

    tab.get_by_role("link", name="Ajouter un lieu").click()
    expect(tab.get_by_text("ne sont montrées qu'aux rôles")).to_contain_text(
        "intervenant·e, administration du nœud de la MRC Le Haut-Richelieu"
    )
    tab.get_by_label("Nom du lieu").fill("Maison Horizon")
    tab.get_by_label("Adresse confidentielle").check()
    tab.get_by_label("Adresse", exact=True).fill(SECRET_STREET)
    tab.get_by_label("Ville").fill("Saint-Jean-sur-Richelieu")
    tab.get_by_label("Code postal").fill("J3B 9Z9")
    tab.get_by_label("Municipalité").fill("Saint-Jean-sur-Richelieu (2456083)")
    tab.get_by_label("Latitude").fill("45,3071")
    tab.get_by_label("Longitude").fill("-73.2626")
    assert_accessible(tab)
    both_widths(tab, "directory-place")
    tab.get_by_role("button", name="Enregistrer le lieu").click()
    expect(tab.get_by_role("status").first).to_contain_text("Lieu ajouté")
    expect(tab.get_by_text("Adresse confidentielle")).to_be_visible()

    tab.locator("summary").click()
    tab.get_by_label("lundi").check()
    tab.get_by_label("mercredi").check()
    tab.get_by_role("button", name="Ajouter l'horaire").click()
    expect(tab.get_by_role("heading", name="Prochaines ouvertures")).to_be_visible()
    expect(
        tab.get_by_text(re.compile(r"Chaque lundi, chaque mercredi, 09:00"))
    ).to_be_visible()

    tab.get_by_role("button", name="Publier le service").click()
    expect(tab.get_by_role("status").first).to_contain_text("Service publié")
    assert_accessible(tab)
    public_never_shows(site, browser, service_id, "Refuge Horizon")

    # corrects the coordinates: still nothing public
    tab.get_by_role("link", name="Maison Horizon").click()
    expect(tab.get_by_label("Latitude")).to_have_value("45.3071")
    tab.get_by_label("Latitude").fill("45.30715")
    tab.get_by_role("button", name="Enregistrer le lieu").click()
    expect(tab.get_by_role("status").first).to_contain_text("Lieu enregistré")
    public_never_shows(site, browser, service_id, "Refuge Horizon")

    # the weekly waiting list: two clicks from the service page
    tab.get_by_label("Liste d'attente ouverte").click()
    tab.get_by_role("button", name="Mettre à jour la liste d'attente").click()
    expect(tab.get_by_role("status").first).to_contain_text(
        "Liste d'attente mise à jour"
    )
    both_widths(tab, "directory-service")
    answer = requests.get(f"{site}/services/{service_id}", timeout=30).json()
    assert answer["waiting_list_open"] is True


def test_a_write_on_another_mrcs_record_is_refused_in_the_persons_language(
    tab: Any, site: str, running_node: dict[str, Any]
) -> None:
    from nameko.standalone.rpc import ClusterRpcProxy

    with ClusterRpcProxy(running_node["config"], timeout=30) as rpc:
        org = rpc.offerings.create_organization(
            {"name": "Ailleurs", "description": "Autre MRC"}
        )
        place = rpc.offerings.create_location(
            {"name": "Loin", "mrc_code": "2423", "organization_id": org["id"]}
        )
        service = rpc.offerings.create_service(
            {
                "organization_id": org["id"],
                "name": "Service d'ailleurs",
                "location_ids": [place["id"]],
            }
        )
    sign_in(tab, "lea")
    tab.goto(f"/annuaire/gestion/services/{service['id']}?lang=en")
    tab.get_by_label("Waiting list open").click()
    tab.get_by_role("button", name="Update the waiting list").click()
    expect(tab.get_by_role("alert")).to_contain_text("belongs to another MRC")
    assert_accessible(tab)


def test_an_import_refused_names_file_row_and_field(tab: Any, site: str) -> None:
    sign_in(tab, "lea")
    tab.goto("/annuaire/gestion")
    tab.get_by_label("Fichier HSDS à importer").set_input_files(
        {
            "name": "lieux.json",
            "mimeType": "application/json",
            "buffer": b'{"location": [{"id": "x", "name": "Sans MRC valide",'
            b' "mrc_code": "9999"}]}',
        }
    )
    tab.get_by_role("button", name="Importer", exact=True).click()
    expect(tab.get_by_role("alert")).to_contain_text("rien n'a été écrit")
    expect(tab.locator("table")).to_contain_text("mrc_code")
    expect(tab.locator("table")).to_contain_text("lieux.json")
    assert_accessible(tab)
    screenshot(tab, "directory-import-refused")


def test_the_administrator_manages_an_account_and_finds_it_in_the_audit(
    tab: Any, site: str, browser: Any
) -> None:
    sign_in(tab, "camille")
    tab.goto("/admin/comptes")
    assert_accessible(tab)
    tab.get_by_role("link", name="Nouveau compte").click()
    tab.get_by_label("Nom d'utilisateur").fill("noah")
    tab.get_by_label("Nom", exact=True).fill("Noah Gagnon")
    tab.get_by_label("Rôle").select_option(label="citoyen·ne")
    tab.get_by_label("MRC").select_option(label="Le Haut-Richelieu")
    assert "node_admin" not in tab.locator("select").first.inner_text()
    assert_accessible(tab)
    tab.get_by_role("button", name="Créer le compte").click()
    expect(tab.get_by_role("status")).to_contain_text("Compte créé")
    first_link = tab.get_by_label("Lien pour choisir un mot de passe").input_value()
    assert "/mot-de-passe/nouveau?jeton=" in first_link

    tab.get_by_label("Rôle").select_option(label="intervenant·e")
    tab.get_by_role("button", name="Enregistrer").click()
    expect(tab.get_by_role("status")).to_contain_text("Compte modifié")
    expect(tab.locator("dl.facts")).to_contain_text("intervenant·e")
    tab.get_by_role("button", name="Lien de réinitialisation du mot de passe").click()
    link = tab.get_by_label("Lien pour choisir un mot de passe").input_value()
    both_widths(tab, "account")
    assert_accessible(tab)

    person = new_context(browser, site)
    try:
        noah = person.new_page()
        noah.goto(link)
        noah.get_by_label("Nouveau mot de passe", exact=True).fill(
            "le nouveau secret de noah"
        )
        noah.get_by_label("Nouveau mot de passe, encore").fill(
            "le nouveau secret de noah"
        )
        assert_accessible(noah)
        noah.get_by_role("button", name="Enregistrer le mot de passe").click()
        expect(noah.get_by_role("status")).to_contain_text("Mot de passe enregistré")
        time.sleep(1.1)  # sessions issued up to the reset's second are revoked
        sign_in(noah, "noah", "le nouveau secret de noah")
        noah.goto(link)  # spent
        noah.get_by_label("Nouveau mot de passe", exact=True).fill(
            "encore un autre secret"
        )
        noah.get_by_label("Nouveau mot de passe, encore").fill("encore un autre secret")
        noah.get_by_role("button", name="Enregistrer le mot de passe").click()
        expect(noah.get_by_role("alert")).to_contain_text("déjà utilisé")
    finally:
        person.close()

    tab.goto("/admin/journal")
    tab.get_by_label("Qui (nom d'utilisateur)").fill("camille")
    tab.get_by_label("Quoi (action)").select_option("accounts.update")
    tab.get_by_role("button", name="Filtrer").click()
    rows = tab.locator("ol.cards > li")
    expect(rows.first).to_contain_text("accounts.update")
    assert rows.count() >= 2  # the role change and the reset link
    body = tab.content()
    assert "jeton=" not in body and "le nouveau secret" not in body
    assert_accessible(tab)
    both_widths(tab, "audit")
    tab.get_by_label("Quoi (action)").select_option("accounts.create")
    tab.get_by_role("button", name="Filtrer").click()
    expect(tab.locator("ol.cards")).to_contain_text("username=noah")
    tab.get_by_label("Qui (nom d'utilisateur)").fill("")
    tab.get_by_label("Quoi (action)").select_option("participation.ballots.cast")
    tab.get_by_role("button", name="Filtrer").click()
    expect(tab.get_by_role("status")).to_contain_text("Aucune écriture ne correspond.")


def test_a_practitioner_edits_withdraws_and_writes_english_text_the_public_reads(
    tab: Any, site: str, browser: Any
) -> None:
    sign_in(tab, "lea")
    tab.goto("/annuaire/gestion/organismes/nouveau")
    tab.get_by_label("Nom", exact=True).fill("Atelier Boussole")
    tab.get_by_label("Description").fill("Ateliers")
    tab.get_by_role("button", name="Créer").click()
    expect(tab.locator("h1")).to_have_text("Nouveau service")
    tab.get_by_label("Nom", exact=True).fill("Cuisine Boussole")
    tab.get_by_label("Description", exact=True).fill("Cuisiner ensemble")
    tab.get_by_label("Nom en anglais (English name)").fill("Boussole kitchen")
    tab.get_by_label("Présentation en anglais (in English)").fill("Cook together")
    tab.get_by_role("button", name="Créer").click()
    expect(tab.get_by_role("status").first).to_contain_text("Service créé")
    service_id = tab.url.split("/services/")[1].split("?")[0]
    tab.get_by_role("link", name="Ajouter un lieu").click()
    tab.get_by_label("Nom du lieu").fill("Local Boussole")
    tab.get_by_label("Adresse", exact=True).fill("12, rue de la Boussole")
    tab.get_by_label("Ville").fill("Saint-Jean-sur-Richelieu")
    tab.get_by_label("Code postal").fill("J3B 1A1")
    tab.get_by_label("Municipalité").fill("Saint-Jean-sur-Richelieu (2456083)")
    tab.get_by_role("button", name="Enregistrer le lieu").click()
    expect(tab.get_by_role("status").first).to_contain_text("Lieu ajouté")
    tab.get_by_role("button", name="Publier le service").click()
    expect(tab.get_by_role("status").first).to_contain_text("Service publié")

    # the place, edited: the same form, pre-filled
    tab.get_by_role("link", name="Local Boussole").click()
    expect(tab.get_by_label("Adresse", exact=True)).to_have_value(
        "12, rue de la Boussole"
    )
    tab.get_by_label("Adresse", exact=True).fill("14, rue de la Boussole")
    tab.get_by_role("button", name="Enregistrer le lieu").click()
    expect(tab.get_by_role("status").first).to_contain_text("Lieu enregistré")
    tab.get_by_role("link", name="Local Boussole").click()
    expect(tab.get_by_label("Adresse", exact=True)).to_have_value(
        "14, rue de la Boussole"
    )
    assert_accessible(tab)
    tab.get_by_role("link", name="Retour au service").click()

    # the service, edited; the English text kept and pre-filled
    expect(tab.get_by_label("Nom en anglais (English name)")).to_have_value(
        "Boussole kitchen"
    )
    tab.get_by_label("Description", exact=True).fill("Cuisiner ensemble, le mardi")
    tab.get_by_role("button", name="Enregistrer", exact=True).click()
    expect(tab.get_by_role("status").first).to_contain_text("Modifications")
    assert_accessible(tab)
    both_widths(tab, "directory-service-edit")

    public = new_context(browser, site).new_page()
    public.goto(f"/aide/services/{service_id}?lang=en")
    expect(public.locator("h1")).to_have_text("Boussole kitchen")
    expect(public.get_by_text("Cook together")).to_be_visible()
    public.goto(f"/aide/services/{service_id}?lang=fr")  # the French, as entered
    expect(public.locator("h1")).to_have_text("Cuisine Boussole")
    public.goto("/aide?search=Boussole&lang=fr")
    expect(public.get_by_role("link", name="Cuisine Boussole")).to_be_visible()

    # withdrawn: the public search no longer finds it
    tab.get_by_label("Raison du retrait").fill("Fin du financement")
    tab.get_by_role("button", name="Retirer ce service").click()
    expect(tab.get_by_role("status").first).to_contain_text("Retiré")
    deadline = time.monotonic() + 20
    while True:
        public.goto("/aide?search=Boussole&lang=fr")
        if public.get_by_role("link", name="Cuisine Boussole").count() == 0:
            break
        assert time.monotonic() < deadline, "the withdrawn service is still found"
        time.sleep(0.5)
    public.context.close()

    # the organization, edited; a refusal in the person's language
    tab.goto("/annuaire/gestion")
    tab.get_by_role("link", name="Atelier Boussole", exact=True).click()
    expect(tab.get_by_label("Nom", exact=True)).to_have_value("Atelier Boussole")
    tab.goto(tab.url.split("?")[0] + "?lang=en")
    tab.get_by_label("E-mail").fill("not an address")
    tab.get_by_role("button", name="Save the organization").click()
    expect(tab.get_by_role("alert")).to_contain_text("The form has errors")
    expect(tab.get_by_role("alert")).to_contain_text("E-mail")
    assert "Courriel" not in tab.get_by_role("alert").inner_text()
    tab.get_by_label("E-mail").fill("")
    tab.get_by_label("Description").fill("Ateliers de cuisine")
    tab.get_by_role("button", name="Save the organization").click()
    expect(tab.get_by_role("status").first).to_contain_text("Changes saved")
    assert_accessible(tab)
    tab.get_by_role("button", name="Withdraw this organization").click()
    expect(tab.get_by_role("status").first).to_contain_text("Withdrawn")


def test_withdrawing_another_mrcs_service_is_refused_in_the_persons_language(
    tab: Any, site: str, running_node: dict[str, Any]
) -> None:
    from nameko.standalone.rpc import ClusterRpcProxy

    with ClusterRpcProxy(running_node["config"], timeout=30) as rpc:
        org = rpc.offerings.create_organization(
            {"name": "Plus loin", "description": "Autre MRC"}
        )
        place = rpc.offerings.create_location(
            {"name": "Très loin", "mrc_code": "2423", "organization_id": org["id"]}
        )
        service = rpc.offerings.create_service(
            {
                "organization_id": org["id"],
                "name": "Service de plus loin",
                "location_ids": [place["id"]],
            }
        )
        rpc.offerings.publish_service(service["id"])
    sign_in(tab, "lea")
    tab.goto(f"/annuaire/gestion/services/{service['id']}?lang=en")
    tab.get_by_role("button", name="Withdraw this service").click()
    expect(tab.get_by_role("alert")).to_contain_text("belongs to another MRC")
    with ClusterRpcProxy(running_node["config"], timeout=30) as rpc:
        kept = rpc.offerings.get_service(service["id"], "confidential")
    assert kept["publication_status"] == "published"  # nothing was withdrawn
