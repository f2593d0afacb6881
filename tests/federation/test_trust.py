"""Attacks by a peer that holds a valid key: speaking for another MRC's
territory, dating an event in the future, passing on to a third node what was
signed for it, or using an agreement outside its period.

Gaspésie: the coordinator ``region-11`` receives from ``mrc-2402`` (Le
Rocher-Percé, ``cd:2402``) and ``mrc-2403`` (La Côte-de-Gaspé, ``cd:2403``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import yaml
from nameko.containers import ServiceContainer
from nameko.testing.services import entrypoint_hook
from prometheus_client import REGISTRY
from pymongo import MongoClient

from services.federation.domain import Reason
from services.federation.schemas import ConfigError, parse_config
from services.federation.service import FederationService
from shared.envelope import Envelope, utcnow
from tests.federation.helpers import (  # under agreements their board adopted
    APPROVED,
    agreement,
    check_incoming,
    config,
    config_dict,
    identity,
    prepare_outgoing,
    signed_for,
)

UNAPPROVED = "indicators.values_unapproved"
VALUES = {
    "type": APPROVED,
    "fields": ["indicator", "period", "mrc_code", "org_unit", "threshold", "cells"],
    "cell_fields": ["org_unit", "suppressed"],
    "count_fields": ["count"],
}
WITHDRAWAL = {"type": UNAPPROVED, "fields": ["org_unit", "period", "reason"]}


def _values(code: str, cells: list[tuple[str, int]]) -> dict:
    return {
        "indicator": "home_interventions",
        "period": "2026Q3",
        "mrc_code": code,
        "org_unit": f"cd:{code}",
        "threshold": 5,
        "cells": [{"org_unit": u, "count": n, "suppressed": False} for u, n in cells],
    }


def _agreement(peer: str, direction: str, id: str, **kw) -> dict:
    return agreement(
        peer, direction, id=id, types=[VALUES, WITHDRAWAL], aggregates_only=False, **kw
    )


@pytest.fixture
def gaspesie(tmp_path):
    region = identity(tmp_path, "region-11")
    mrcs = {code: identity(tmp_path, f"mrc-{code}") for code in ("2402", "2403")}
    senders = {
        code: config(
            config_dict(
                me,
                [(region, None)],
                [_agreement("region-11", "out", f"mrc-{code}-vers-region")],
            )
        )
        for code, me in mrcs.items()
    }
    coordinator = config_dict(
        region,
        [(me, None) for me in mrcs.values()],
        [_agreement(f"mrc-{code}", "in", f"mrc-{code}-vers-region") for code in mrcs],
        role="coordinator",
    )
    return mrcs, senders, coordinator


def _sent(sender, ident, envelope: Envelope, peer: str | None = None) -> dict:
    (out,), _ = prepare_outgoing(envelope, sender, ident.private_key, utcnow(), peer)
    return out.data


# --- territory --------------------------------------------------------------------


def test_peer_cannot_send_values_for_another_mrcs_territory(gaspesie):
    mrcs, senders, coordinator = gaspesie
    receiver = config(coordinator)
    attack = Envelope(
        APPROVED, _values("2403", [("csd:2403005", 90), ("cd:2403", 90)]), "mrc-2402"
    )
    verdict = check_incoming(
        _sent(senders["2402"], mrcs["2402"], attack), receiver, utcnow()
    )
    assert (verdict.accepted, verdict.reason) == (False, Reason.OUTSIDE_TERRITORY)
    assert "cd:2403" in verdict.detail and verdict.peer == "mrc-2402"


def test_one_cell_outside_the_territory_is_enough_to_refuse_the_event(gaspesie):
    mrcs, senders, coordinator = gaspesie
    receiver = config(coordinator)
    sneaky = Envelope(
        APPROVED, _values("2402", [("csd:2402005", 40), ("csd:2403005", 90)]), "x"
    )
    verdict = check_incoming(
        _sent(senders["2402"], mrcs["2402"], sneaky), receiver, utcnow()
    )
    assert verdict.reason == Reason.OUTSIDE_TERRITORY
    assert "csd:2403005" in verdict.detail


def test_peer_cannot_withdraw_another_mrcs_values(gaspesie):
    mrcs, senders, coordinator = gaspesie
    receiver = config(coordinator)
    unapproval = Envelope(
        UNAPPROVED, {"org_unit": "cd:2403", "period": "2026Q3", "reason": "x"}, "x"
    )
    verdict = check_incoming(
        _sent(senders["2402"], mrcs["2402"], unapproval), receiver, utcnow()
    )
    assert verdict.reason == Reason.OUTSIDE_TERRITORY


def test_unknown_org_unit_is_outside_every_territory(gaspesie):
    mrcs, senders, coordinator = gaspesie
    receiver = config(coordinator)
    for unit in ("2402", "cd:9999", "qc"):
        event = Envelope(UNAPPROVED, {"org_unit": unit, "period": "2026Q3"}, "x")
        verdict = check_incoming(
            _sent(senders["2402"], mrcs["2402"], event), receiver, utcnow()
        )
        assert verdict.reason == Reason.OUTSIDE_TERRITORY, unit


def test_values_of_the_peers_own_mrc_and_municipalities_are_accepted(gaspesie):
    mrcs, senders, coordinator = gaspesie
    receiver = config(coordinator)
    own = Envelope(
        APPROVED,
        _values("2402", [("csd:2402005", 40), ("csd:2402010", 9), ("cd:2402", 49)]),
        "mrc-2402",
    )
    verdict = check_incoming(
        _sent(senders["2402"], mrcs["2402"], own), receiver, utcnow()
    )
    assert verdict.accepted, verdict


def test_mrc_code_of_another_mrc_is_outside_the_territory(gaspesie):
    mrcs, senders, coordinator = gaspesie
    receiver = config(coordinator)
    payload = dict(_values("2402", [("csd:2402005", 40)]), mrc_code="2403")
    event = Envelope(APPROVED, payload, "mrc-2402")
    verdict = check_incoming(
        _sent(senders["2402"], mrcs["2402"], event), receiver, utcnow()
    )
    assert verdict.reason == Reason.OUTSIDE_TERRITORY


# --- time ---------------------------------------------------------------------


def test_event_dated_in_the_future_beyond_the_clock_skew_is_refused(gaspesie):
    """A far-future occurred_at would make every later correction look older."""
    mrcs, senders, coordinator = gaspesie
    receiver = config(coordinator)
    now = utcnow()
    future = Envelope(
        APPROVED,
        _values("2402", [("cd:2402", 40)]),
        "mrc-2402",
        occurred_at=now + timedelta(days=3650),
    )
    # our own sender withholds it; a hostile peer signs it anyway
    sent, withheld = prepare_outgoing(
        future, senders["2402"], mrcs["2402"].private_key, now
    )
    assert sent == [] and [w.reason for w in withheld] == [Reason.OCCURRED_IN_FUTURE]
    data = signed_for(
        mrcs["2402"], future.to_dict(), "region-11", "mrc-2402-vers-region"
    )
    verdict = check_incoming(data, receiver, now)
    assert (verdict.accepted, verdict.reason) == (False, Reason.OCCURRED_IN_FUTURE)


def test_event_within_the_clock_skew_is_accepted_and_skew_is_configurable(gaspesie):
    mrcs, senders, coordinator = gaspesie
    now = utcnow()
    soon = Envelope(
        APPROVED,
        _values("2402", [("cd:2402", 40)]),
        "mrc-2402",
        occurred_at=now + timedelta(minutes=4),
    )
    data = _sent(senders["2402"], mrcs["2402"], soon)
    assert check_incoming(data, config(coordinator), now).accepted  # 5 min default
    coordinator["node"]["clock_skew_seconds"] = 60
    strict = config(coordinator)
    assert strict.clock_skew == timedelta(seconds=60)
    assert check_incoming(data, strict, now).reason == Reason.OCCURRED_IN_FUTURE


# --- addressed signatures ---------------------------------------------------------


def test_event_signed_for_one_node_and_passed_on_to_another_is_refused(tmp_path):
    """C got A's values; C forwards them, untouched, to D, who also trusts A."""
    a, c, d = (identity(tmp_path, n) for n in ("mrc-2402", "region-11", "sante-11"))
    shared_id = "mrc-2402-indicateurs"
    a_cfg = config(
        config_dict(
            a, [(c, None), (d, None)], [_agreement("region-11", "out", shared_id)]
        )
    )
    d_cfg = config(
        config_dict(
            d, [(a, None), (c, None)], [_agreement("mrc-2402", "in", shared_id)]
        )
    )
    event = Envelope(APPROVED, _values("2402", [("cd:2402", 40)]), "mrc-2402")
    for_c = _sent(a_cfg, a, event)
    assert for_c["recipient"] == "region-11" and for_c["agreement_id"] == shared_id
    verdict = check_incoming(for_c, d_cfg, utcnow())
    assert (verdict.accepted, verdict.reason) == (False, Reason.WRONG_RECIPIENT)
    readdressed = dict(for_c, recipient="sante-11")
    assert check_incoming(readdressed, d_cfg, utcnow()).reason == Reason.BAD_SIGNATURE


