"""The event envelope: ids, validation with named fields, upcasting of old versions."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from marshmallow import ValidationError

from shared.envelope import (
    Envelope,
    EnvelopeSchema,
    current_version,
    event_id_time,
    new_event_id,
    register_upcaster,
)


def test_event_ids_sort_by_creation_time():
    ids = [new_event_id(now_ms=ms) for ms in (1_000, 2_000, 2_001, 10**12)]
    assert ids == sorted(ids)
    assert len(set(new_event_id() for _ in range(10_000))) == 10_000


def test_event_id_time_reads_back_the_millisecond():
    moment = datetime(2026, 11, 23, 14, 2, 11, 123000, tzinfo=UTC)
    assert event_id_time(new_event_id(int(moment.timestamp() * 1000))) == moment


@given(st.dictionaries(st.text(min_size=1), st.integers() | st.text() | st.booleans()))
def test_envelope_round_trips_through_json(payload):
    env = Envelope("boards.meeting_scheduled", payload, "mrc-2466")
    assert Envelope.from_dict(json.loads(json.dumps(env.to_dict()))) == env


def test_occurred_at_is_normalised_to_utc():
    data = Envelope("boards.meeting_scheduled", {}, "n").to_dict()
    data["occurred_at"] = "2026-11-23T09:00:00-05:00"
    assert Envelope.from_dict(data).occurred_at == datetime(
        2026, 11, 23, 14, tzinfo=UTC
    )
    assert Envelope.from_dict(data).occurred_at.utcoffset() == timedelta(0)
    assert UTC == UTC


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("event_type", "MeetingScheduled", "match"),
        ("event_id", "not-an-id", "match"),
        ("schema_version", 0, "1 or more"),
        ("schema_version", "1", "integer"),
        ("occurred_at", "2026-11-23T09:00:00", "aware"),
        ("payload", [1, 2], "mapping"),
    ],
)
def test_malformed_envelopes_are_refused_naming_the_field(field, value, reason):
    data = Envelope("boards.meeting_scheduled", {}, "n").to_dict()
    data[field] = value
    with pytest.raises(ValidationError) as err:
        EnvelopeSchema().load(data)
    assert field in err.value.messages
    assert reason in " ".join(err.value.messages[field]).lower()


def test_unknown_top_level_keys_are_refused():
    data = Envelope("boards.meeting_scheduled", {}, "n").to_dict()
    data["sneaky"] = True
    with pytest.raises(ValidationError) as err:
        EnvelopeSchema().load(data)
    assert "sneaky" in err.value.messages


def test_old_payloads_are_upcast_step_by_step_on_read():
    @register_upcaster("testing.thing_renamed", 1)
    def v1_to_v2(payload):
        payload["name"] = payload.pop("nom")
        return payload

    @register_upcaster("testing.thing_renamed", 2)
    def v2_to_v3(payload):
        payload["names"] = [payload.pop("name")]
        return payload

    assert current_version("testing.thing_renamed") == 3
    old = Envelope("testing.thing_renamed", {"nom": "Ahuntsic"}, "n", schema_version=1)
    new = Envelope.from_dict(old.to_dict())
    assert new.schema_version == 3
    assert new.payload == {"names": ["Ahuntsic"]}
    assert new.event_id == old.event_id
    current = Envelope("testing.thing_renamed", {"names": ["x"]}, "n", schema_version=3)
    assert Envelope.from_dict(current.to_dict()) == current


def test_json_log_lines_carry_the_bound_correlation_id():
    import logging

    from shared import logs

    record = logging.LogRecord("x", logging.INFO, __file__, 1, "vote %s", ("ok",), None)
    logs.bind(correlation_id="req-7", service="participation")
    try:
        line = json.loads(logs.JsonFormatter().format(record))
    finally:
        logs.clear()
    assert line["msg"] == "vote ok"
    assert line["correlation_id"] == "req-7" and line["service"] == "participation"
    assert "correlation_id" not in json.loads(logs.JsonFormatter().format(record))
