"""Vendors' cast-vote records are read as RCTab reads them, or refused by name.

Each test writes by hand, in ``tmp_path``, the six ballots below in one
vendor's format (laid out as RCTab's readers expect it), and checks that the
count is the one RCTab gives for them:

    A>B, A, B>C, C>B, C>B, and an overvote A+B at rank 1

With ``exhaustImmediately``: round 1 A 2, B 1, C 2 (one ballot inactive by
overvote, threshold 3 of the 5 continuing); B is eliminated, B>C goes to C,
and C wins with 3 in round 2.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from services.participation.tally import Refusal, count, read_rctab

from .test_tally_rctab_settings import BASE

CANDIDATES = [("A", "1"), ("B", "2"), ("C", "3")]
BALLOTS: list[list[list[str]]] = [
    [["A"], ["B"]],
    [["A"]],
    [["B"], ["C"]],
    [["C"], ["B"]],
    [["C"], ["B"]],
    [["A", "B"]],
]


def write_config(tmp_path: Path, source: dict, **rules) -> Path:
    config = copy.deepcopy(BASE)
    config["cvrFileSources"] = [
        {
            "contestId": "",
            "firstVoteColumnIndex": "",
            "firstVoteRowIndex": "",
            "idColumnIndex": "",
            "precinctColumnIndex": "",
            "overvoteDelimiter": "",
            "overvoteLabel": "",
            "skippedRankLabel": "",
            "undeclaredWriteInLabel": "",
            "treatBlankAsUndeclaredWriteIn": False,
            **source,
        }
    ]
    config["candidates"] = [
        {"name": n, "code": code, "excluded": False, "aliases": []}
        for n, code in CANDIDATES
    ]
    config["rules"].update({"maxRankingsAllowed": "3", **rules})
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def assert_c_wins_the_six_ballots(path: Path) -> None:
    result = count("irv", read_rctab(path))
    first = result.rounds[0]
    assert first.counts == {"A": 2, "B": 1, "C": 2}
    assert first.inactive["overvotes"] == 1
    assert first.candidates == ["B"]
    assert result.winners == ["C"] and len(result.rounds) == 2


def refusal(path: Path) -> Refusal:
    with pytest.raises(Refusal) as info:
        count("irv", read_rctab(path))
    exc = info.value
    assert exc.message("fr") != exc.message("en")
    return exc


# -- ES&S .xlsx -------------------------------------------------------------------


def ess_file(tmp_path: Path, rows: list[list]) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["Cast Vote Record", "Precinct", "Ballot Style", "R1", "R2", "R3"])
    for row in rows:
        sheet.append(row)
    book.save(tmp_path / "cvr.xlsx")


ESS = {
    "filePath": "cvr.xlsx",
    "provider": "ess",
    "firstVoteColumnIndex": "4",
    "firstVoteRowIndex": "2",
    "idColumnIndex": "1",
    "precinctColumnIndex": "2",
    "overvoteDelimiter": "|",
    "skippedRankLabel": "undervote",
}


def test_ess_spreadsheet_ranks_columns_from_first_vote_column_with_delimited_overvotes(
    tmp_path,
):
    ess_file(
        tmp_path,
        [
            [1, "P1", "S1", "A", "B", None],
            [2, "P1", "S1", "A", "undervote", "undervote"],
            [3, "P1", "S1", "B", "C", None],
            [4, "P2", "S1", "C", "B", None],
            [5, "P2", "S1", "C", "B", None],
            [6, "P2", "S1", "A|B", None, None],
        ],
    )
    assert_c_wins_the_six_ballots(write_config(tmp_path, ESS))


def test_ess_blank_rank_cells_are_write_ins_only_with_treat_blank_as_undeclared(
    tmp_path,
):
    ess_file(tmp_path, [[1, "P1", "S1", "A", None, None], [2, "P1", "S1", None, "B"]])
    source = {**ESS, "treatBlankAsUndeclaredWriteIn": True}
    result = count("irv", read_rctab(write_config(tmp_path, source)))
    # ballot 2 ranks a write-in first: it is counted for it, and the write-in
    # is eliminated first, as RCTab does
    assert result.rounds[0].counts["Undeclared Write-ins"] == 1
    assert result.rounds[0].candidates == ["Undeclared Write-ins"]
    plain = count("irv", read_rctab(write_config(tmp_path, ESS)))
    assert "Undeclared Write-ins" not in plain.rounds[0].counts


def test_ess_row_without_its_id_cell_is_refused_with_row_and_setting(tmp_path):
    ess_file(tmp_path, [[1, "P1", "S1", "A"], [None, "P1", "S1", "B"]])
    exc = refusal(write_config(tmp_path, ESS))
    assert exc.setting == "cvrFileSources[0].filePath" and exc.value == "cvr.xlsx"
    assert "row 3" in exc.message("en") and "idColumnIndex" in exc.message("en")


def test_ess_contest_id_and_bad_delimiter_are_refused_by_name(tmp_path):
    ess_file(tmp_path, [[1, "P1", "S1", "A"]])
    exc = refusal(write_config(tmp_path, {**ESS, "contestId": "Mayor"}))
    assert exc.setting == "cvrFileSources[0].contestId"
    exc = refusal(write_config(tmp_path, {**ESS, "overvoteDelimiter": "x"}))
    assert exc.setting == "cvrFileSources[0].overvoteDelimiter"


# -- NIST CDF XML -------------------------------------------------------------------

NS = "http://itl.nist.gov/ns/voting/1500-103/v1"


def cdf_xml(ballots: list[list[list[str]]], selection: str | None = None) -> str:
    cands = "".join(
        f'<Candidate ObjectId="cand-{n}"><Name>{n}</Name></Candidate>'
        for n, _ in CANDIDATES
    )
    sels = "".join(
        f'<ContestSelection ObjectId="sel-{n}" xsi:type="CandidateSelection">'
        f"<CandidateIds>cand-{n}</CandidateIds></ContestSelection>"
        for n, _ in CANDIDATES
    )
    cvrs = []
    for i, ballot in enumerate(ballots):
        choices = []
        for rank, names in enumerate(ballot, 1):
            for n in names:
                sid = selection or f"sel-{n}"
                choices.append(
                    f"<CVRContestSelection><ContestSelectionId>{sid}"
                    "</ContestSelectionId><SelectionPosition>"
                    "<HasIndication>yes</HasIndication><IsAllocable>yes</IsAllocable>"
                    f"<NumberVotes>1</NumberVotes><Rank>{rank}</Rank>"
                    "</SelectionPosition></CVRContestSelection>"
                )
        cvrs.append(
            f"<CVR><BallotStyleUnitId>gp-1</BallotStyleUnitId>"
            f"<CurrentSnapshotId>snap-{i}</CurrentSnapshotId>"
            f'<CVRSnapshot ObjectId="snap-{i}"><CVRContest>'
            f"<ContestId>contest-1</ContestId>{''.join(choices)}</CVRContest>"
            f"<Type>original</Type></CVRSnapshot><UniqueId>b{i}</UniqueId></CVR>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<CastVoteRecordReport xmlns="{NS}" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        + "".join(cvrs)
        + f'<Election ObjectId="e-1">{cands}'
        f'<Contest ObjectId="contest-1" xsi:type="CandidateContest">'
        f"<Name>Mayor</Name>{sels}</Contest>"
        "<ElectionScopeId>gp-1</ElectionScopeId></Election>"
        "<GeneratedDate>2024-11-05T20:00:00Z</GeneratedDate>"
        '<GpUnit ObjectId="gp-1"><Name>Ward 1</Name><Type>precinct</Type></GpUnit>'
        '<Party ObjectId="p-1"><Name>None</Name></Party>'
        "<ReportGeneratingDeviceIds>dev-1</ReportGeneratingDeviceIds>"
        '<ReportingDevice ObjectId="dev-1"><Application>x</Application>'
        "</ReportingDevice><Version>1.0.0</Version></CastVoteRecordReport>"
    )


CDF = {"filePath": "cvr.xml", "provider": "cdf", "contestId": "Mayor"}


def test_cdf_xml_is_read_through_snapshots_selections_and_candidates(tmp_path):
    (tmp_path / "cvr.xml").write_text(cdf_xml(BALLOTS), encoding="utf-8")
    assert_c_wins_the_six_ballots(write_config(tmp_path, CDF))


def test_cdf_xml_with_an_entity_bomb_is_refused_not_expanded(tmp_path):
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        "<CastVoteRecordReport>&b;</CastVoteRecordReport>"
    )
    (tmp_path / "cvr.xml").write_text(bomb, encoding="utf-8")
    exc = refusal(write_config(tmp_path, CDF))
    assert exc.value == "cvr.xml" and "DTD" in exc.message("en")


def test_cdf_xml_unknown_selection_is_refused_naming_the_cvr(tmp_path):
    xml = cdf_xml(BALLOTS[:2], selection="sel-Zed")
    (tmp_path / "cvr.xml").write_text(xml, encoding="utf-8")
    exc = refusal(write_config(tmp_path, CDF))
    assert "CVR 1 (b0)" in exc.message("en") and "sel-Zed" in exc.message("en")


def test_cdf_xml_contest_is_chosen_by_its_name(tmp_path):
    (tmp_path / "cvr.xml").write_text(cdf_xml(BALLOTS), encoding="utf-8")
    exc = refusal(write_config(tmp_path, {**CDF, "contestId": "Council"}))
    assert exc.setting == "cvrFileSources[0].contestId" and exc.value == "Council"


# -- Dominion JSON export -----------------------------------------------------------


def dominion_folder(tmp_path: Path, ballots, extra_mark=None) -> None:
    folder = tmp_path / "export"
    folder.mkdir(exist_ok=True)

    def manifest(name: str, entries: list[dict]) -> None:
        (folder / name).write_text(json.dumps({"List": entries}), encoding="utf-8")

    manifest("PrecinctPortionManifest.json", [{"Description": "P1", "Id": 7}])
    manifest(
        "ContestManifest.json",
        [{"Description": "Mayor", "Id": 10, "VoteFor": 1, "NumOfRanks": 3}],
    )
    manifest(
        "CandidateManifest.json",
        [
            {"Description": n, "Id": int(code), "ContestId": 10}
            for n, code in CANDIDATES
        ],
    )
    codes = dict(CANDIDATES)
    sessions = []
    for i, ballot in enumerate(ballots):
        marks = [
            {"CandidateId": int(codes[n]), "Rank": rank, "IsAmbiguous": False}
            for rank, names in enumerate(ballot, 1)
            for n in names
        ]
        if i == 0:
            marks.append({"CandidateId": 3, "Rank": 3, "IsAmbiguous": True})
        if extra_mark and i == 1:
            marks.append(extra_mark)
        contests = [{"Id": 10, "Marks": marks}, {"Id": 11, "Marks": []}]
        card = {
            "IsCurrent": True,
            "PrecinctPortionId": 7,
            "BallotTypeId": 1,
            "Cards": [{"Id": i, "Contests": contests}],
        }
        session = {"TabulatorId": 1, "BatchId": 2, "RecordId": i, "Original": card}
        if i == 2:
            # adjudicated: the original is not current, the modified one counts
            session["Original"] = {**card, "IsCurrent": False, "Cards": []}
            session["Modified"] = card
        sessions.append(session)
    (folder / "CvrExport.json").write_text(
        json.dumps({"Version": "5.10", "Sessions": sessions}), encoding="utf-8"
    )


DOMINION = {"filePath": "export", "provider": "dominion", "contestId": "10"}


def test_dominion_export_reads_current_or_adjudicated_cards_and_skips_ambiguous_marks(
    tmp_path,
):
    dominion_folder(tmp_path, BALLOTS)
    assert_c_wins_the_six_ballots(write_config(tmp_path, DOMINION))


def test_dominion_candidate_not_in_the_manifest_is_refused_naming_the_session(
    tmp_path,
):
    mark = {"CandidateId": 99, "Rank": 2, "IsAmbiguous": False}
    dominion_folder(tmp_path, BALLOTS, extra_mark=mark)
    exc = refusal(write_config(tmp_path, DOMINION))
    assert "Sessions[1]" in exc.message("en") and "99" in exc.message("en")


def test_dominion_export_without_its_manifest_is_refused(tmp_path):
    dominion_folder(tmp_path, BALLOTS)
    (tmp_path / "export" / "ContestManifest.json").unlink()
    exc = refusal(write_config(tmp_path, DOMINION))
    assert exc.value == "ContestManifest.json"


# -- Clear Ballot CSV ---------------------------------------------------------------

CB_FIXED = (
    "RowNumber,BoxID,BoxPosition,BallotID,PrecinctID,BallotStyleID,"
    "PrecinctStyleName,ScanComputerName,Status,Remade"
)


def clear_ballot_file(tmp_path: Path, ballots, bad_cell: str | None = None) -> None:
    columns = [
        (rank, n) for rank in (1, 2, 3) for n, _ in CANDIDATES
    ]  # RCV choice columns of the contest
    header = [CB_FIXED] + [
        f"RCV{rank}:Mayor:{rank}:Number of Winners 1:{n}:NP" for rank, n in columns
    ]
    header.append("Choice_9:Council:1:Vote For 1:Zed:NP")  # another contest
    lines = [",".join(header)]
    for i, ballot in enumerate(ballots):
        marked = {(r, n) for r, names in enumerate(ballot, 1) for n in names}
        cells = ["1" if (r, n) in marked else "0" for r, n in columns]
        if bad_cell and i == 1:
            cells[0] = bad_cell
        lines.append(f"{i},1,{i},B{i},P1,S1,PS1,SCAN1,0,0," + ",".join(cells) + ",1")
    (tmp_path / "cvr.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


CLEAR = {"filePath": "cvr.csv", "provider": "clearBallot", "contestId": "Mayor"}


def test_clear_ballot_choice_columns_of_the_contest_give_the_ranks(tmp_path):
    clear_ballot_file(tmp_path, BALLOTS)
    assert_c_wins_the_six_ballots(write_config(tmp_path, CLEAR))


def test_clear_ballot_cell_other_than_0_or_1_is_refused_with_line_and_column(
    tmp_path,
):
    clear_ballot_file(tmp_path, BALLOTS, bad_cell="x")
    exc = refusal(write_config(tmp_path, CLEAR))
    assert "ligne/line 3, colonne/column 11" in exc.message("en")


def test_clear_ballot_rank_above_max_rankings_is_refused_as_rctab_does(tmp_path):
    clear_ballot_file(tmp_path, BALLOTS)
    exc = refusal(write_config(tmp_path, CLEAR, maxRankingsAllowed="2"))
    assert exc.setting == "rules.maxRankingsAllowed"


# -- Hart XML -----------------------------------------------------------------------


def hart_folder(tmp_path: Path, ballots, value: str | None = None) -> None:
    folder = tmp_path / "hart"
    folder.mkdir(exist_ok=True)
    for i, ballot in enumerate(ballots):
        options = []
        for n, _ in CANDIDATES:
            digits = ["0", "0", "0"]
            for rank, names in enumerate(ballot, 1):
                if n in names:
                    digits[rank - 1] = "1"
            v = value if (value and i == 0 and n == "A") else "".join(digits)
            options.append(
                f"<Option><Name>{n}</Name><Id>{n}</Id><Value>{v}</Value></Option>"
            )
        xml = (
            '<?xml version="1.0" encoding="utf-8"?>'
            '<Cvr xmlns="http://tempuri.org/CVRDesign.xsd">'
            f"<BatchSequence>{i}</BatchSequence><SheetNumber>1</SheetNumber>"
            f"<BatchNumber>1</BatchNumber><CvrGuid>guid-{i}</CvrGuid>"
            "<PrecinctSplit><Name>P1</Name><Id>1</Id></PrecinctSplit>"
            "<Contests><Contest><Name>Mayor</Name><Id>MAYOR</Id>"
            f"<Options>{''.join(options)}</Options></Contest>"
            "<Contest><Name>Council</Name><Id>COUNCIL</Id></Contest></Contests></Cvr>"
        )
        (folder / f"ballot-{i}.xml").write_text(xml, encoding="utf-8")


HART = {"filePath": "hart", "provider": "hart", "contestId": "MAYOR"}


def test_hart_option_values_are_one_digit_per_rank(tmp_path):
    hart_folder(tmp_path, BALLOTS)
    assert_c_wins_the_six_ballots(write_config(tmp_path, HART))


def test_hart_value_with_a_digit_other_than_0_or_1_is_refused_naming_file_and_option(
    tmp_path,
):
    hart_folder(tmp_path, BALLOTS, value="1?0")
    exc = refusal(write_config(tmp_path, HART))
    assert exc.value == "ballot-0.xml" and "Option 1" in exc.message("en")


def test_a_vendor_format_setting_rctab_forbids_for_that_provider_is_refused(tmp_path):
    hart_folder(tmp_path, BALLOTS)
    exc = refusal(write_config(tmp_path, {**HART, "firstVoteColumnIndex": "3"}))
    assert exc.setting == "cvrFileSources[0].firstVoteColumnIndex"
    exc = refusal(
        write_config(tmp_path, {**HART, "treatBlankAsUndeclaredWriteIn": True})
    )
    assert exc.setting == "cvrFileSources[0].treatBlankAsUndeclaredWriteIn"
    exc = refusal(write_config(tmp_path, {**HART, "contestId": ""}))
    assert exc.setting == "cvrFileSources[0].contestId"