def test_event_signed_under_another_agreement_is_refused(gaspesie):
    mrcs, senders, coordinator = gaspesie
    coordinator["agreements"][0]["id"] = "mrc-2402-vers-region-2027"
    receiver = config(coordinator)
    event = Envelope(APPROVED, _values("2402", [("cd:2402", 40)]), "mrc-2402")
    verdict = check_incoming(
        _sent(senders["2402"], mrcs["2402"], event), receiver, utcnow()
    )
    assert (verdict.accepted, verdict.reason) == (False, Reason.WRONG_AGREEMENT)
    assert "mrc-2402-vers-region" in verdict.detail


def test_signature_that_names_no_recipient_is_refused(gaspesie):
    mrcs, senders, coordinator = gaspesie
    receiver = config(coordinator)
    event = Envelope(APPROVED, _values("2402", [("cd:2402", 40)]), "mrc-2402")
    data = _sent(senders["2402"], mrcs["2402"], event)
    from shared.signing import sign_mapping

    old = {
        k: v
        for k, v in data.items()
        if k not in ("recipient", "agreement_id", "signature_version")
    }
    old = sign_mapping(old, mrcs["2402"].private_key, mrcs["2402"].key_id)
    verdict = check_incoming(old, receiver, utcnow())
    assert (verdict.accepted, verdict.reason) == (False, Reason.NOT_ADDRESSED)


