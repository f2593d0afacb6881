"""The indicators service with nameko's worker_factory on the real store."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from nameko.testing.services import worker_factory
from pymongo import MongoClient

from services.indicators import events
from services.indicators.geo import quebec_units
from services.indicators.repository import IndicatorsRepository
from services.indicators.service import IndicatorsService
from services.indicators.suppression import Table, exposed
from shared import errors
from shared.consumer import Retry
from shared.envelope import Envelope
from shared.outbox import OutboxHandle
from shared.store import StoreHandle

pytestmark = pytest.mark.integration


class RecordingOutbox(OutboxHandle):
    """The real port, recording instead of writing (the store is real)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict]] = []

    def add(self, event_type, payload, *, session):  # type: ignore[override]
        self.events.append((event_type, payload))


@pytest.fixture(scope="module")
def geo_units(data_dir):
    return quebec_units(data_dir / "quebec_geo")


def make_service(store_uri, db_name, units):
    client = MongoClient(store_uri, tz_aware=True)
    db = client[db_name]
    IndicatorsRepository(db).save_org_units(units)
    svc = worker_factory(
        IndicatorsService,
        store=StoreHandle(client, db),
        outbox=RecordingOutbox(),
        config={"SUPPRESSION_THRESHOLD": 5, "NODE_ORG_UNIT": "2437"},
    )
    return client, svc


@pytest.fixture(scope="module")
def mauricie(geo_units):
    """Quebec, its regions, and Francheville with its municipalities."""
    return [
        u
        for u in geo_units
        if u.level <= 2 or u.id == "cd:2437" or u.id.startswith("csd:2437")
    ]


@pytest.fixture
def service(store_uri, db_prefix, mauricie):
    client, svc = make_service(store_uri, f"{db_prefix}indicators", mauricie)
    yield svc
    client.drop_database(f"{db_prefix}indicators")
    client.close()


def enter(svc, unit, value, period="202603", element="home_interventions"):
    return svc.enter_value(
        {"data_element": element, "org_unit": unit, "period": period, "value": value}
    )


def test_entered_values_are_validated_and_roll_up_to_the_mrc(service):
    enter(service, "csd:2437067", 41)
    enter(service, "csd:2437220", "12")
    result = service.evaluate(
        {"indicator": "waiting_people", "org_unit": "2437", "period": "2026Q1"}
    )
    assert result["value"] is None
    total = service.evaluate(
        {"numerator": "#{home_interventions}", "org_unit": "cd:2437", "period": "2026"}
    )
    assert total["value"] == 53
    with pytest.raises(errors.Invalid) as info:
        enter(service, "csd:2437067", "douze")
    assert "value" in info.value.fields
    with pytest.raises(errors.Invalid) as info:
        service.enter_value(
            {
                "data_element": "home_interventions",
                "period": "2026Q5",
                "org_unit": "csd:2437067",
                "value": 1,
            }
        )
    assert "period" in info.value.fields


def test_approval_locks_values_sends_suppressed_cells_and_unapproval_needs_a_reason(
    service,
):
    enter(service, "csd:2437067", 41)
    enter(service, "csd:2437220", 3)  # Champlain: a small cell
    enter(service, "csd:2437210", 9)
    service.approve({"org_unit": "2437", "period": "2026Q1", "by": "coord"})
    with pytest.raises(errors.Conflict):
        enter(service, "csd:2437220", 4)
    approved = [p for t, p in service.outbox.events if t == events.VALUES_APPROVED]
    assert [p["indicator"] for p in approved] == ["home_interventions"]
    cells = {c["org_unit"]: c["count"] for c in approved[0]["cells"]}
    assert cells["csd:2437220"] is None
    hidden = [k for k, v in cells.items() if v is None]
    assert len(hidden) >= 2, "the total would give the small cell away"
    truth = {"csd:2437067": 41, "csd:2437220": 3, "csd:2437210": 9}
    truth |= {k: 0 for k in cells if k not in truth and k != "cd:2437"}
    truth["cd:2437"] = 53
    table = Table(truth, [("cd:2437", tuple(k for k in truth if k != "cd:2437"))])
    assert exposed(table, cells, {"csd:2437220"}) == []
    with pytest.raises(errors.Invalid) as info:
        service.unapprove({"org_unit": "2437", "period": "2026Q1", "reason": " "})
    assert "reason" in info.value.fields
    service.unapprove({"org_unit": "2437", "period": "2026Q1", "reason": "erreur"})
    assert enter(service, "csd:2437220", 4)["value"] == 4
    # the year would give a quarter's suppressed cell away by subtraction
    with pytest.raises(errors.Conflict):
        service.approve({"org_unit": "2437", "period": "2026", "by": "coord"})
    service.approve({"org_unit": "2437", "period": "2026Q2", "by": "coord"})


