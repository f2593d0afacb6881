from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.federation.domain import (
    Reason,
    check_replay_peer,
    journaled_types,
    parse_moment,
    suppress_cells,
)
from shared.envelope import Envelope, utcnow
from shared.errors import Invalid
from shared.signing import sign_mapping, verify_mapping
from tests.federation.helpers import (  # under agreements their board adopted
    APPROVED,
    agreement,
    approved,
    check_incoming,
    config,
    config_dict,
    identity,
    prepare_outgoing,
    signed_for,
)

NOW = utcnow()  # the events below occur now: none may look dated in the future
CELLS = [
    {"org_unit": "csd:2466023", "sex": "F", "count": 40, "name": "Tremblay"},
    {"org_unit": "csd:2466023", "sex": "M", "count": 31},
    {"org_unit": "csd:2466032", "sex": "F", "count": 3},
    {"org_unit": "csd:2466032", "sex": "M", "count": 12},
]


def _pair(tmp_path, **kw):
    mrc, region = identity(tmp_path, "mrc-66023"), identity(tmp_path, "region-06")
    sender = config(
        config_dict(mrc, [(region, None)], [agreement("region-06", "out", **kw)])
    )
    receiver = config(
        config_dict(region, [(mrc, None)], [agreement("mrc-66023", "in", **kw)])
    )
    return mrc, region, sender, receiver


def test_small_cell_and_next_smallest_are_suppressed_and_values_removed():
    out = suppress_cells(
        [{"u": "a", "count": 40}, {"u": "b", "count": 3}, {"u": "c", "count": 12}],
        ("count",),
        5,
    )
    assert out == [
        {"u": "a", "count": 40},
        {"u": "b", "suppressed": True},
        {"u": "c", "suppressed": True},
    ]


def test_counts_above_threshold_are_kept_and_zero_is_suppressed():
    cells = [{"u": "a", "count": 6}, {"u": "b", "count": 0}, {"u": "c", "count": 0}]
    out = suppress_cells(cells, ("count",), 5)
    assert out == [
        {"u": "a", "count": 6},
        {"u": "b", "suppressed": True},
        {"u": "c", "suppressed": True},
    ]


def test_outgoing_event_keeps_only_agreed_fields_and_is_signed(tmp_path):
    mrc, _, sender, _ = _pair(tmp_path)
    local = Envelope(APPROVED, approved(CELLS, author="j.tremblay"), "mrc-66023")
    (sent,), withheld = prepare_outgoing(local, sender, mrc.private_key, NOW)
    assert withheld == []
    assert sent.peer == "region-06"
    assert set(sent.data["payload"]) == {"indicator", "period", "cells"}
    assert all("name" not in c for c in sent.data["payload"]["cells"])
    assert [c.get("count") for c in sent.data["payload"]["cells"]] == [
        40,
        31,
        None,
        None,
    ]
    assert sent.data["event_id"] == local.event_id
    assert verify_mapping(sent.data, mrc.public_key)


def test_single_count_at_or_below_threshold_never_leaves(tmp_path):
    types = [{"type": "participation.vote_closed", "fields": ["vote", "count"]}]
    mrc, _, sender, _ = _pair(tmp_path, types=types)
    local = Envelope("participation.vote_closed", {"vote": "v1", "count": 5}, "x")
    sent, withheld = prepare_outgoing(local, sender, mrc.private_key, NOW)
    assert sent == [] and [w.reason for w in withheld] == [Reason.SUPPRESSED]
    local = Envelope("participation.vote_closed", {"vote": "v1", "count": 6}, "x")
    (sent,), _ = prepare_outgoing(local, sender, mrc.private_key, NOW)
    assert sent.data["payload"] == {"vote": "v1", "count": 6}


def test_non_aggregate_event_is_withheld_when_only_aggregates_may_leave(tmp_path):
    types = [{"type": "participation.ballot_cast", "fields": ["vote"]}]
    mrc, _, sender, _ = _pair(tmp_path, types=types)
    local = Envelope("participation.ballot_cast", {"vote": "v1", "voter": "x"}, "n")
    sent, withheld = prepare_outgoing(local, sender, mrc.private_key, NOW)
    assert sent == [] and [w.reason for w in withheld] == [Reason.NOT_AGGREGATE]


def test_nothing_leaves_for_an_event_type_or_period_outside_agreements(tmp_path):
    mrc, _, sender, _ = _pair(tmp_path, valid_until="2026-06-30")
    local = Envelope(APPROVED, approved(CELLS), "mrc-66023")
    sent, withheld = prepare_outgoing(local, sender, mrc.private_key, NOW)
    assert sent == [] and withheld[0].reason == Reason.AGREEMENT_EXPIRED
    other = Envelope("boards.minutes_adopted", {"text": "..."}, "mrc-66023")
    sent, withheld = prepare_outgoing(other, sender, mrc.private_key, NOW)
    assert sent == [] and withheld[0].reason == Reason.NO_AGREEMENT


def test_agreed_signed_event_is_accepted_by_the_peer(tmp_path):
    mrc, _, sender, receiver = _pair(tmp_path)
    local = Envelope(APPROVED, approved(CELLS), "mrc-66023")
    (sent,), _ = prepare_outgoing(local, sender, mrc.private_key, NOW)
    verdict = check_incoming(sent.data, receiver, NOW)
    assert verdict.accepted, verdict
    assert verdict.envelope.event_id == local.event_id
    assert verdict.agreement_id == "mrc-66023-to-region-06"  # one id, both sides


