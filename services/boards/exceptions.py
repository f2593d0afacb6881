"""Why the boards service refuses something, in French then English.

Every refusal is a typed exception carrying a machine code, the field concerned
and a bilingual message, so the gateway can map it to an HTTP status and a
person can read it::

    >>> err = QuorumNotMet(required=5, present=3, missing={"citizens": 1})
    >>> err.code, str(err)
    ('quorum_not_met', 'quorum non atteint : 3 présents sur 5 requis ; ...')

``kind`` says which family of error it is (``validation``, ``not_found``,
``conflict``, ``forbidden``) so that the service can re-raise it as the shared
error type the gateway maps (422, 404, 409, 403).
"""

from __future__ import annotations

from collections.abc import Mapping


class BoardsError(Exception):
    """Base class: ``code``, ``kind``, ``field``, ``fr`` and ``en`` messages."""

    code = "boards_error"
    kind = "validation"

    def __init__(self, fr: str, en: str, field: str | None = None) -> None:
        self.fr = fr
        self.en = en
        self.field = field
        super().__init__(f"{fr} / {en}")

    def as_dict(self) -> dict[str, str | None]:
        return {
            "code": self.code,
            "kind": self.kind,
            "field": self.field,
            "message": str(self),
        }


class InvalidCharter(BoardsError):
    code = "invalid_charter"


class InvalidValue(BoardsError):
    code = "invalid_value"


class NotFound(BoardsError):
    code = "not_found"
    kind = "not_found"


class UnknownSeat(NotFound):
    code = "unknown_seat"

    def __init__(self, seat_id: str) -> None:
        super().__init__(
            f"siège inconnu : « {seat_id} »",
            f'unknown seat: "{seat_id}"',
            field="seat_id",
        )


class UnknownMember(NotFound):
    code = "unknown_member"

    def __init__(self, member_id: str) -> None:
        super().__init__(
            f"membre inconnu : « {member_id} »",
            f'unknown member: "{member_id}"',
            field="member_id",
        )


class UnknownItem(NotFound):
    code = "unknown_item"

    def __init__(self, item_id: str) -> None:
        super().__init__(
            f"point de l'ordre du jour inconnu : « {item_id} »",
            f'unknown agenda item: "{item_id}"',
            field="item_id",
        )


class UnknownDocument(NotFound):
    code = "unknown_document"

    def __init__(self, document_id: str) -> None:
        super().__init__(
            f"document inconnu : « {document_id} »",
            f'unknown document: "{document_id}"',
            field="document_id",
        )


class UnknownMotion(NotFound):
    code = "unknown_motion"

    def __init__(self, motion_id: str) -> None:
        super().__init__(
            f"proposition inconnue : « {motion_id} »",
            f'unknown motion: "{motion_id}"',
            field="motion_id",
        )


class SeatOccupied(BoardsError):
    code = "seat_occupied"
    kind = "conflict"

    def __init__(
        self, seat_id: str, holder: str, names: tuple[str, str] | None = None
    ) -> None:
        fr, en = names or (seat_id, seat_id)
        super().__init__(
            f"le siège « {fr} » est déjà occupé par {holder} pour cette période",
            f'seat "{en}" is already held by {holder} for that period',
            field="seat_id",
        )


class InvalidState(BoardsError):
    """The action does not fit the current state (meeting closed, vote over...)."""

    code = "invalid_state"
    kind = "conflict"


class NotSeated(BoardsError):
    code = "not_seated"
    kind = "forbidden"

    def __init__(self, member_id: str) -> None:
        super().__init__(
            f"« {member_id} » n'occupe pas de siège au conseil à la date de la séance",
            f'"{member_id}" holds no seat on the board on the meeting date',
            field="member_id",
        )


class NotPresent(BoardsError):
    code = "not_present"
    kind = "forbidden"

    def __init__(self, member_id: str) -> None:
        super().__init__(
            f"« {member_id} » n'est pas inscrit comme présent à la séance",
            f'"{member_id}" is not recorded as present at the meeting',
            field="member_id",
        )


class RecusedMember(BoardsError):
    """A member who declared a conflict of interest on the item may not vote."""

    code = "recused_member"
    kind = "forbidden"

    def __init__(self, member_id: str, item_id: str, reason: str = "") -> None:
        because_fr = f" ({reason})" if reason else ""
        because_en = f" ({reason})" if reason else ""
        super().__init__(
            f"« {member_id} » s'est récusé sur le point « {item_id} » pour conflit "
            f"d'intérêts{because_fr} et ne peut ni voter ni proposer",
            f'"{member_id}" is recused from item "{item_id}" for a declared '
            f"conflict of interest{because_en} and may neither vote nor move",
            field="member_id",
        )
        self.member_id = member_id
        self.item_id = item_id


class QuorumNotMet(BoardsError):
    """Too few seated members present (overall, or for a required constituency)."""

    code = "quorum_not_met"
    kind = "conflict"

    def __init__(
        self,
        required: int,
        present: int,
        missing: Mapping[str, int] | None = None,
    ) -> None:
        self.required = required
        self.present = present
        self.missing = dict(missing or {})
        parts_fr = [f"{present} membre(s) votant(s) présent(s) sur {required} requis"]
        parts_en = [f"{present} voting member(s) present, {required} required"]
        for constituency, lacking in sorted(self.missing.items()):
            parts_fr.append(f"il manque {lacking} siège(s) « {constituency} »")
            parts_en.append(f'{lacking} more "{constituency}" seat(s) needed')
        super().__init__(
            "quorum non atteint : " + " ; ".join(parts_fr),
            "quorum not met: " + "; ".join(parts_en),
            field="quorum",
        )


class AlreadyVoted(BoardsError):
    code = "already_voted"
    kind = "conflict"

    def __init__(self, member_id: str) -> None:
        super().__init__(
            f"« {member_id} » a déjà voté sur cette proposition",
            f'"{member_id}" has already voted on this motion',
            field="member_id",
        )
