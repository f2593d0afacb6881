"""The coordinator orders what peers approved by time, not by the text of a time.

``occurred_at`` travels as ISO text with an offset; the same instant can be
written ``10:00:00+00:00`` or ``05:00:00-05:00``, and text order is then not time
order: a correction sent later could be skipped, or an unapproval ignored.
"""

from __future__ import annotations

import pytest

from services.indicators import events
from services.indicators.geo import quebec_units
from tests.indicators.test_service import make_service, received

pytestmark = pytest.mark.integration

QUERY = {"indicator": "home_interventions", "period": "2026Q1"}


@pytest.fixture(scope="module")
def geo_units(data_dir):
    return quebec_units(data_dir / "quebec_geo")


def _counts(region) -> dict:
    return {c["org_unit"]: c["count"] for c in region.publish_rollup(QUERY)["cells"]}


def test_later_correction_written_with_another_offset_replaces_the_earlier_one(
    store_uri, db_prefix, geo_units
):
    name = f"{db_prefix}region_times"
    client, region = make_service(store_uri, name, geo_units)
    try:
        region.on_event_received([received("2402", 31, "2026-04-09T10:00:00+00:00")])
        # 08:00 in Quebec (UTC-05:00) is 13:00 UTC: three hours later
        region.on_event_received([received("2402", 52, "2026-04-09T08:00:00-05:00")])
        assert _counts(region)["cd:2402"] == 52
        # and an earlier one arriving late, with a text that sorts after, is not kept
        region.on_event_received([received("2402", 40, "2026-04-09T12:00:00+02:00")])
        assert _counts(region)["cd:2402"] == 52
    finally:
        client.drop_database(name)
        client.close()


def test_later_unapproval_written_with_another_offset_withdraws_the_values(
    store_uri, db_prefix, geo_units
):
    name = f"{db_prefix}region_times_un"
    client, region = make_service(store_uri, name, geo_units)
    try:
        region.on_event_received([received("2402", 31, "2026-04-09T10:00:00+00:00")])
        withdrawal = received(
            "2402", None, "2026-04-09T07:00:00-05:00", events.VALUES_UNAPPROVED
        )
        region.on_event_received([withdrawal])
        assert region.store.db.received.count_documents({}) == 0
    finally:
        client.drop_database(name)
        client.close()
