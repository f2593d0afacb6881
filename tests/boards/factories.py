"""Small builders for boards tests: a charter of seven seats and its members."""

from __future__ import annotations

from datetime import UTC, date, datetime
from fractions import Fraction

from services.boards.domain import (
    Board,
    Charter,
    Meeting,
    MeetingKind,
    Member,
    Office,
    QuorumRule,
    SeatGroup,
)

TERM_START = date(2026, 1, 1)
MEETING_AT = datetime(2026, 11, 30, 18, 30, tzinfo=UTC)

SEATS = {
    "citizens-1": "alice",
    "citizens-2": "bruno",
    "community_organisations-1": "chloe",
    "community_organisations-2": "denis",
    "practitioners-1": "emma",
    "municipal_elected-1": "felix",
    "first_nations_inuit-1": "gabrielle",
}


def charter(min_citizens: int = 1) -> Charter:
    return Charter(
        board_id="mrc-66023",
        name="Table locale de gouvernance partagée",
        seat_groups=(
            SeatGroup("citizens", 2),
            SeatGroup("community_organisations", 2),
            SeatGroup("practitioners", 1),
            SeatGroup("municipal_elected", 1, term_months=48),
            SeatGroup("first_nations_inuit", 1),
        ),
        quorum=QuorumRule(
            Fraction(1, 2),
            strictly_more=True,
            min_present={"citizens": min_citizens} if min_citizens else {},
        ),
    )


def full_board(min_citizens: int = 1) -> Board:
    """Seven seats, all filled; alice chairs. Contact details are private."""
    board = Board(charter(min_citizens))
    for seat_id, member_id in SEATS.items():
        board.add_member(
            Member(
                member_id,
                member_id.capitalize(),
                email=f"{member_id}@courriel.example",
                phone="418-555-0199",
            )
        )
        office = Office.CHAIR if member_id == "alice" else Office.MEMBER
        board.appoint(seat_id, member_id, TERM_START, office=office)
    return board


def open_meeting(
    board: Board,
    present: list[str],
    kind: MeetingKind = MeetingKind.PUBLIC,
    meeting_id: str = "m1",
    at: datetime = MEETING_AT,
) -> Meeting:
    meeting = Meeting(meeting_id, board.board_id, kind, at, "Salle du conseil")
    meeting.open()
    for member_id in present:
        meeting.record_arrival(board, member_id)
    return meeting
