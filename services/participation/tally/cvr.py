"""Cast-vote records as the vendors export them, read the way RCTab reads them.

Each reader returns the ballots of one ``cvrFileSources`` entry as
``(where, ranks)`` pairs: ``where`` locates the ballot for a person
("CvrExport.json, Sessions[3]"), ``ranks`` maps a rank to the raw marks found
there (candidate names or codes, or :data:`UWI` for an undeclared write-in),
e.g.::

    ("cvr.xlsx ligne/row 7", {1: ["Alice"], 2: ["Bob", "Carol"]})

The RCTab reader (``rctab.py``) then maps marks to declared candidates and
applies the rules. A file RCTab would refuse (missing element, unknown id,
malformed cell) is refused here with a :class:`Refusal` naming the file, the
row or element and the reason, in French and English; nothing is guessed.

Formats, after RCTab's readers (github.com/BrightSpots/rcv):

- NIST SP 1500-103 CDF in XML (``CommonDataFormatReader.parseXml``), parsed
  with ``defusedxml`` (no DTD, no entity expansion, no external reference);
- ES&S ``.xlsx`` (``StreamingCvrReader``), first worksheet, one row per ballot,
  one column per rank from ``firstVoteColumnIndex``;
- Dominion JSON export (``DominionCvrReader``): a folder with the manifests
  and ``CvrExport.json`` (or ``CvrExport_1.json``, ``_2`` ...);
- Clear Ballot CSV (``ClearBallotCvrReader``): ``RCV:contest:rank:rule:choice:party``
  choice columns from the eleventh column, 1 for a mark;
- Hart (``HartCvrReader``): a folder of one XML file per ballot, each option's
  ``Value`` a string of 0/1 digits, one per rank.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from .model import Refusal

# The mark of an undeclared write-in, distinct from any candidate's name.
UWI = "\x00undeclared-write-in"

Ranks = dict[int, list[str]]
Rows = list[tuple[str, Ranks]]


def _bad(file: str, where: str | None, fr: str, en: str, setting: str) -> Refusal:
    return Refusal(setting, file, fr, en, where)


def _rank(value: Any, file: str, where: str, setting: str) -> int:
    """A rank as RCTab's ``Integer.parseInt`` would read it, and at least 1."""
    try:
        if isinstance(value, bool):
            raise ValueError
        rank = int(str(value).strip())
    except ValueError:
        raise _bad(
            file,
            where,
            f"rang illisible « {value} »",
            f'unreadable rank "{value}"',
            setting,
        ) from None
    if rank < 1:
        raise _bad(
            file, where, f"rang {rank} inférieur à 1", f"rank {rank} below 1", setting
        )
    return rank


# -- XML ----------------------------------------------------------------------


def _parse_xml(path: Path, setting: str, label: str) -> Element:
    """Parse with defusedxml: a DTD, an entity or an external reference is refused."""
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import parse

    try:
        return parse(str(path), forbid_dtd=True).getroot()
    except DefusedXmlException as exc:
        raise _bad(
            label,
            None,
            f"XML refusé : DTD ou entité interdite ({type(exc).__name__})",
            f"XML refused: forbidden DTD or entity ({type(exc).__name__})",
            setting,
        ) from None
    except ParseError as exc:
        line, col = exc.position
        raise _bad(
            label,
            f"ligne/line {line}, colonne/column {col}",
            "XML mal formé",
            "malformed XML",
            setting,
        ) from None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _kids(node: Element, name: str) -> list[Element]:
    return [c for c in node if _local(c.tag) == name]


def _kid(node: Element, name: str) -> Element | None:
    for c in node:
        if _local(c.tag) == name:
            return c
    return None


def _text(node: Element, name: str) -> str | None:
    child = _kid(node, name)
    if child is None:
        return None
    return (child.text or "").strip()


def _attr(node: Element, name: str) -> str | None:
    for key, value in node.attrib.items():
        if _local(key) == name:
            return value
    return None


# -- NIST CDF (XML) -------------------------------------------------------------