def test_public_rates_on_small_counts_are_suppressed(service):
    enter(service, "csd:2437067", 4)
    enter(service, "csd:2437067", 15000, element="population", period="2026")
    query = {
        "indicator": "home_interventions_per_10k",
        "org_unit": "csd:2437067",
        "period": "2026",
    }
    assert service.evaluate(query | {"public": False})["value"] == 2.67
    public = service.evaluate(query)
    assert (public["value"], public["suppressed"]) == (None, True)


def waiting(service_id, length, days, at, event_id=None):
    payload = {
        "service_id": service_id,
        "organization_id": "o1",
        "mrc_codes": ["2437"],
        "municipality_codes": ["2437067"],
        "waiting_list_open": True,
        "waiting_list_length": length,
        "typical_wait_days": days,
        "capacity": 10,
        "updated_at": at,
    }
    kwargs = {"event_id": event_id} if event_id else {}
    return Envelope(events.WAITING_LIST_CHANGED, payload, "node-2437", **kwargs)


def computed_values(service):
    return {
        (d["data_element"], d["org_unit"], d["period"]): d["value"]
        for d in IndicatorsRepository(service.store.db).values()
        if d["source"] == "computed"
    }


def test_the_same_events_delivered_twice_give_identical_values(service):
    batch = [
        waiting("s1", 12, 30, "2026-03-02T10:00:00Z"),
        waiting("s2", 7, 10, "2026-03-05T10:00:00Z"),
        waiting("s1", 9, 30, "2026-03-20T10:00:00Z"),
        Envelope(
            events.RESULTS_PUBLISHED,
            {
                "process_id": "p1",
                "mrc_code": "2437",
                "method": "irv",
                "priorities": [],
                "ballots": 412,
                "eligible_count": 2000,
            },
            "node-2437",
            occurred_at=datetime(2026, 3, 9, tzinfo=UTC),
        ),
        Envelope(
            events.DECISION_STATUS_CHANGED,
            {
                "board_id": "b",
                "resolution_id": "r1",
                "number": "2026-01",
                "previous_status": "planned",
                "status": "done",
                "progress": 100,
                "due": "2026-03-31",
                "on": "2026-03-15",
            },
            "node-2437",
        ),
    ]
    service.on_waiting_list_changed(batch[:3])
    service.on_results_published(batch[3:4])
    service.on_decision_status_changed(batch[4:])
    first = computed_values(service)
    assert first[("waiting_people", "csd:2437067", "202603")] == 16
    assert first[("waiting_days", "csd:2437067", "202603")] == 9 * 30 + 7 * 10
    assert first[("participation_ballots", "cd:2437", "202603")] == 412
    assert first[("decisions_done_on_time", "cd:2437", "202603")] == 1
    rate = service.evaluate(
        {"indicator": "participation_rate", "org_unit": "2437", "period": "2026Q1"}
    )
    assert rate["value"] == 20.6
    # the broker redelivers everything, in another order
    assert service.on_decision_status_changed(batch[4:]) == 0
    assert service.on_waiting_list_changed(list(reversed(batch[:3]))) == 0
    assert service.on_results_published(batch[3:4]) == 0
    assert computed_values(service) == first


