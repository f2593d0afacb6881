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

Then 1,000,000 *disaggregated* values (8 category option combos: sex x four
age groups) are rolled up to every org unit, month and combo:

* ``maillage rollup_coded``: :func:`services.indicators.categories.rollup_coded`,
  integer-coded ids, one ``bincount`` then one ``np.add.at`` over the
  (unit, ancestor) pairs; timed from integer codes and from text ids (the
  coding of the 1,000,000 ids included);
* pandas, the same group by / join / group by with the combo column, on text
  ids and on integer codes.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

from services.indicators.categories import CodedHierarchy, rollup_coded
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
        *_disaggregated(hierarchy, leaves, first),
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


COMBOS = [f"{s}_{a}" for s in ("f", "h") for a in ("0_17", "18_34", "35_64", "65")]


def _disaggregated(hierarchy, leaves: list[str], first: int) -> list[dict]:
    rng = np.random.default_rng(2027)
    unit_index = rng.integers(0, len(leaves), N)
    months = rng.integers(first, first + 12, N)
    combos = rng.integers(0, len(COMBOS), N)
    values = rng.integers(0, 40, N).astype(float)
    units = [leaves[i] for i in unit_index.tolist()]
    combo_ids = [COMBOS[i] for i in combos.tolist()]

    coded = CodedHierarchy.of(hierarchy)
    unit_codes = coded.encode(units)

    def ours_from_codes() -> np.ndarray:
        return rollup_coded(
            coded, unit_codes, months, combos, values, first, 12, len(COMBOS)
        )

    combo_codes = {c: i for i, c in enumerate(COMBOS)}

    def ours_from_text() -> np.ndarray:
        codes = coded.encode(units)
        combo_index = np.fromiter(
            (combo_codes[c] for c in combo_ids), dtype=np.intp, count=N
        )
        return rollup_coded(
            coded, codes, months, combo_index, values, first, 12, len(COMBOS)
        )

    ancestors = pd.DataFrame(
        [(u, a) for u, chain in hierarchy.ancestors.items() for a in chain],
        columns=["unit", "ancestor"],
    )
    frame = pd.DataFrame(
        {"unit": units, "month": months, "combo": combo_ids, "value": values}
    )
    ancestor_codes = pd.DataFrame(
        {"unit": coded.pairs_unit, "ancestor": coded.pairs_ancestor}
    )
    coded_frame = pd.DataFrame(
        {"unit": unit_codes, "month": months, "combo": combos, "value": values}
    )

    def pandas(data: pd.DataFrame, pairs: pd.DataFrame) -> pd.Series:
        keys = ["unit", "month", "combo"]
        leaf = data.groupby(keys, as_index=False)["value"].sum()
        joined = leaf.merge(pairs, on="unit")
        return joined.groupby(["ancestor", "month", "combo"])["value"].sum()

    codes_s, totals = _best(ours_from_codes)
    text_s, from_text = _best(ours_from_text)
    pandas_s, theirs = _best(lambda: pandas(frame, ancestors))
    pandas_codes_s, theirs_codes = _best(lambda: pandas(coded_frame, ancestor_codes))
    assert isinstance(totals, np.ndarray) and isinstance(from_text, np.ndarray)
    assert isinstance(theirs, pd.Series) and isinstance(theirs_codes, pd.Series)
    expected = np.zeros_like(totals)
    for (ancestor, month, combo), value in theirs.items():
        expected[coded.codes[ancestor], int(month) - first, combo_codes[combo]] = value
    same = bool(np.allclose(totals, expected)) and bool(
        np.array_equal(totals, from_text)
    )
    same_codes = len(theirs_codes) == len(theirs) and bool(
        np.isclose(theirs_codes.sum(), theirs.sum())
    )
    qc = coded.codes["qc"]
    common = {
        "values": N,
        "org_units": len(hierarchy),
        "months": 12,
        "combos": len(COMBOS),
        "cells_out": int(np.count_nonzero(totals)),
        "same_totals": same,
        "quebec_2026": float(totals[qc].sum()),
        "quebec_2026_f_65": float(totals[qc, :, COMBOS.index("f_65")].sum()),
    }
    return [
        {
            "path": "disaggregated: maillage rollup_coded (numpy, integer codes)",
            "seconds": round(codes_s, 3),
            "values_per_s": int(N / codes_s),
            **common,
        },
        {
            "path": "disaggregated: maillage rollup_coded from text ids",
            "seconds": round(text_s, 3),
            "values_per_s": int(N / text_s),
            **common,
        },
        {
            "path": "disaggregated baseline: pandas on text ids",
            "seconds": round(pandas_s, 3),
            "values_per_s": int(N / pandas_s),
            **common,
        },
        {
            "path": "disaggregated baseline: pandas on integer codes",
            "seconds": round(pandas_codes_s, 3),
            "values_per_s": int(N / pandas_codes_s),
            **common,
            "same_totals": same and same_codes,
        },
    ]
