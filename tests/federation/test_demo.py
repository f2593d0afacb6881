from __future__ import annotations

import os

import pytest

from tests.conftest import AMQP_HOST, MGMT

# The demo runs on the suite's own broker (tests/suitebroker.py), never on the
# machine's, whose management plugin may be off.
os.environ.setdefault("MAILLAGE_DEMO_AMQP_HOST", AMQP_HOST)
os.environ.setdefault(
    "MAILLAGE_DEMO_RABBIT_API",
    "guest:guest@" + MGMT.split("://", 1)[1].removesuffix("/api"),
)

from services.federation.demo import (  # noqa: E402 - reads the broker at import
    APPROVED,
    REGION,
    RESULTS,
    ROLLUP,
    run,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_scripted_day_shares_only_agreed_data_between_three_mrcs_and_the_region(
    tmp_path,
):
    received = run(tmp_path)
    region = received[REGION]
    assert sorted((d["peer"], d["event_type"]) for d in region) == [
        ("mrc-2402", APPROVED),
        ("mrc-2402", RESULTS),
        ("mrc-2403", APPROVED),
        ("mrc-2403", RESULTS),
        ("mrc-2404", APPROVED),  # 4 ballots: at the threshold, withheld
    ]
    for doc in region:
        payload = doc["envelope"]["payload"]
        assert "receipts_sha256" not in payload and "approved_by" not in payload
        for cell in payload.get("cells", []):
            assert cell.get("suppressed") or cell["count"] > 5
    for mrc in ("mrc-2402", "mrc-2403", "mrc-2404"):
        (rollup,) = received[mrc]
        assert rollup["event_type"] == ROLLUP and rollup["peer"] == REGION
        cells = rollup["envelope"]["payload"]["cells"]
        assert [c["org_unit"] for c in cells] == ["cd:2402", "cd:2403", "cd:2404"]