def test_replaying_all_events_into_a_fresh_node_in_another_order_gives_the_same_values(
    service, store_uri, db_prefix, mauricie
):
    ats = ["2026-03-02T10:00:00Z", "2026-03-20T10:00:00Z", "2026-04-01T10:00:00Z"]
    history = [waiting("s1", n, 5, at) for n, at in zip([12, 9, 20], ats, strict=True)]
    history.append(waiting("s2", 3, 40, "2026-03-25T08:00:00Z"))
    for envelope in history:
        service.on_waiting_list_changed([envelope])
    first = computed_values(service)
    assert first[("waiting_people", "csd:2437067", "202603")] == 12
    assert first[("waiting_people", "csd:2437067", "202604")] == 23
    client, replica = make_service(store_uri, f"{db_prefix}replay_indicators", mauricie)
    try:
        assert replica.on_waiting_list_changed(list(reversed(history))) == 4
        assert computed_values(replica) == first
    finally:
        client.drop_database(f"{db_prefix}replay_indicators")
        client.close()


def test_dashboard_lists_every_catalogue_indicator_with_its_definition(service):
    enter(service, "csd:2437067", 41)
    board = service.dashboard({"org_unit": "2437", "lang": "en"})
    assert board["org_unit"]["name"] == "Francheville"
    ids = [p["indicator_id"] for p in board["indicators"]]
    assert "decisions_on_time_rate" in ids and len(ids) == len(set(ids))
    assert all(p["definition"] for p in board["indicators"])
    units = {p["indicator_id"]: p["unit"] for p in board["indicators"]}
    assert units["home_interventions_per_10k"] == "per 10,000"


def offering(event_type, service_id, no_referral, month):
    payload = {
        "service_id": service_id,
        "organization_id": "o1",
        "mrc_codes": ["2437"],
        "municipality_codes": [],
        "name": "Halte-répit",
        "no_referral_required": no_referral,
        "outreach_modes": [],
    }
    return Envelope(
        event_type,
        payload,
        "node-2437",
        occurred_at=datetime(2026, month, 3, tzinfo=UTC),
    )


def test_services_without_referral_are_counted_month_by_month_and_carried_forward(
    service,
):
    enter(service, "cd:2437", 150000, element="population", period="2026")
    enter(service, "cd:2437", 7, element="waiting_people", period="202602")
    service.on_service_published_or_withdrawn(
        [
            offering(events.SERVICE_PUBLISHED, "s1", True, 2),
            offering(events.SERVICE_PUBLISHED, "s2", True, 2),
            offering(events.SERVICE_PUBLISHED, "s3", False, 2),
            offering(events.SERVICE_WITHDRAWN, "s2", True, 5),
        ]
    )
    values = computed_values(service)
    assert values[("services_without_referral", "cd:2437", "202602")] == 2
    assert values[("services_without_referral", "cd:2437", "202605")] == 1
    query = {
        "numerator": "#{services_without_referral}",
        "org_unit": "region:04",
        "public": False,
    }
    # the last known value carries into a quarter with no change (DHIS2 LAST)
    assert service.evaluate(query | {"period": "2026Q1"})["value"] == 2
    assert service.evaluate(query | {"period": "2026Q3"})["value"] == 1
    # the waiting list entered by hand for February survived its recompute
    assert (
        service.evaluate(
            query | {"numerator": "#{waiting_people}", "period": "202602"}
        )["value"]
        == 7
    )


def test_events_wait_for_the_org_unit_tree_instead_of_failing(store_uri, db_prefix):
    client, bare = make_service(store_uri, f"{db_prefix}bare_indicators", [])
    try:
        with pytest.raises(Retry):
            bare.on_waiting_list_changed([waiting("s1", 3, 5, "2026-03-02T10:00:00Z")])
        assert bare.store.db.processed_events.count_documents({}) == 0
    finally:
        client.drop_database(f"{db_prefix}bare_indicators")
        client.close()