def read_cdf_xml(path: Path, source: dict[str, Any], prefix: str) -> Rows:
    """NIST 1500-103 XML, as RCTab's ``CommonDataFormatReader.parseXml``.

    The contest is the ``Contest`` whose ``Name`` is ``contestId``; a CVR with
    no current snapshot or no ``CVRContest`` for it is not a ballot of this
    contest (RCTab skips it too).
    """
    setting = f"{prefix}filePath"
    name = path.name
    root = _parse_xml(path, setting, name)
    if _local(root.tag) != "CastVoteRecordReport":
        raise _bad(
            name,
            _local(root.tag),
            "élément racine CastVoteRecordReport attendu",
            "root element CastVoteRecordReport expected",
            setting,
        )
    missing = [
        key
        for key in (
            "GpUnit",
            "CVR",
            "Election",
            "ReportGeneratingDeviceIds",
            "ReportingDevice",
            "Party",
        )
        if _kid(root, key) is None
    ]
    if missing:
        raise _bad(
            name,
            None,
            "éléments requis absents : " + ", ".join(missing),
            "required elements missing: " + ", ".join(missing),
            setting,
        )
    wanted = str(source.get("contestId") or "").strip()

    def unique(table: dict[str, Any], key: str | None, value: Any, what: str) -> None:
        if key is None:
            raise _bad(name, what, "ObjectId manquant", "ObjectId missing", setting)
        if key in table:
            raise _bad(
                name,
                f"{what} {key}",
                "identifiant en double",
                "duplicate identifier",
                setting,
            )
        table[key] = value

    contest: Element | None = None
    candidates: dict[str, str] = {}
    for election in _kids(root, "Election"):
        for cand in _kids(election, "Candidate"):
            unique(
                candidates, _attr(cand, "ObjectId"), _text(cand, "Name"), "Candidate"
            )
        if contest is None:
            contest = next(
                (c for c in _kids(election, "Contest") if _text(c, "Name") == wanted),
                None,
            )
    if contest is None:
        raise Refusal(
            f"{prefix}contestId",
            wanted,
            "aucun Contest de ce Name dans le fichier",
            "no Contest with this Name in the file",
            name,
        )
    contest_id = _attr(contest, "ObjectId")
    selections: dict[str, Element] = {}
    for sel in _kids(contest, "ContestSelection"):
        unique(selections, _attr(sel, "ObjectId"), sel, "ContestSelection")
    units: dict[str, str | None] = {}
    for unit in _kids(root, "GpUnit"):
        unique(units, _attr(unit, "ObjectId"), _text(unit, "Name"), "GpUnit")

    out: Rows = []
    for n, cvr in enumerate(_kids(root, "CVR"), 1):
        where = f"CVR {n}" + (
            f" ({_text(cvr, 'UniqueId')})" if _text(cvr, "UniqueId") else ""
        )
        current = _text(cvr, "CurrentSnapshotId")
        snap = next(
            (s for s in _kids(cvr, "CVRSnapshot") if _attr(s, "ObjectId") == current),
            None,
        )
        cvr_contest = (
            None
            if snap is None
            else next(
                (
                    c
                    for c in _kids(snap, "CVRContest")
                    if _text(c, "ContestId") == contest_id
                ),
                None,
            )
        )
        if cvr_contest is None:
            continue
        ranks: Ranks = defaultdict(list)
        for choice in _kids(cvr_contest, "CVRContestSelection"):
            if _text(choice, "Status") == "needs-adjudication":
                continue
            sid = _text(choice, "ContestSelectionId")
            picked = selections.get(sid or "")
            if picked is None:
                raise _bad(
                    name,
                    where,
                    f"ContestSelection « {sid} » inconnue",
                    f'unknown ContestSelection "{sid}"',
                    setting,
                )
            if _text(picked, "IsWriteIn") == "true":
                mark = UWI
            else:
                ids = " ".join(
                    (c.text or "") for c in _kids(picked, "CandidateIds")
                ).split()
                if len(ids) != 1:
                    raise _bad(
                        name,
                        f"ContestSelection {sid}",
                        f"{len(ids)} CandidateIds, un seul attendu",
                        f"{len(ids)} CandidateIds, exactly one expected",
                        setting,
                    )
                if ids[0] not in candidates or candidates[ids[0]] is None:
                    raise _bad(
                        name,
                        f"ContestSelection {sid}",
                        f"Candidate « {ids[0]} » inconnu ou sans Name",
                        f'Candidate "{ids[0]}" unknown or without a Name',
                        setting,
                    )
                mark = candidates[ids[0]]
            if _kid(choice, "Rank") is not None:
                ranks[_rank(_text(choice, "Rank"), name, where, setting)].append(mark)
                continue
            for position in _kids(choice, "SelectionPosition"):
                if _kid(position, "CVRWriteIn") is not None:
                    mark = UWI  # RCTab keeps it for the later positions too
                if _text(position, "HasIndication") == "no":
                    continue
                allocable = _text(position, "IsAllocable")
                if allocable is None:
                    raise _bad(
                        name,
                        where,
                        "SelectionPosition sans IsAllocable",
                        "SelectionPosition without IsAllocable",
                        setting,
                    )
                if allocable == "no":
                    continue
                if _kid(position, "Rank") is None:
                    raise _bad(
                        name,
                        where,
                        "SelectionPosition sans Rank",
                        "SelectionPosition without Rank",
                        setting,
                    )
                ranks[_rank(_text(position, "Rank"), name, where, setting)].append(mark)
        unit_id = _text(cvr, "BallotStyleUnitId")
        if unit_id is not None and unit_id not in units:
            raise _bad(
                name,
                where,
                f"GpUnit « {unit_id} » inconnu",
                f'unknown GpUnit "{unit_id}"',
                setting,
            )
        out.append((where, ranks))
    return out