# --- agreement period at occurred_at -----------------------------------------------


def _period_pair(tmp_path, sender_kw: dict, receiver_kw: dict):
    mrc, region = identity(tmp_path, "mrc-2402"), identity(tmp_path, "region-11")
    sender = config(
        config_dict(
            mrc, [(region, None)], [_agreement("region-11", "out", "e", **sender_kw)]
        )
    )
    receiver = config(
        config_dict(
            region,
            [(mrc, None)],
            [_agreement("mrc-2402", "in", "e", **receiver_kw)],
            role="coordinator",
        )
    )
    return mrc, sender, receiver


def test_event_that_occurred_during_the_agreement_is_accepted_after_its_end(tmp_path):
    period = {"valid_from": "2026-01-01", "valid_until": "2026-06-30"}
    mrc, sender, receiver = _period_pair(tmp_path, period, period)
    during = Envelope(
        APPROVED,
        _values("2402", [("cd:2402", 40)]),
        "mrc-2402",
        occurred_at=datetime(2026, 6, 30, 23, 0, tzinfo=UTC),
    )
    data = _sent(sender, mrc, during)  # a replay, after the end
    verdict = check_incoming(data, receiver, datetime(2026, 12, 4, tzinfo=UTC))
    assert verdict.accepted, verdict


def test_event_that_occurred_before_the_start_or_after_the_end_is_refused(tmp_path):
    wide = {"valid_from": "2025-01-01", "valid_until": "2027-12-31"}
    period = {"valid_from": "2026-01-01", "valid_until": "2026-06-30"}
    mrc, sender, receiver = _period_pair(tmp_path, wide, period)
    for moment in (
        datetime(2025, 12, 31, 23, 59, tzinfo=UTC),
        datetime(2026, 7, 1, 0, 0, tzinfo=UTC),
    ):
        event = Envelope(
            APPROVED, _values("2402", [("cd:2402", 40)]), "x", occurred_at=moment
        )
        data = _sent(sender, mrc, event)
        arrival = datetime(2026, 3, 1, tzinfo=UTC)  # while the agreement is in force
        verdict = check_incoming(data, receiver, max(arrival, moment))
        assert verdict.reason == Reason.AGREEMENT_EXPIRED, moment


