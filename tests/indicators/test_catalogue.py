"""The local catalogue on the real store: seeded from the starter data, edited
through versions a board adopts by resolution (or the node administrator
defines), each refusal naming its field in French and English."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pymongo import MongoClient

from services.boards import events as boards_events
from services.boards.domain import AgendaItem, Choice
from services.indicators import events
from services.indicators.catalogue import seed_documents, starter
from services.indicators.geo import quebec_units
from services.indicators.repository import IndicatorsRepository
from shared import errors
from shared.envelope import Envelope
from tests.boards.factories import full_board, open_meeting
from tests.indicators.test_service import enter, make_service

pytestmark = pytest.mark.integration

TEXTS = {
    "name": {"fr": "Part au bureau (%)", "en": "Share in the office (%)"},
    "definition": {
        "fr": "Interventions au bureau sur l'ensemble des interventions.",
        "en": "Interventions in the office over all interventions.",
    },
    "use": {
        "fr": "Voir le travail revenir entre les murs.",
        "en": "See work return inside the walls.",
    },
}
ALL = (
    "#{home_interventions} + #{community_interventions} + "
    "#{outreach_interventions} + #{office_interventions}"
)


def office_share(**changes):
    content = {"numerator": "#{office_interventions}", "denominator": ALL}
    content |= {"factor": 100} | TEXTS | changes
    return {"kind": "indicator", "id": "office_share", "content": content}


@pytest.fixture(scope="module")
def mauricie(data_dir):
    """Quebec, its regions, and Francheville with its municipalities."""
    return [
        u
        for u in quebec_units(data_dir / "quebec_geo")
        if u.level <= 2 or u.id == "cd:2437" or u.id.startswith("csd:2437")
    ]


@pytest.fixture
def service(store_uri, db_prefix, mauricie):
    client, svc = make_service(store_uri, f"{db_prefix}indicators", mauricie)
    yield svc
    client.drop_database(f"{db_prefix}indicators")
    client.close()


def adopted(reference, closed=False, number="2026-004"):
    payload = {
        "board_id": "mrc-2437",
        "resolution_id": f"res-{number}",
        "number": number,
        "meeting_id": "m-1",
        "adopted_on": "2026-04-14",
        "closed_session": closed,
        "process_id": None,
        "definition": reference,
    }
    return Envelope(
        events.RESOLUTION_ADOPTED,
        payload,
        "node-2437",
        occurred_at=datetime(2026, 4, 14, 20, tzinfo=UTC),
    )


def current(svc, kind, id_):
    body = svc.catalogue({"proposed": True})
    key = {"data_element": "data_elements", "indicator": "indicators"}[kind]
    return next((d for d in body[key] if d["id"] == id_), None)


def test_the_starter_catalogue_is_data_seeded_once_with_uses_in_both_languages(
    service, store_uri, db_prefix
):
    body = service.catalogue()
    ids = {d["id"] for d in body["data_elements"]}
    assert "office_interventions" in ids
    assert all(d["use"]["fr"] and d["use"]["en"] for d in body["indicators"])
    assert {r["id"] for r in body["validation_rules"]} >= {"turnout_within_eligible"}
    # a second worker (another process start) seeds nothing more
    client = MongoClient(store_uri, tz_aware=True)
    repo = IndicatorsRepository(client[f"{db_prefix}indicators"])
    before = len(repo.definitions())
    assert before == len(starter().definitions)
    assert repo.seed_definitions(seed_documents()) == 0
    assert len(repo.definitions()) == before
    client.close()


def test_the_shares_count_office_interventions_in_version_2_and_old_results_keep_1(
    service,
):
    for element, value in (
        ("home_interventions", 40),
        ("community_interventions", 20),
        ("outreach_interventions", 20),
        ("office_interventions", 120),
    ):
        enter(service, "cd:2437", value, element=element)
    share = current(service, "indicator", "outreach_share")
    assert share["version"] == 2 and "#{office_interventions}" in share["denominator"]
    query = {"indicator": "outreach_share", "org_unit": "2437", "period": "2026"}
    now = service.evaluate(query)
    assert (now["value"], now["version"]) == (10.0, 2)  # 20 of 200
    before = service.evaluate(query | {"version": 1})
    assert (before["value"], before["version"]) == (25.0, 1)  # 20 of 80
    history = service.definition_history("indicator", "outreach_share")
    assert [h["version"] for h in history] == [1, 2]
    assert "office" in history[1]["note"]["en"]


def test_the_node_administrator_defines_an_indicator_evaluated_through_published_cells(
    service,
):
    made = service.define(office_share() | {"by": "admin-1"})
    assert (made["version"], made["status"]) == (1, "adopted")
    assert made["adopted"] == {"by": "node_admin", "account": "admin-1"}
    enter(service, "csd:2437067", 41, element="office_interventions")
    enter(service, "csd:2437220", 3, element="office_interventions")  # small
    enter(service, "csd:2437067", 30, element="home_interventions")
    enter(service, "csd:2437220", 9, element="home_interventions")
    query = {"indicator": "office_share", "org_unit": "csd:2437220", "period": "2026"}
    public = service.evaluate(query)
    assert public["value"] is None and public["suppressed"] is True
    adhoc = service.evaluate(
        {
            "numerator": "#{office_interventions}",
            "denominator": ALL,
            "factor": 100,
            "org_unit": "csd:2437220",
            "period": "2026",
        }
    )
    assert adhoc["value"] is None  # the same published table answers both
    private = service.evaluate(query | {"public": False})
    assert private["value"] == 25.0 and private["version"] == 1
    board = service.dashboard({"org_unit": "2437", "lang": "fr"})
    assert "office_share" in [p["indicator_id"] for p in board["indicators"]]


def test_a_formula_reading_an_unknown_element_is_refused_naming_the_field(service):
    with pytest.raises(errors.Invalid) as info:
        service.define(office_share(numerator="#{bureau} + 1"))
    (message,) = info.value.fields["content.numerator"]
    assert "élément de données inconnu « bureau »" in message
    assert 'unknown data element "bureau"' in message
    with pytest.raises(errors.Invalid) as info:
        service.define(office_share(use={"fr": "Voir."}))
    assert "content.use.en" in info.value.fields
    with pytest.raises(errors.Invalid) as info:
        service.define(office_share(numerator="#{office_interventions} +"))
    assert "content.numerator" in info.value.fields


def test_an_element_still_read_by_an_active_indicator_cannot_be_retired(service):
    retire = {
        "kind": "data_element",
        "id": "office_interventions",
        "content": {"retired": True},
    }
    with pytest.raises(errors.Invalid) as info:
        service.define(retire)
    (message,) = info.value.fields["content.retired"]
    assert "collective_share" in message and "outreach_share" in message
    assert "still used by" in message and "sert encore" in message


def test_a_count_stays_a_count_in_later_versions(service):
    element = current(service, "data_element", "home_interventions")
    content = {
        k: element[k]
        for k in ("value_type", "aggregation", "name", "definition", "use")
    }
    with pytest.raises(errors.Invalid) as info:
        service.define(
            {
                "kind": "data_element",
                "id": "home_interventions",
                "content": content | {"is_count": False},
            }
        )
    assert "content.is_count" in info.value.fields


def test_a_retired_element_takes_no_new_value_and_old_values_keep_their_version(
    service,
):
    texts = TEXTS | {"name": {"fr": "Appels", "en": "Calls"}}
    made = service.define(
        {
            "kind": "data_element",
            "id": "calls",
            "content": {"value_type": "integer", "aggregation": "sum"} | texts,
        }
    )
    assert made["is_count"] is True  # whole numbers are counts unless said not
    entered = enter(service, "csd:2437067", 12, element="calls")
    assert entered["element_version"] == 1
    service.define(
        {"kind": "data_element", "id": "calls", "content": {"retired": True}}
    )
    assert current(service, "data_element", "calls")["status"] == "retired"
    with pytest.raises(errors.Invalid) as info:
        enter(service, "csd:2437067", 13, element="calls")
    assert "retiré" in info.value.fields["data_element"][0]
    stored = service.store.db.data_values.find_one({"data_element": "calls"})
    assert (stored["value"], stored["element_version"]) == (12.0, 1)


def test_a_proposal_becomes_current_only_by_the_resolution_that_carries_it(service):
    proposed = service.propose_definition(office_share() | {"by": "secretary-1"})
    assert proposed["status"] == "proposed"
    assert current(service, "indicator", "office_share") is None
    with pytest.raises(errors.NotFound):
        service.evaluate(
            {"indicator": "office_share", "org_unit": "2437", "period": "2026"}
        )
    reference = proposed["reference"]
    # a closed session cannot adopt a public definition
    service.on_resolution_adopted([adopted(reference, closed=True)])
    assert current(service, "indicator", "office_share") is None
    service.on_resolution_adopted([adopted(reference)])
    now = current(service, "indicator", "office_share")
    assert now["version"] == 1 and now["adopted"]["number"] == "2026-004"
    assert now["adopted"]["by"] == "resolution"


def test_a_resolution_carrying_other_content_than_proposed_activates_nothing(service):
    proposed = service.propose_definition(office_share())
    forged = dict(proposed["reference"])
    forged["content"] = dict(forged["content"]) | {"factor": 1000}
    service.on_resolution_adopted([adopted(forged)])
    assert current(service, "indicator", "office_share") is None
    doc = service.store.db.definitions.find_one({"_id": "indicator|office_share|1"})
    assert doc["status"] == "refused"
    assert "digest" in doc["refused"]["reason"]


def test_a_proposal_whose_element_was_retired_meanwhile_is_refused_at_adoption(
    service,
):
    texts = TEXTS | {"name": {"fr": "Appels", "en": "Calls"}}
    service.define(
        {
            "kind": "data_element",
            "id": "calls",
            "content": {"value_type": "integer"} | texts,
        }
    )
    proposed = service.propose_definition(
        {
            "kind": "indicator",
            "id": "calls_total",
            "content": {"numerator": "#{calls}"} | texts,
        }
    )
    service.define(
        {"kind": "data_element", "id": "calls", "content": {"retired": True}}
    )
    service.on_resolution_adopted([adopted(proposed["reference"])])
    assert current(service, "indicator", "calls_total") is None
    doc = service.store.db.definitions.find_one({"_id": "indicator|calls_total|1"})
    assert doc["status"] == "refused" and "retired" in doc["refused"]["reason"]


def test_the_boards_resolution_carries_its_items_definition_to_the_catalogue(
    service,
):
    """The boards' own domain and event contract, end to end: the item the
    secretary placed with the proposal's reference is moved, voted, adopted,
    and the ``boards.resolution_adopted`` payload makes the version current."""
    proposed = service.propose_definition(office_share() | {"by": "secretary-1"})
    board = full_board()
    meeting = open_meeting(board, ["alice", "bruno", "chloe", "denis", "emma"])
    meeting.add_item(
        AgendaItem("i1", "Part au bureau", definition=proposed["reference"])
    )
    motion = meeting.move(board, "i1", "Adopter l'indicateur", "alice", "bruno")
    for member in ("alice", "bruno", "chloe"):
        meeting.cast_vote(board, motion.motion_id, member, Choice.FOR)
    _, resolution = meeting.close_vote(board, motion.motion_id)
    payload = boards_events.resolution_adopted(resolution)
    assert boards_events.PAYLOADS[events.RESOLUTION_ADOPTED]().validate(payload) == {}
    envelope = Envelope(events.RESOLUTION_ADOPTED, payload, "node-2437")
    service.on_resolution_adopted([envelope])
    now = current(service, "indicator", "office_share")
    assert now["adopted"]["number"] == resolution.number


def test_a_counts_aggregation_cannot_change_so_two_published_tables_never_differ(
    service,
):
    """Attack: published as a sum, a count's March may be hidden as a partner
    (of a small February) while Q1 and January show; read again once a new
    version makes it a stock (``last``), March is a lone cell of another table
    and may show, and Q1 - January - March gives February away."""
    element = current(service, "data_element", "home_interventions")
    content = {
        k: element[k] for k in ("value_type", "is_count", "name", "definition", "use")
    }
    with pytest.raises(errors.Invalid) as info:
        service.define(
            {
                "kind": "data_element",
                "id": "home_interventions",
                "content": content | {"aggregation": "last"},
            }
        )
    (message,) = info.value.fields["content.aggregation"]
    assert "sum" in message and "agrégation" in message and "aggregation" in message