def _signed(ident, payload, event_type=APPROVED, origin=None):
    env = Envelope(event_type, payload, origin or ident.node_id)
    return signed_for(ident, env.to_dict(), "region-06")


def test_each_kind_of_bad_message_is_rejected_with_its_reason(tmp_path):
    mrc, region, _, receiver = _pair(tmp_path)
    stranger = identity(tmp_path, "mrc-99999")
    impostor = identity(tmp_path / "other", "mrc-66023")
    good = _signed(mrc, approved([{"org_unit": "csd:2466023", "count": 9}]))
    forged = dict(good, payload=approved([{"org_unit": "csd:2466023", "count": 90}]))
    unsigned = dict(good, signature=None, key_id=None)
    cases = {
        Reason.BAD_SIGNATURE: forged,
        Reason.UNKNOWN_PEER: _signed(stranger, approved([])),
        Reason.UNSIGNED: unsigned,
        Reason.WRONG_KEY: _signed(impostor, approved([])),
        Reason.TYPE_NOT_AGREED: _signed(mrc, {"x": 1}, "boards.minutes_adopted"),
        Reason.FIELD_NOT_AGREED: _signed(mrc, approved([], secret="s")),
        Reason.SMALL_CELL: _signed(
            mrc, approved([{"org_unit": "csd:2466023", "count": 2}])
        ),
        Reason.MALFORMED: sign_mapping(
            {"origin_node": "mrc-66023", "payload": {}}, mrc.private_key, mrc.key_id
        ),
    }
    for reason, data in cases.items():
        verdict = check_incoming(data, receiver, NOW)
        assert (verdict.accepted, verdict.reason) == (False, reason), reason
    assert check_incoming(good, receiver, NOW).accepted


def test_event_under_an_expired_agreement_is_rejected(tmp_path):
    mrc, _, _, receiver = _pair(tmp_path, valid_until="2026-11-22")
    data = _signed(mrc, approved([{"org_unit": "csd:2466023", "count": 9}]))
    verdict = check_incoming(data, receiver, NOW)
    assert verdict.reason == Reason.AGREEMENT_EXPIRED


def test_lone_small_cell_takes_the_smallest_other_cell_with_it_not_a_second_time():
    cells = [
        {"u": "a", "count": 3},
        {"u": "b", "count": 0},
        {"u": "c", "count": 9},
        {"u": "d", "count": 20},
    ]
    out = suppress_cells(cells, ("count",), 5)
    # 3 and 0 are both small: two hidden, no secondary needed
    assert [c.get("count") for c in out] == [None, None, 9, 20]
    cells[1]["count"] = 50
    out = suppress_cells(cells, ("count",), 5)
    assert [c.get("count") for c in out] == [None, 50, None, 20]


def test_replay_bounds_are_iso_dates_or_datetimes_in_utc():
    assert parse_moment("since", "2026-01-01") == datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_moment("until", "2026-01-31", end_of_day=True) == datetime(
        2026, 2, 1, tzinfo=UTC
    )
    assert parse_moment("since", "2026-03-01T10:00:00-05:00") == datetime(
        2026, 3, 1, 15, tzinfo=UTC
    )
    assert parse_moment("since", "2026-03-01T10:00:00") == datetime(
        2026, 3, 1, 10, tzinfo=UTC
    )
    for bad in ("", "hier", "01/01/2026", "2026-13-01", None, 20260101):
        with pytest.raises(Invalid) as exc:
            parse_moment("since", bad)
        assert list(exc.value.fields) == ["since"]
        assert "AAAA-MM-JJ" in exc.value.fields["since"][0]
        assert "YYYY-MM-DD" in exc.value.fields["since"][0]


def test_prepare_for_one_peer_withholds_what_only_another_peer_gets(tmp_path):
    mrc, region = identity(tmp_path, "mrc-66023"), identity(tmp_path, "region-06")
    sante = identity(tmp_path, "sante-06")
    minutes = [{"type": "boards.minutes_adopted", "fields": ["text"]}]
    sender = config(
        config_dict(
            mrc,
            [(region, None), (sante, None)],
            [
                agreement("region-06", "out"),
                agreement("sante-06", "out", types=minutes, aggregates_only=False),
            ],
        )
    )
    event = Envelope("boards.minutes_adopted", {"text": "x"}, "mrc-66023")
    sent, _ = prepare_outgoing(event, sender, mrc.private_key, NOW)
    assert [o.peer for o in sent] == ["sante-06"]
    sent, withheld = prepare_outgoing(event, sender, mrc.private_key, NOW, "region-06")
    assert sent == [] and [w.reason for w in withheld] == [Reason.NO_AGREEMENT]
    assert journaled_types(sender) == {APPROVED, "boards.minutes_adopted"}
    with pytest.raises(Invalid) as exc:
        check_replay_peer(sender, "region-99")
    assert "region-99" in exc.value.fields["peer"][0]
    assert check_replay_peer(sender, "region-06") == "region-06"
