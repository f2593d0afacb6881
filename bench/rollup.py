"""Roll-up of 1,000,000 data values over the full Quebec hierarchy, a year of months.

The values are monthly counts at random municipalities (all 1,285 census
subdivisions of ``../shared/data/quebec_geo``), for the 12 months of 2026.
Each path computes the total at every org unit (municipality, MRC, region,
Quebec) and month:

* ``maillage rollup_sum``: the indicators domain, pure Python (sum per unit and
  month, then add each distinct unit-month to its ancestors);
* ``pandas groupby``: the same with pandas, group by unit and month, join the
  ancestor table, group by ancestor and month (the baseline), once on the
  org-unit ids as strings and once on integer codes (pandas' best case).

Both are timed in the same run on the same rows, and their totals compared.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

from services.indicators.domain import Period, rollup_sum
from services.indicators.geo import load_quebec

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "quebec_geo"
N = int(os.environ.get("ROLLUP_VALUES", "1000000"))
REPEAT = 3


def _best(fn, repeat: int = REPEAT) -> tuple[float, object]:
    best = float("inf")
    result = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    return best, result


def run() -> list[dict]:
    hierarchy = load_quebec(DATA)
    leaves = [u.id for u in hierarchy.at_level(4)]
    first = Period.parse("202601").first_month
    rng = np.random.default_rng(2026)
    unit_index = rng.integers(0, len(leaves), N)
    months = rng.integers(first, first + 12, N)
    values = rng.integers(0, 40, N).astype(float)
    units = [leaves[i] for i in unit_index.tolist()]
    rows = list(zip(units, months.tolist(), values.tolist(), strict=True))

    ancestors = pd.DataFrame(
        [(u, a) for u, chain in hierarchy.ancestors.items() for a in chain],
        columns=["unit", "ancestor"],
    )
    frame = pd.DataFrame({"unit": units, "month": months, "value": values})

    def with_pandas() -> pd.Series:
        leaf = frame.groupby(["unit", "month"], as_index=False)["value"].sum()
        joined = leaf.merge(ancestors, on="unit")
        return joined.groupby(["ancestor", "month"])["value"].sum()

    codes = {u: i for i, u in enumerate(hierarchy.units)}
    ancestor_codes = pd.DataFrame(
        [
            (codes[u], codes[a])
            for u, chain in hierarchy.ancestors.items()
            for a in chain
        ],
        columns=["unit", "ancestor"],
    )
    coded = pd.DataFrame(
        {"unit": [codes[u] for u in units], "month": months, "value": values}
    )

    def with_pandas_codes() -> pd.Series:
        leaf = coded.groupby(["unit", "month"], as_index=False)["value"].sum()
        joined = leaf.merge(ancestor_codes, on="unit")
        return joined.groupby(["ancestor", "month"])["value"].sum()

    ours_s, ours = _best(lambda: rollup_sum(hierarchy, rows))
    theirs_s, theirs = _best(with_pandas)
    coded_s, coded_result = _best(with_pandas_codes)
    assert isinstance(coded_result, pd.Series)
    coded_same = len(coded_result) == len(theirs) and bool(
        np.allclose(sorted(coded_result.to_numpy()), sorted(theirs.to_numpy()))
    )
    assert isinstance(theirs, pd.Series)
    totals = ours.totals  # type: ignore[union-attr]
    expected = {(a, int(m)): float(v) for (a, m), v in theirs.items()}
    same = totals.keys() == expected.keys() and all(
        abs(totals[k] - expected[k]) < 1e-6 for k in expected
    )
    cells = len(totals)
    quebec_year = sum(totals.get(("qc", first + m), 0.0) for m in range(12))
    common = {
        "values": N,
        "org_units": len(hierarchy),
        "months": 12,
        "cells_out": cells,
        "same_totals": same,
        "quebec_2026": quebec_year,
    }
    return [
        {
            "path": "maillage rollup_sum (pure Python)",
            "seconds": round(ours_s, 3),
            "values_per_s": int(N / ours_s),
            **common,
        },
        {
            "path": "baseline: pandas groupby + ancestor join",
            "seconds": round(theirs_s, 3),
            "values_per_s": int(N / theirs_s),
            **common,
        },
        {
            "path": "baseline: pandas on integer unit codes",
            "seconds": round(coded_s, 3),
            "values_per_s": int(N / coded_s),
            **common,
            "same_totals": same and coded_same,
        },
    ]