# -- ES&S (.xlsx) -----------------------------------------------------------------


def _java_split(text: str, sep: str) -> list[str]:
    """``String.split`` with a literal separator: trailing empty strings dropped."""
    parts = text.split(sep)
    while len(parts) > 1 and parts[-1] == "":
        parts.pop()
    if parts == [""]:
        return [""]
    return parts


def _cell_text(value: Any, file: str, where: str, setting: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        raise _bad(file, where, "cellule booléenne", "boolean cell", setting)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    raise _bad(
        file,
        where,
        f"cellule de type {type(value).__name__} : texte attendu",
        f"cell of type {type(value).__name__}: text expected",
        setting,
    )


def read_ess(
    path: Path,
    source: dict[str, Any],
    prefix: str,
    *,
    first_col: int,
    first_row: int,
    id_col: int | None,
    max_rankings: int,
) -> Rows:
    """ES&S spreadsheet, as RCTab's ``StreamingCvrReader``.

    Rank ``r`` is the cell ``firstVoteColumnIndex + r - 1`` (1-based), for
    ``r`` up to ``maxRankingsAllowed``; a cell split by ``overvoteDelimiter``
    is an overvote; ``skippedRankLabel`` marks a skipped rank,
    ``undeclaredWriteInLabel`` a write-in, and with
    ``treatBlankAsUndeclaredWriteIn`` an empty rank cell is a write-in too.
    A row without any cell is not a ballot (Excel does not store it).
    """
    from zipfile import BadZipFile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    setting = f"{prefix}filePath"
    name = path.name
    delimiter = str(source.get("overvoteDelimiter") or "")
    skipped = str(source.get("skippedRankLabel") or "").strip()
    write_in = str(source.get("undeclaredWriteInLabel") or "").strip()
    blank_is_uwi = bool(source.get("treatBlankAsUndeclaredWriteIn"))
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, BadZipFile, KeyError, OSError, ValueError) as exc:
        raise _bad(
            name,
            None,
            f"classeur .xlsx illisible ({type(exc).__name__})",
            f"unreadable .xlsx workbook ({type(exc).__name__})",
            setting,
        ) from None
    try:
        if not book.worksheets:
            raise _bad(name, None, "aucune feuille", "no worksheet", setting)
        out: Rows = []
        for number, row in enumerate(book.worksheets[0].iter_rows(values_only=True), 1):
            if number < first_row or all(v is None for v in row):
                continue
            where = f"ligne/row {number}"
            if id_col is not None:
                if id_col > len(row) or row[id_col - 1] is None:
                    raise _bad(
                        name,
                        f"ligne/row {number}",
                        f"identifiant absent (colonne {id_col}, idColumnIndex)",
                        f"identifier missing (column {id_col}, idColumnIndex)",
                        setting,
                    )
                where += f" ({_cell_text(row[id_col - 1], name, where, setting)})"
            ranks: Ranks = defaultdict(list)
            for rank in range(1, max_rankings + 1):
                col = first_col + rank - 1
                value = row[col - 1] if col <= len(row) else None
                if value is None:
                    if blank_is_uwi:
                        ranks[rank].append(UWI)
                    continue
                text = _cell_text(value, name, where, setting).strip()
                pieces = _java_split(text, delimiter) if delimiter else [text]
                for piece in pieces:
                    piece = piece.strip()
                    if len(pieces) > 1 and (piece == "" or piece == skipped):
                        raise _bad(
                            name,
                            f"ligne/row {number}, rang/rank {rank}",
                            "une cellule à plusieurs candidats (overvoteDelimiter) "
                            "contient un choix vide ou le libellé de rang sauté",
                            "a multi-candidate cell (overvoteDelimiter) holds a blank "
                            "or the skipped-rank label",
                            setting,
                        )
                    if skipped and piece == skipped:
                        continue
                    if piece == "":
                        raise _bad(
                            name,
                            f"ligne/row {number}, rang/rank {rank}",
                            "cellule présente mais vide (RCTab la lirait comme un "
                            "candidat sans nom)",
                            "cell present but blank (RCTab would read it as a "
                            "nameless candidate)",
                            setting,
                        )
                    ranks[rank].append(UWI if write_in and piece == write_in else piece)
            out.append((where, ranks))
        return out
    finally:
        book.close()


