"""Readers for the ballot files people actually publish.

- BLT (Droop, OpenSTV, Scottish councils): ``ncand nseats``, ``w c1 c2 .. 0``
  lines, ``0``, quoted names, quoted title; negative numbers on the second
  line withdraw candidates; ``a=b`` ranks two candidates equally.
- Pabulib ``.pb``: ``META`` / ``PROJECTS`` / ``VOTES`` sections, ``;``-separated.
- long CSV ``ballot_id,rank,choice`` (ranked.vote, pyrankvote): ``$UNDERVOTE``
  is a skipped rank, ``$OVERVOTE`` an overvote whose names are not given.
- RCTab: see ``rctab.py`` (the config is validated before any ballot is read).

Every error names the line or field, in French then English, e.g.
``ligne 12, champ « cost » : nombre attendu / row 12, field "cost": number expected``.
"""

from __future__ import annotations

import csv
import shlex
from collections import Counter, defaultdict
from fractions import Fraction
from pathlib import Path
from typing import Any

from .irv import OVERVOTE_MARK
from .model import (
    ApprovalProfile,
    PBInstance,
    RankedBallot,
    RankedProfile,
    Refusal,
    TallyError,
)


def _err(where_fr: str, where_en: str, fr: str, en: str) -> TallyError:
    return TallyError(f"{where_fr} : {fr} / {where_en}: {en}")


def _number(text: str, line: int, field: str) -> Fraction:
    try:
        return Fraction(text.strip().replace(",", "."))
    except (ValueError, ZeroDivisionError):
        raise _err(
            f"ligne {line}, champ « {field} »",
            f'row {line}, field "{field}"',
            "nombre attendu",
            "number expected",
        ) from None


def _whole(item: tuple[int, str], name: str, field: str) -> int:
    line, tok = item
    try:
        return int(tok)
    except ValueError:
        raise Refusal(
            field,
            tok,
            "entier attendu",
            "integer expected",
            where=f"{name} ligne/line {line}",
        ) from None


# -- BLT --------------------------------------------------------------------------


def read_blt(path: str | Path) -> RankedProfile:
    lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
    tokens: list[tuple[int, str]] = []
    for number, raw in enumerate(lines, 1):
        text = raw.split("#", 1)[0]
        for tok in shlex.split(text, posix=True) if '"' in text else text.split():
            tokens.append((number, tok))
    if len(tokens) < 2:
        raise _err("fichier", "file", "en-tête BLT manquant", "missing BLT header")
    it = iter(tokens)
    name = Path(path).name
    ncand = _whole(next(it), name, "ncand")
    nseats = _whole(next(it), name, "nseats")
    if ncand < 1 or not 1 <= nseats <= ncand:
        raise Refusal(
            "nseats",
            nseats,
            f"1 à {ncand} sièges attendus pour {ncand} candidats",
            f"1 to {ncand} seats expected for {ncand} candidates",
            where=f"{name} ligne/line 1",
        )
    withdrawn: set[int] = set()
    ballots: Counter[RankedBallot] = Counter()
    pending = list(it)
    i = 0
    while i < len(pending) and pending[i][1].startswith("-"):
        line, tok = pending[i]
        out = -_whole(pending[i], name, "withdrawn")
        if not 1 <= out <= ncand:
            raise Refusal(
                "withdrawn",
                tok,
                f"candidat retiré hors de 1..{ncand}",
                f"withdrawn candidate outside 1..{ncand}",
                where=f"{name} ligne/line {line}",
            )
        withdrawn.add(out - 1)
        i += 1
    if nseats > ncand - len(withdrawn):
        raise Refusal(
            "nseats",
            nseats,
            "plus de sièges que de candidats non retirés",
            "more seats than candidates not withdrawn",
            where=f"{name} ligne/line 1",
        )
    while i < len(pending):
        line, tok = pending[i]
        i += 1
        if tok.startswith("("):  # optional ballot id
            line, tok = pending[i]
            i += 1
        weight = _number(tok, line, "weight")
        if weight == 0:
            break
        if weight < 0:
            raise Refusal(
                "weight",
                tok,
                "poids négatif",
                "negative weight",
                where=f"{name} ligne/line {line}",
            )
        ranks: list[tuple[int, ...]] = []
        while True:
            if i >= len(pending):
                raise _err(
                    f"ligne {line}",
                    f"line {line}",
                    "bulletin sans 0 final",
                    "ballot without a closing 0",
                )
            line, tok = pending[i]
            i += 1
            if tok == "0":
                break
            if tok == "-":
                ranks.append(())
                continue
            if "=" in tok:
                raise Refusal(
                    "ballot",
                    tok,
                    "rangs ex aequo : aucune règle STV de ce moteur ne les définit",
                    "equal rankings: no STV rule of this engine defines them",
                    where=f"{name} ligne/line {line}",
                )
            try:
                rank = tuple(int(x) - 1 for x in tok.split("="))
            except ValueError:
                raise _err(
                    f"ligne {line}",
                    f"line {line}",
                    f"numéro de candidat invalide « {tok} »",
                    f'invalid candidate number "{tok}"',
                ) from None
            if any(not 0 <= c < ncand for c in rank):
                raise _err(
                    f"ligne {line}",
                    f"line {line}",
                    f"candidat {tok} hors de 1..{ncand}",
                    f"candidate {tok} outside 1..{ncand}",
                )
            if any(rank[0] in r for r in ranks):
                raise Refusal(
                    "ballot",
                    tok,
                    "candidat classé deux fois sur un bulletin",
                    "candidate ranked twice on one ballot",
                    where=f"{name} ligne/line {line}",
                )
            ranks.append(rank)
        if weight.denominator != 1:
            raise _err(
                f"ligne {line}",
                f"line {line}",
                "poids non entier",
                "non-integer weight",
            )
        ballots[tuple(ranks)] += int(weight)
    rest = [tok for _, tok in pending[i:]]
    names = rest[:ncand]
    if len(names) < ncand:
        raise _err(
            "fin du fichier",
            "end of file",
            "noms de candidats manquants",
            "candidate names missing",
        )
    title = rest[ncand] if len(rest) > ncand else ""
    return RankedProfile(names, dict(ballots), nseats, title, frozenset(withdrawn))