def test_sender_withholds_an_event_that_occurred_outside_the_agreement(tmp_path):
    period = {"valid_from": "2026-01-01", "valid_until": "2026-06-30"}
    mrc, sender, _ = _period_pair(tmp_path, period, period)
    before = Envelope(
        APPROVED,
        _values("2402", [("cd:2402", 40)]),
        "mrc-2402",
        occurred_at=datetime(2025, 12, 1, tzinfo=UTC),
    )
    sent, withheld = prepare_outgoing(
        before, sender, mrc.private_key, datetime(2026, 3, 1, tzinfo=UTC)
    )
    assert sent == [] and [w.reason for w in withheld] == [Reason.AGREEMENT_EXPIRED]


# --- config -------------------------------------------------------------------


def _config_errors(data: dict) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(yaml.safe_dump(data), "node.yaml", env={})
    return "\n".join(info.value.errors)


@pytest.mark.parametrize("territory", [None, "", "cd:9999", "2402", 42, ["cd:2402", 7]])
def test_peer_without_a_valid_territory_stops_start_up_naming_peer_and_setting(
    gaspesie, territory
):
    _, _, coordinator = gaspesie
    if territory is None:
        del coordinator["peers"][1]["territory"]
    else:
        coordinator["peers"][1]["territory"] = territory
    errors = _config_errors(coordinator)
    assert "champ « peers[1].territory »" in errors
    assert 'field "peers[1].territory"' in errors
    assert "mrc-2403" in errors


def test_peer_territory_may_list_several_org_units(gaspesie):
    _, _, coordinator = gaspesie
    coordinator["peers"][0]["territory"] = ["cd:2402", "csd:2403005"]
    peer = config(coordinator).peers["mrc-2402"]
    assert peer.territory == ("cd:2402", "csd:2403005")
    assert {"cd:2402", "csd:2402005", "csd:2403005"} <= peer.units
    assert "cd:2403" not in peer.units


def test_malformed_clock_skew_is_refused(gaspesie):
    _, _, coordinator = gaspesie
    coordinator["node"]["clock_skew_seconds"] = -5
    assert "node.clock_skew_seconds" in _config_errors(coordinator)


# --- the service, with the real store ---------------------------------------------


def _count(reason: str, peer: str) -> float:
    labels = {"reason": reason, "peer": peer}
    return REGISTRY.get_sample_value("maillage_federation_rejected_total", labels) or 0


def test_service_refuses_records_counts_and_announces_a_territory_attack(
    gaspesie, tmp_path, amqp_uri, store_uri, db_prefix
):
    mrcs, senders, coordinator = gaspesie
    path = tmp_path / "region-11.yaml"
    path.write_text(yaml.safe_dump(coordinator))
    attack = _sent(
        senders["2402"],
        mrcs["2402"],
        Envelope(APPROVED, _values("2403", [("cd:2403", 90)]), "mrc-2402"),
    )
    own = _sent(
        senders["2403"],
        mrcs["2403"],
        Envelope(APPROVED, _values("2403", [("cd:2403", 41)]), "mrc-2403"),
    )
    before = _count("outside_territory", "mrc-2402")
    container = ServiceContainer(
        FederationService,
        {
            "AMQP_URI": amqp_uri,
            "MONGODB_URI": store_uri,
            "DB_PREFIX": db_prefix,
            "NODE_ID": "region-11",
            "NODE_CONFIG": str(path),
        },
    )
    container.start()
    try:
        with entrypoint_hook(container, "receive") as receive:
            applied = receive([json.dumps(attack), json.dumps(own)])
    finally:
        container.stop()
    assert applied == 1
    db = MongoClient(store_uri)[f"{db_prefix}federation"]
    assert [d["peer"] for d in db.received.find()] == ["mrc-2403"]
    (rejected,) = db.rejected.find()
    assert (rejected["reason"], rejected["peer"]) == ("outside_territory", "mrc-2402")
    assert "cd:2403" in rejected["detail"]
    assert _count("outside_territory", "mrc-2402") == before + 1
    kinds = sorted(
        e["event_type"]
        for row in db.outbox.find()
        for e in row.get("events") or [row["envelope"]]
    )
    assert kinds == ["federation.event_received", "federation.event_rejected"]


def test_unreadable_geography_stops_start_up_naming_quebec_geo_dir(gaspesie, tmp_path):
    _, _, coordinator = gaspesie
    missing = str(tmp_path / "nowhere")
    with pytest.raises(ConfigError) as info:
        parse_config(
            yaml.safe_dump(coordinator), "node.yaml", env={"QUEBEC_GEO_DIR": missing}
        )
    (error,) = info.value.errors
    assert "QUEBEC_GEO_DIR" in error and missing in error