# -- Dominion (JSON export) -------------------------------------------------------


def _json_file(path: Path, setting: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as exc:
        raise _bad(
            path.name,
            f"ligne/line {exc.lineno}",
            f"JSON invalide : {exc.msg}",
            f"invalid JSON: {exc.msg}",
            setting,
        ) from None


def _manifest(folder: Path, file: str, setting: str, required: bool = True):
    path = folder / file
    if not path.is_file():
        if not required:
            return None
        raise _bad(
            file,
            str(folder.name),
            "manifeste absent du dossier",
            "manifest missing from the folder",
            setting,
        )
    data = _json_file(path, setting)
    entries = data.get("List") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise _bad(
            file, None, "liste « List » attendue", '"List" array expected', setting
        )
    return entries


def read_dominion(folder: Path, source: dict[str, Any], prefix: str) -> Rows:
    """Dominion's JSON export, as RCTab's ``DominionCvrReader``.

    ``filePath`` is the export folder. A session whose ``Original`` is not
    current is read from ``Modified`` (the adjudicated ballot) and skipped
    when there is none; ambiguous marks are ignored; every card holding the
    contest is a ballot. Marks are Dominion candidate ids, matched to the
    config's candidate ``code``.
    """
    setting = f"{prefix}filePath"
    if not folder.is_dir():
        raise _bad(
            folder.name,
            None,
            "dossier d'export Dominion attendu",
            "Dominion export folder expected",
            setting,
        )
    wanted = str(source.get("contestId") or "").strip()
    write_in = str(source.get("undeclaredWriteInLabel") or "").strip()

    def table(entries: list[Any], file: str, key: str = "Id") -> dict[str, Any]:
        out: dict[str, Any] = {}
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict) or entry.get(key) is None:
                raise _bad(
                    file,
                    f"List[{i}]",
                    f"« {key} » manquant",
                    f'"{key}" missing',
                    setting,
                )
            out[str(entry[key])] = entry
        return out

    precincts_raw = _manifest(folder, "PrecinctManifest.json", setting, required=False)
    precincts = (
        None if precincts_raw is None else table(precincts_raw, "PrecinctManifest.json")
    )
    portions = table(
        _manifest(folder, "PrecinctPortionManifest.json", setting),
        "PrecinctPortionManifest.json",
    )
    contests = table(
        _manifest(folder, "ContestManifest.json", setting), "ContestManifest.json"
    )
    codes: dict[str, set[str]] = defaultdict(set)
    for i, cand in enumerate(_manifest(folder, "CandidateManifest.json", setting)):
        if (
            not isinstance(cand, dict)
            or cand.get("Id") is None
            or cand.get("ContestId") is None
        ):
            raise _bad(
                "CandidateManifest.json",
                f"List[{i}]",
                "« Id » ou « ContestId » manquant",
                '"Id" or "ContestId" missing',
                setting,
            )
        codes[str(cand["ContestId"])].add(str(cand["Id"]))

    files = [folder / "CvrExport.json"]
    if not files[0].is_file():
        files = []
        k = 1
        while (folder / f"CvrExport_{k}.json").is_file():
            files.append(folder / f"CvrExport_{k}.json")
            k += 1
    if not files:
        raise _bad(
            folder.name,
            None,
            "ni CvrExport.json ni CvrExport_1.json dans le dossier",
            "neither CvrExport.json nor CvrExport_1.json in the folder",
            setting,
        )
    out: Rows = []
    for path in files:
        data = _json_file(path, setting)
        sessions = data.get("Sessions") if isinstance(data, dict) else None
        if not isinstance(sessions, list):
            raise _bad(
                path.name, None, "« Sessions » attendu", '"Sessions" expected', setting
            )
        for s, session in enumerate(sessions):
            where = f"{path.name}, Sessions[{s}]"
            try:
                _dominion_session(
                    session,
                    where,
                    wanted,
                    write_in,
                    precincts,
                    portions,
                    contests,
                    codes,
                    out,
                    path.name,
                    setting,
                )
            except (KeyError, TypeError, AttributeError, ValueError) as exc:
                raise _bad(
                    path.name,
                    f"Sessions[{s}]",
                    f"session mal formée ({type(exc).__name__}: {exc})",
                    f"malformed session ({type(exc).__name__}: {exc})",
                    setting,
                ) from None
    if not out:
        raise Refusal(
            f"{prefix}contestId",
            wanted,
            "aucun bulletin de ce concours dans l'export",
            "no ballot of this contest in the export",
            folder.name,
        )
    return out


