"""Readers for the published reference reports (Droop count reports, RCTab CSV)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

_STATE = re.compile(
    r"^\t(Hopeful|Pending|Elected|Defeated|Withdrawn):\s+(.*) \((-?[0-9.]+)\)$"
)


def droop_snapshots(path: Path, names: set[str]) -> list[dict[str, str]]:
    """Each action's candidate totals, consecutive repeats dropped.

    Droop groups candidates with the same state and total on one line
    (``Defeated: A, B (0.00000)``); they are split again with the known names.
    """
    actions: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("Action:"):
            if current:
                actions.append(current)
            current = {}
            continue
        match = _STATE.match(line)
        if match and current is not None:
            label = match.group(2)
            for name in [label] if label in names else label.split(", "):
                current[name] = match.group(3)
    if current:
        actions.append(current)
    out: list[dict[str, str]] = []
    for snap in actions:
        if snap and (not out or out[-1] != snap):
            out.append(snap)
    return out


def droop_elected(path: Path) -> set[str]:
    tail = path.read_text(encoding="utf-8").split("Action: Count Complete")[-1]
    return set(re.findall(r"^\tElected:\s+(.*) \(", tail, re.M))


def rctab_report(path: Path) -> dict:
    """Winners, threshold and per-round candidate votes of an RCTab CSV report."""
    rows = list(csv.reader(path.open(encoding="utf-8")))
    info = {r[0]: r[1] for r in rows if len(r) >= 2 and r[0]}
    start = next(i for i, r in enumerate(rows) if r and r[0] == "Rounds")
    header = rows[start]
    vote_cols = [i for i, h in enumerate(header) if h.endswith(" Votes")]
    table: dict[str, list[str]] = {}
    for row in rows[start + 1 :]:
        if row and row[0]:
            table[row[0]] = [row[i] for i in vote_cols]
    winners = [w.strip() for w in info["Winner(s)"].split(",")]
    return {
        "winners": winners,
        "threshold": info["Final Threshold"],
        "rounds": table,
    }