def test_dashboard_refuses_an_unknown_language_and_an_unknown_place(service):
    with pytest.raises(errors.Invalid) as info:
        service.dashboard({"org_unit": "2437", "lang": "de"})
    assert "lang" in info.value.fields
    with pytest.raises(errors.NotFound):
        service.dashboard({"org_unit": "2499"})  # not loaded in this node's tree


def received(mrc, total, at, event_type=events.VALUES_APPROVED):
    cells = [{"org_unit": f"cd:{mrc}", "count": total, "suppressed": total is None}]
    inner = {
        "event_id": f"ev-{mrc}-{at}",
        "event_type": event_type,
        "origin_node": f"mrc-{mrc}",
        "occurred_at": at,
        "payload": {
            "indicator": "home_interventions",
            "period": "2026Q1",
            "mrc_code": mrc,
            "org_unit": f"cd:{mrc}",
            "threshold": 5,
            "cells": cells,
        },
    }
    return Envelope(
        "federation.event_received",
        {"peer": f"mrc-{mrc}", "agreement_id": "a", "event": inner},
        "region-11",
    )


def test_the_coordinator_rolls_up_what_mrcs_approved_and_suppresses_again(
    store_uri, db_prefix, geo_units
):
    name = f"{db_prefix}region_indicators"
    client, region = make_service(store_uri, name, geo_units)
    region.config["SUPPRESSION_THRESHOLD"] = 10
    try:
        batch = [
            received("2402", 31, "2026-04-02T10:00:00+00:00"),
            received("2403", None, "2026-04-02T11:00:00+00:00"),  # suppressed upstream
            received("2404", 8, "2026-04-02T12:00:00+00:00"),
        ]
        assert region.on_event_received(batch) == 3
        assert region.on_event_received(batch) == 0  # redelivered: no effect
        rollup = region.publish_rollup(
            {"indicator": "home_interventions", "period": "2026Q1"}
        )
        cells = {c["org_unit"]: c for c in rollup["cells"]}
        assert cells["cd:2402"]["count"] == 31
        assert cells["cd:2404"]["suppressed"]  # 8 is small for the coordinator
        assert cells["region:11"]["suppressed"]  # a part is unknown
        assert cells["region:11"]["mrcs"] == 3
        assert cells["region:11"]["mrcs_in_region"] == 6
        assert region.outbox.events[-1] == (events.ROLLUP_PUBLISHED, rollup)
        # 2403 approves again after a correction: the newer one replaces it
        region.on_event_received([received("2403", 52, "2026-04-09T10:00:00+00:00")])
        again = region.publish_rollup(
            {"indicator": "home_interventions", "period": "2026Q1"}
        )
        cells = {c["org_unit"]: c["count"] for c in again["cells"]}
        assert cells["cd:2403"] == 52 and cells["cd:2404"] is None
        assert sum(v is None for v in cells.values()) >= 2
    finally:
        client.drop_database(name)
        client.close()


def results(process_id, ballots, eligible_count=None, version=2):
    """``participation.results_published`` as it comes off the wire (upcast)."""
    payload = {
        "process_id": process_id,
        "title": "Priorités",
        "mrc_code": "2437",
        "method": "irv",
        "priorities": [],
        "ballots": ballots,
    }
    if version >= 2:
        payload["eligible_count"] = eligible_count
    sent = Envelope(
        events.RESULTS_PUBLISHED,
        payload,
        "node-2437",
        schema_version=version,
        occurred_at=datetime(2026, 3, 9, tzinfo=UTC),
    )
    return Envelope.from_dict(sent.to_dict())


def turnout(service, public=True):
    return service.evaluate(
        {
            "indicator": "participation_rate",
            "org_unit": "2437",
            "period": "202603",
            "public": public,
        }
    )