def _dominion_session(
    session: dict[str, Any],
    where: str,
    wanted: str,
    write_in: str,
    precincts: dict[str, Any] | None,
    portions: dict[str, Any],
    contests: dict[str, Any],
    codes: dict[str, set[str]],
    out: Rows,
    file: str,
    setting: str,
) -> None:
    for key in ("TabulatorId", "BatchId", "RecordId"):
        if session[key] is None:
            raise KeyError(key)
    where = (
        f"{where} (tabulator {session['TabulatorId']}, batch {session['BatchId']}, "
        f"record {session['RecordId']})"
    )
    data = session["Original"]
    if data["IsCurrent"] is not True:
        if data["IsCurrent"] is not False:
            raise ValueError("IsCurrent")
        if "Modified" not in session:
            return  # no adjudicated ballot: RCTab skips it too
        data = session["Modified"]
    precinct = data.get("PrecinctId")
    if precinct is not None and (precincts is None or str(precinct) not in precincts):
        raise _bad(
            file,
            where,
            f"PrecinctId {precinct} absent de PrecinctManifest.json",
            f"PrecinctId {precinct} not in PrecinctManifest.json",
            setting,
        )
    portion = data.get("PrecinctPortionId")
    if portion is not None and str(portion) not in portions:
        raise _bad(
            file,
            where,
            f"PrecinctPortionId {portion} absent de PrecinctPortionManifest.json",
            f"PrecinctPortionId {portion} not in PrecinctPortionManifest.json",
            setting,
        )
    if data["BallotTypeId"] is None:
        raise KeyError("BallotTypeId")
    cards = data["Cards"] if "Cards" in data else [data]
    for card in cards:
        for contest in card["Contests"]:
            contest_id = str(contest["Id"])
            if contest_id != wanted:
                continue
            if contest_id not in contests:
                raise _bad(
                    file,
                    where,
                    f"concours {contest_id} absent de ContestManifest.json",
                    f"contest {contest_id} not in ContestManifest.json",
                    setting,
                )
            ranks: Ranks = defaultdict(list)
            for mark in contest["Marks"]:
                ambiguous = mark["IsAmbiguous"]
                if not isinstance(ambiguous, bool):
                    raise ValueError("IsAmbiguous")
                if ambiguous:
                    continue
                code = str(mark["CandidateId"])
                rank = _rank(mark["Rank"], file, where, setting)
                if write_in and code == write_in:
                    ranks[rank].append(UWI)
                    continue
                if code not in codes.get(contest_id, set()):
                    raise _bad(
                        file,
                        where,
                        f"candidat {code} absent de CandidateManifest.json pour le "
                        f"concours {contest_id}",
                        f"candidate {code} not in CandidateManifest.json for contest "
                        f"{contest_id}",
                        setting,
                    )
                ranks[rank].append(code)
            out.append((where, ranks))


