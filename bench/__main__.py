"""Run the benchmarks: ``python -m bench [NAME ...]``.

Each module ``bench/<name>.py`` exposes ``run() -> list[dict]``: one row per
measured path, the project's path beside its baseline(s), each row with at least
``path`` and the figures. The table is printed and written to
``bench/results/<name>.json``.
"""

from __future__ import annotations

import importlib
import json
import platform
import sys
import time
from pathlib import Path

BENCHMARKS = (
    "events",
    "tally",
    "search",
    "rollup",
    "boards",
    "gateway",
    "web",
    "federation",
)
RESULTS = Path(__file__).resolve().parent / "results"


def _table(rows: list[dict]) -> str:
    columns: list[str] = []
    for row in rows:
        columns += [key for key in row if key not in columns]
    cells = [[str(row.get(col, "")) for col in columns] for row in rows]
    widths = [
        max(len(col), *(len(c[i]) for c in cells)) for i, col in enumerate(columns)
    ]
    lines = ["  ".join(col.ljust(w) for col, w in zip(columns, widths, strict=True))]
    lines += [
        "  ".join(c.ljust(w) for c, w in zip(cell, widths, strict=True))
        for cell in cells
    ]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    names = argv or list(BENCHMARKS)
    RESULTS.mkdir(exist_ok=True)
    failed = 0
    for name in names:
        try:
            module = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"bench.{name}":
                print(f"== {name}: not written yet")
                continue
            raise
        print(f"== {name}", flush=True)
        started = time.time()
        try:
            rows = module.run()
        except Exception as exc:  # a failed benchmark must not hide the others
            failed += 1
            print(f"   FAILED: {exc!r}")
            continue
        print(_table(rows), flush=True)
        (RESULTS / f"{name}.json").write_text(
            json.dumps(
                {
                    "benchmark": name,
                    "started_at": started,
                    "seconds": round(time.time() - started, 1),
                    "machine": platform.platform(),
                    "rows": rows,
                },
                indent=2,
            )
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