def test_turnout_is_recorded_from_the_eligible_count_the_results_carry(service):
    # a process that declared no eligible count (a version 1 event): ballots
    # cast are recorded, no turnout is (no guessed denominator)
    assert service.on_results_published([results("p0", 500, version=1)]) == 1
    values = computed_values(service)
    assert values == {("participation_ballots", "cd:2437", "202603"): 500}
    assert (turnout(service)["value"], turnout(service)["suppressed"]) == (None, False)
    # 37 ballots of 120 eligible, the same month
    first = results("p1", 37, 120)
    assert service.on_results_published([first]) == 1
    values = computed_values(service)
    assert values[("participation_ballots", "cd:2437", "202603")] == 537
    assert values[("participation_turnout_ballots", "cd:2437", "202603")] == 37
    assert values[("participation_eligible", "cd:2437", "202603")] == 120
    assert (turnout(service)["value"], turnout(service)["suppressed"]) == (
        30.83,
        False,
    )
    # redelivered: no second effect
    assert service.on_results_published([first]) == 0
    assert computed_values(service) == values
    assert turnout(service)["value"] == 30.83


def test_a_turnout_on_few_ballots_is_suppressed_like_any_small_count(service):
    service.on_results_published([results("p1", 4, 10)])
    assert turnout(service, public=False)["value"] == 40
    assert (turnout(service)["value"], turnout(service)["suppressed"]) == (None, True)


def approved_versions(svc, indicator="home_interventions"):
    return [
        {c["org_unit"]: c["count"] for c in p["cells"]}
        for t, p in svc.outbox.events
        if t == events.VALUES_APPROVED and p["indicator"] == indicator
    ]


def small_differences(before, now, total="cd:2437", threshold=5):
    """What a reader computes from two versions: each cell's change and, when
    both show the total, the change of what they hide (total - shown parts)."""
    small = [
        k
        for k, v in now.items()
        if v is not None
        and before.get(k) is not None
        and 0 < abs(v - before[k]) <= threshold
    ]
    if now[total] is not None and before[total] is not None:
        shown = [k for k, v in now.items() if k != total and v is not None]
        rest_now = now[total] - sum(now[k] for k in shown)
        rest_before = before[total] - sum(before.get(k) or 0 for k in shown)
        if 0 < abs(rest_now - rest_before) <= threshold:
            small.append("rest")
    revealed = [k for k, v in now.items() if v is not None and before.get(k) is None]
    return small + [f"{k} (hidden before)" for k in revealed if k in before]


def correct_and_approve_again(svc, corrections):
    svc.unapprove({"org_unit": "2437", "period": "2026Q1", "reason": "correction"})
    for unit, value in corrections.items():
        enter(svc, unit, value)
    svc.approve({"org_unit": "2437", "period": "2026Q1", "by": "coord"})


def test_a_total_approved_again_after_a_small_correction_is_suppressed(service):
    enter(service, "csd:2437067", 40)
    service.approve({"org_unit": "2437", "period": "2026Q1", "by": "coord"})
    correct_and_approve_again(service, {"csd:2437220": 3})  # a late entry of 3
    first, second = approved_versions(service)
    assert first["cd:2437"] == 40
    # 40 then 43 would say that 3 were added: the second total is hidden
    assert second["cd:2437"] is None
    assert small_differences(first, second) == []