# -- Clear Ballot (CSV) -----------------------------------------------------------

_CHOICES_BEGIN = 10  # RowNumber, BoxID, ..., Remade, then the choice columns


def read_clear_ballot(
    path: Path, source: dict[str, Any], prefix: str, *, max_rankings: int
) -> Rows:
    """Clear Ballot's RCV export, as RCTab's ``ClearBallotCvrReader``.

    The header's choice columns read ``RCV:contest:rank:rule:choice:party``;
    those of ``contestId`` are kept, and a row's 1 in such a column ranks that
    choice at that rank. Every row is a ballot (an undervote if unmarked).
    Fields are split on commas as RCTab does (no quoting).
    """
    setting = f"{prefix}filePath"
    name = path.name
    wanted = str(source.get("contestId") or "").strip()
    write_in = str(source.get("undeclaredWriteInLabel") or "").strip()
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise _bad(
            name,
            f"octet/byte {exc.start}",
            "fichier non UTF-8",
            "file is not UTF-8",
            setting,
        ) from None
    lines = re.split(r"\r\n|\r|\n", text)
    if lines and lines[-1] == "":
        lines.pop()
    if not lines:
        raise _bad(name, None, "aucune ligne d'en-tête", "no header row", setting)
    header = _java_split(lines[0], ",")
    if len(header) < _CHOICES_BEGIN:
        raise _bad(
            name,
            "ligne/line 1",
            "aucune colonne de choix",
            "no choice columns",
            setting,
        )
    columns: dict[int, tuple[int, str]] = {}
    for col in range(_CHOICES_BEGIN, len(header)):
        fields = _java_split(header[col], ":")
        place = f"ligne/line 1, colonne/column {col + 1}"
        if len(fields) != 6:
            raise _bad(
                name,
                place,
                f"en-tête de choix « {header[col]} » : 6 champs séparés par « : » attendus",
                f'choice header "{header[col]}": 6 fields separated by ":" expected',
                setting,
            )
        if fields[1] != wanted:
            continue
        rank = _rank(fields[2], name, place, setting)
        if rank > max_rankings:
            raise Refusal(
                "rules.maxRankingsAllowed",
                max_rankings,
                f"la colonne porte le rang {rank}, au-delà du maximum "
                "(RCTab refuse le fichier)",
                f"the column holds rank {rank}, above the maximum "
                "(RCTab refuses the file)",
                f"{name} {place}",
            )
        choice = fields[4]
        columns[col] = (rank, UWI if write_in and choice == write_in else choice)
    if not columns:
        raise Refusal(
            f"{prefix}contestId",
            wanted,
            "aucune colonne de choix pour ce concours",
            "no choice column for this contest",
            name,
        )
    out: Rows = []
    for number, line in enumerate(lines[1:], 2):
        cells = _java_split(line, ",")
        ranks: Ranks = defaultdict(list)
        for col, (rank, choice) in columns.items():
            place = f"ligne/line {number}, colonne/column {col + 1}"
            if col >= len(cells):
                raise _bad(name, place, "cellule manquante", "missing cell", setting)
            cell = cells[col].strip()
            if cell not in ("0", "1"):
                raise _bad(
                    name,
                    place,
                    f"« {cells[col]} » : 0 ou 1 attendu",
                    f'"{cells[col]}": 0 or 1 expected',
                    setting,
                )
            if cell == "1":
                ranks[rank].append(choice)
        ballot = cells[3] if len(cells) > 3 else ""
        out.append((f"ligne/line {number} ({ballot})", ranks))
    return out