# -- long CSV ---------------------------------------------------------------------


def read_ranks_csv(path: str | Path, seats: int = 1) -> RankedProfile:
    names: dict[str, int] = {}
    per_ballot: dict[str, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        missing = {"ballot_id", "rank", "choice"} - set(reader.fieldnames or [])
        if missing:
            field = sorted(missing)[0]
            raise _err(
                "ligne 1",
                "row 1",
                f"colonne « {field} » manquante",
                f'column "{field}" missing',
            )
        for line, row in enumerate(reader, 2):
            rank = _number(row["rank"] or "", line, "rank")
            if rank.denominator != 1 or rank < 1:
                raise Refusal(
                    "rank",
                    row["rank"],
                    "entier de 1 ou plus attendu",
                    "integer of 1 or more expected",
                    where=f"{Path(path).name} ligne/line {line}",
                )
            if not (row["ballot_id"] or "").strip():
                raise Refusal(
                    "ballot_id",
                    row["ballot_id"],
                    "identifiant de bulletin requis",
                    "ballot id required",
                    where=f"{Path(path).name} ligne/line {line}",
                )
            choice = (row["choice"] or "").strip()
            slot = per_ballot[row["ballot_id"]][int(rank)]
            if choice == "$UNDERVOTE" or not choice:
                continue
            if choice == "$OVERVOTE":
                slot.append(OVERVOTE_MARK)
                continue
            if choice not in names:
                names[choice] = len(names)
            slot.append(names[choice])
    ballots: Counter[RankedBallot] = Counter()
    for ranks in per_ballot.values():
        top = max(ranks) if ranks else 0
        ballot = tuple(tuple(ranks.get(r, ())) for r in range(1, top + 1))
        while ballot and not ballot[-1]:
            ballot = ballot[:-1]
        ballots[ballot] += 1
    return RankedProfile(list(names), dict(ballots), seats)


# -- Pabulib ----------------------------------------------------------------------


def read_pb(path: str | Path) -> PBInstance:
    section = ""
    meta: dict[str, str] = {}
    header: list[str] | None = None
    projects: list[dict[str, str]] = []
    votes: list[tuple[int, dict[str, str]]] = []
    seen_sections: set[str] = set()
    name = Path(path).name
    with open(path, newline="", encoding="utf-8-sig") as fh:
        for line, row in enumerate(csv.reader(fh, delimiter=";"), 1):
            if not row:
                continue
            head = row[0].strip()
            if head in ("META", "PROJECTS", "VOTES") and len(row) == 1:
                if head in seen_sections:
                    raise Refusal(
                        "section",
                        head,
                        "section en double",
                        "duplicate section",
                        where=f"{name} ligne/line {line}",
                    )
                seen_sections.add(head)
                section, header = head, None
                continue
            if len(row) == 1 and head.isupper() and head.isalpha():
                raise Refusal(
                    "section",
                    head,
                    "section inconnue (META, PROJECTS, VOTES)",
                    "unknown section (META, PROJECTS, VOTES)",
                    where=f"{name} ligne/line {line}",
                )
            if not section:
                raise Refusal(
                    "section",
                    head,
                    "donnée avant toute section",
                    "data before any section",
                    where=f"{name} ligne/line {line}",
                )
            if section == "META":
                if row[:2] == ["key", "value"]:
                    continue
                meta[head] = row[1].strip() if len(row) > 1 else ""
            elif header is None:
                header = [h.strip() for h in row]
            elif section == "PROJECTS":
                projects.append(
                    dict(zip(header, row, strict=False)) | {"_line": str(line)}
                )
            elif section == "VOTES":
                votes.append((line, dict(zip(header, row, strict=False))))
    if "budget" not in meta:
        raise _err(
            "section META", "META section", "« budget » manquant", '"budget" missing'
        )
    budget = _number(meta["budget"], 0, "budget")
    if budget <= 0:
        raise Refusal(
            "budget",
            meta["budget"],
            "budget positif attendu",
            "positive budget expected",
            where=f"{name} META",
        )
    for p in projects:
        if not (p.get("project_id") or "").strip():
            raise Refusal(
                "project_id",
                p.get("project_id"),
                "identifiant requis",
                "id required",
                where=f"{name} ligne/line {p['_line']}",
            )
    ids = [p["project_id"].strip() for p in projects]
    index = {pid: i for i, pid in enumerate(ids)}
    if len(index) != len(ids):
        dup = next(pid for pid in ids if ids.count(pid) > 1)
        raise Refusal(
            "project_id",
            dup,
            "projet en double",
            "duplicate project",
            where=f"{name} PROJECTS",
        )
    costs = [_number(p.get("cost", ""), int(p["_line"]), "cost") for p in projects]
    for p, cost in zip(projects, costs, strict=True):
        if cost < 0:
            raise Refusal(
                "cost",
                p.get("cost"),
                "coût négatif",
                "negative cost",
                where=f"{name} ligne/line {p['_line']}",
            )
    for key, actual in (("num_projects", len(projects)), ("num_votes", len(votes))):
        if key in meta and _number(meta[key], 0, key) != actual:
            raise Refusal(
                key,
                meta[key],
                f"le fichier en contient {actual}",
                f"the file holds {actual}",
                where=f"{name} META",
            )
    kind = meta.get("vote_type", "approval")
    if kind not in ("approval", "cumulative", "scoring", "ordinal"):
        raise Refusal(
            "vote_type",
            kind,
            "type de vote inconnu (approval, cumulative, scoring, ordinal)",
            "unknown vote type (approval, cumulative, scoring, ordinal)",
            where=f"{name} META",
        )
    if kind == "ordinal":
        raise Refusal(
            "vote_type",
            kind,
            "les votes ordinaux n'ont pas de règle de budget ici (les compter en "
            "points serait une règle inventée)",
            "ordinal votes have no budgeting rule here (counting them as points "
            "would be an invented rule)",
            where=f"{name} META",
        )
    low = (
        int(_number(meta["min_length"], 0, "min_length"))
        if meta.get("min_length")
        else None
    )
    high = (
        int(_number(meta["max_length"], 0, "max_length"))
        if meta.get("max_length")
        else None
    )
    voters: set[str] = set()
    ballots: list[Any] = []
    for line, vote_row in votes:
        chosen = [
            v.strip() for v in (vote_row.get("vote") or "").split(",") if v.strip()
        ]
        voter = (vote_row.get("voter_id") or "").strip()
        if voter and voter in voters:
            raise Refusal(
                "voter_id",
                voter,
                "électeur en double",
                "duplicate voter",
                where=f"{name} ligne/line {line}",
            )
        voters.add(voter)
        if len(set(chosen)) != len(chosen):
            raise Refusal(
                "vote",
                vote_row.get("vote"),
                "projet choisi deux fois",
                "project chosen twice",
                where=f"{name} ligne/line {line}",
            )
        if (low is not None and len(chosen) < low) or (
            high is not None and len(chosen) > high
        ):
            key = (
                "min_length" if low is not None and len(chosen) < low else "max_length"
            )
            raise Refusal(
                key,
                meta[key],
                f"le bulletin choisit {len(chosen)} projets",
                f"the ballot chooses {len(chosen)} projects",
                where=f"{name} ligne/line {line}",
            )
        for pid in chosen:
            if pid not in index:
                raise _err(
                    f"ligne {line}, champ « vote »",
                    f'row {line}, field "vote"',
                    f"projet inconnu {pid}",
                    f"unknown project {pid}",
                )
        if kind == "approval":
            ballots.append([index[p] for p in chosen])
        else:
            points = [v for v in (vote_row.get("points") or "").split(",") if v.strip()]
            if kind == "ordinal" and not points:
                points = [str(len(chosen) - k) for k in range(len(chosen))]
            if len(points) != len(chosen):
                raise _err(
                    f"ligne {line}, champ « points »",
                    f'row {line}, field "points"',
                    "autant de points que de projets attendus",
                    "as many points as projects expected",
                )
            ballot: dict[int, int] = {}
            for pid, pts in zip(chosen, points, strict=True):
                ballot[index[pid]] = int(_number(pts, line, "points"))
            ballots.append(ballot)
    profile = ApprovalProfile.from_ballots(
        ids, ballots, kind="approval" if kind == "approval" else "cumulative"
    )
    selected = None
    if projects and "selected" in projects[0]:
        selected = [
            p["project_id"] for p in projects if p.get("selected", "").strip() == "1"
        ]
    return PBInstance(ids, costs, budget, profile, meta, selected)


# -- RCTab ------------------------------------------------------------------------
# The RCTab reader validates the whole config first: see ``rctab.py``.