def test_a_version_approved_again_cannot_be_subtracted_from_the_first(service):
    enter(service, "csd:2437067", 41)
    enter(service, "csd:2437210", 9)
    service.approve({"org_unit": "2437", "period": "2026Q1", "by": "coord"})
    correct_and_approve_again(service, {"csd:2437067": 60, "csd:2437220": 3})
    first, second = approved_versions(service)
    assert (first["csd:2437067"], first["cd:2437"]) == (41, 50)
    assert first["csd:2437210"] is None  # hidden beside the zeros
    # 60 and 72 alone would say the hidden rest went from 9 to 12, and showing
    # the 9 would say the first version's rest was all in one town
    assert second["csd:2437067"] == 60
    assert (second["cd:2437"], second["csd:2437210"]) == (None, None)
    assert small_differences(first, second) == []
    # and within the second version, the cell of 3 is still protected
    truth = {k: 0 for k in second} | {
        "csd:2437067": 60,
        "csd:2437210": 9,
        "csd:2437220": 3,
        "cd:2437": 72,
    }
    table = Table(truth, [("cd:2437", tuple(k for k in truth if k != "cd:2437"))])
    assert exposed(table, second, {"csd:2437220"}) == []


def test_a_large_correction_is_published_as_usual(service):
    enter(service, "csd:2437067", 41)
    enter(service, "csd:2437210", 9)
    service.approve({"org_unit": "2437", "period": "2026Q1", "by": "coord"})
    correct_and_approve_again(service, {"csd:2437067": 60, "csd:2437220": 20})
    first, second = approved_versions(service)
    # +19, +39 and a hidden rest up by 20: nothing small to give away
    assert (second["csd:2437067"], second["cd:2437"]) == (60, 89)
    # the town hidden (as a zero) in the first version stays hidden for good
    assert second["csd:2437220"] is None
    assert small_differences(first, second) == []


def test_a_coordinator_rollup_published_again_gives_no_small_change_away(
    store_uri, db_prefix, geo_units
):
    name = f"{db_prefix}region_versions"
    client, region = make_service(store_uri, name, geo_units)
    region.config["SUPPRESSION_THRESHOLD"] = 10
    query = {"indicator": "home_interventions", "period": "2026Q1"}
    try:
        region.on_event_received(
            [
                received("2402", 31, "2026-04-02T10:00:00+00:00"),
                received("2403", 52, "2026-04-02T11:00:00+00:00"),
            ]
        )
        first = {
            c["org_unit"]: c["count"] for c in region.publish_rollup(query)["cells"]
        }
        assert first == {"cd:2402": 31, "cd:2403": 52, "region:11": 83}
        # 2403 corrected by 7: above its MRC's threshold of 5, not this one's 10
        region.on_event_received([received("2403", 59, "2026-04-09T10:00:00+00:00")])
        second = {
            c["org_unit"]: c["count"] for c in region.publish_rollup(query)["cells"]
        }
        assert second == {"cd:2402": 31, "cd:2403": None, "region:11": None}
    finally:
        client.drop_database(name)
        client.close()


def test_what_an_approval_hid_stays_hidden_in_public_answers(service):
    """The approval sent the coordinator 53 for the MRC, 41 and 9, and hid the
    3 beside the towns that reported nothing (zeros). A public answer saying
    those towns have "no value" would let whoever reads both subtract:
    53 - 41 - 9 - 0 = 3."""
    enter(service, "csd:2437067", 41)
    enter(service, "csd:2437220", 3)
    enter(service, "csd:2437210", 9)
    service.approve({"org_unit": "2437", "period": "2026Q1", "by": "coord"})
    (sent,) = approved_versions(service)
    assert (sent["cd:2437"], sent["csd:2437210"], sent["csd:2437220"]) == (53, 9, None)
    query = {"numerator": "#{home_interventions}", "period": "2026Q1"}
    public = {
        unit: service.evaluate(query | {"org_unit": unit})
        for unit in sent
        if unit != "cd:2437"
    }
    assert public["csd:2437220"]["suppressed"]
    # what neither the approval nor a public answer shows
    unknown = [u for u, a in public.items() if a["suppressed"] and sent[u] is None]
    assert len(unknown) >= 2, "the MRC minus the other towns is the 3"
    # the operator of the node still reads the counts
    private = service.evaluate(query | {"org_unit": "csd:2437220", "public": False})
    assert private["value"] == 3