# -- Hart (XML per ballot) -------------------------------------------------------


def read_hart(folder: Path, source: dict[str, Any], prefix: str) -> Rows:
    """Hart's export, as RCTab's ``HartCvrReader``: one XML file per ballot.

    Each ``Option`` of the ``Contest`` whose ``Id`` is ``contestId`` has a
    ``Value`` such as ``0100``: digit ``r`` is 1 when the option is ranked
    ``r`` (two 1s in one option rank it twice; 1s of two options at the same
    digit are an overvote). The option's ``Id`` is the candidate.
    """
    setting = f"{prefix}filePath"
    if not folder.is_dir():
        raise _bad(
            folder.name,
            None,
            "dossier de fichiers XML Hart attendu",
            "folder of Hart XML files expected",
            setting,
        )
    wanted = str(source.get("contestId") or "").strip()
    write_in = str(source.get("undeclaredWriteInLabel") or "").strip()
    out: Rows = []
    files = sorted(
        p for p in folder.iterdir() if p.is_file() and p.name.lower().endswith("xml")
    )
    for path in files:
        root = _parse_xml(path, setting, path.name)
        split = _kid(root, "PrecinctSplit")
        contests = _kid(root, "Contests")
        for need, node in (("PrecinctSplit", split), ("Contests", contests)):
            if node is None:
                raise _bad(
                    path.name,
                    _local(root.tag),
                    f"élément {need} absent",
                    f"element {need} missing",
                    setting,
                )
        assert contests is not None
        guid = _text(root, "CvrGuid") or ""
        for c, contest in enumerate(_kids(contests, "Contest"), 1):
            contest_id = _text(contest, "Id")
            if contest_id is None:
                raise _bad(
                    path.name,
                    f"Contest {c}",
                    "Id absent",
                    "Id missing",
                    setting,
                )
            if contest_id != wanted:
                continue
            where = f"{path.name} ({guid})" if guid else path.name
            ranks: Ranks = defaultdict(list)
            options = _kid(contest, "Options")
            for o, option in enumerate(
                [] if options is None else _kids(options, "Option"), 1
            ):
                place = f"Contest {contest_id}, Option {o}"
                option_id = _text(option, "Id")
                value = _text(option, "Value")
                if option_id is None or value is None:
                    raise _bad(
                        path.name,
                        place,
                        "Id ou Value absent",
                        "Id or Value missing",
                        setting,
                    )
                if set(value) - {"0", "1"}:
                    raise _bad(
                        path.name,
                        place,
                        f"Value « {value} » : chiffres 0 et 1 attendus",
                        f'Value "{value}": digits 0 and 1 expected',
                        setting,
                    )
                mark = UWI if write_in and option_id == write_in else option_id
                for rank, digit in enumerate(value, 1):
                    if digit == "1":
                        ranks[rank].append(mark)
            out.append((where, ranks))
    return out
