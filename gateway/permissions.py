"""Who may do what: the ONE permission table of the node (action x role).

Every non-public route names an ``action``; :func:`check` is the only place the
gateway decides whether the signed-in account's role may perform it (the
accounts module installs it as ``Gateway.authorize``). Handlers never test
roles themselves; where a decision depends on the data (whose ballot, which
MRC's board, a confidential address), they ask :func:`allowed` for a
*capability* action listed in the same table (``offerings.read_confidential``).

The README's table is printed from :data:`PERMISSIONS` by
``python -m gateway.permissions`` so the documentation cannot drift:

    | action | citizen | ... | node_admin |
    | `boards.motions.vote` | · | ... | · |

MRC scoping comes on top of the table: an account is bound to one MRC and a
write on a board is refused when the board belongs to another MRC
(:func:`require_same_mrc`).
"""

from __future__ import annotations

import sys
from typing import Any

from shared.errors import Forbidden, Unauthenticated

ROLES: tuple[str, ...] = (
    "citizen",
    "citizen_representative",
    "board_member",
    "board_secretary",
    "practitioner",
    "regional_coordinator",
    "node_admin",
)
ROLE_LABELS: dict[str, tuple[str, str]] = {
    "citizen": ("citoyen·ne", "citizen"),
    "citizen_representative": ("représentant·e citoyen·ne", "citizen representative"),
    "board_member": ("membre d'instance", "board member"),
    "board_secretary": ("secrétaire d'instance", "board secretary"),
    "practitioner": ("intervenant·e", "practitioner"),
    "regional_coordinator": ("coordination régionale", "regional coordinator"),
    "node_admin": ("administration du nœud", "node administrator"),
}

_ALL = frozenset(ROLES)
_BOARD_SEATS = frozenset({"board_member", "citizen_representative"})
_CITIZENS = frozenset({"citizen", "citizen_representative"})


def _r(*roles: str) -> frozenset[str]:
    unknown = set(roles) - _ALL
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}")
    return frozenset(roles)


# action -> roles allowed. Public routes (sign-in, the public register, service
# search, published results, /health ...) are marked ``public=True`` on the route
# and are not in this table: nobody needs an account for them.
PERMISSIONS: dict[str, frozenset[str]] = {
    # accounts and the node
    "accounts.me": _ALL,
    "accounts.sign_out": _ALL,
    "accounts.create": _r("node_admin"),
    "accounts.list": _r("node_admin"),
    "accounts.read": _r("node_admin"),
    "accounts.update": _r("node_admin"),
    "accounts.revoke": _r("node_admin"),
    "audit.read": _r("node_admin"),
    # boards (writes are also scoped to the account's MRC)
    "boards.read": _BOARD_SEATS
    | _r("board_secretary", "practitioner", "regional_coordinator", "node_admin"),
    # closed-session agendas, attendance, conflicts and votes; others see the
    # public view of a meeting
    "boards.read_closed": _BOARD_SEATS | _r("board_secretary", "node_admin"),
    "boards.create": _r("node_admin"),
    "boards.seats.manage": _r("board_secretary", "node_admin"),
    "boards.meetings.manage": _r("board_secretary"),
    "boards.motions.move": _BOARD_SEATS,
    "boards.motions.second": _BOARD_SEATS,
    "boards.agenda.propose": _BOARD_SEATS,
    "boards.indicators.manage": _r("board_secretary"),
    "boards.motions.vote": _BOARD_SEATS,
    "boards.conflicts.declare": _BOARD_SEATS,
    "boards.motions.close": _r("board_secretary"),
    "boards.minutes.manage": _r("board_secretary"),
    "boards.follow_up": _r("board_secretary", "practitioner"),
    # participation
    "participation.processes.manage": _r("board_secretary", "node_admin"),
    "participation.proposals.create": _CITIZENS,
    "participation.proposals.support": _CITIZENS,
    "participation.proposals.comment": _CITIZENS,
    "participation.residency.redeem": _CITIZENS,
    "participation.ballots.cast": _CITIZENS,
    "participation.results.publish": _r("board_secretary", "node_admin"),
    # offerings
    "offerings.read_confidential": _r("practitioner", "node_admin"),
    # setting a shelter's confidential_location back to false (audited)
    "offerings.confidentiality.lift": _r("node_admin"),
    "offerings.services.manage": _r("practitioner", "node_admin"),
    "offerings.import": _r("practitioner", "node_admin"),
    # indicators
    "indicators.values.enter": _r("practitioner", "node_admin"),
    "indicators.values.approve": _r("regional_coordinator", "node_admin"),
    "indicators.rollups.publish": _r("regional_coordinator", "node_admin"),
    # the local catalogue: a secretary proposes, the board adopts by
    # resolution; the node administrator may also define directly
    "indicators.definitions.propose": _r("board_secretary"),
    "indicators.definitions.define": _r("node_admin"),
    # validation-rule violations show unsuppressed values
    "indicators.quality.read": _r("practitioner", "node_admin"),
    # anonymous questionnaires (the administrator defines them and their
    # counts; a practitioner enters paper forms) and practitioners' reports on
    # their conditions of practice, read only as aggregates above the threshold
    "indicators.surveys.manage": _r("node_admin"),
    "indicators.surveys.enter": _r("practitioner"),
    "indicators.practice.report": _r("practitioner"),
    "indicators.practice.read": _BOARD_SEATS
    | _r("board_secretary", "practitioner", "node_admin"),
    # the concerns practitioners wrote (a list without author) are the board's
    "indicators.practice.concerns": _BOARD_SEATS | _r("board_secretary"),
    # federation
    "federation.read": _r("regional_coordinator", "node_admin"),
    # the node administrator writes an agreement in node.yaml; the secretary
    # places it before the board, whose resolution puts it in force
    "federation.agreements.propose": _r("board_secretary"),
}
# Actions that are capabilities asked by handlers (no route of their own).
CAPABILITIES = frozenset(
    {
        "offerings.read_confidential",
        "offerings.confidentiality.lift",
        "boards.read_closed",
        "indicators.practice.concerns",
    }
)


def allowed(action: str, role: str | None) -> bool:
    """``True`` when ``role`` may perform ``action``; an unknown action is refused."""
    return role is not None and role in PERMISSIONS.get(action, frozenset())


def check(action: str, user: dict[str, Any] | None) -> None:
    """Raise 401 without an account, 403 when the table says no."""
    if user is None:
        raise Unauthenticated(
            "Connectez-vous pour cette action (en-tête Authorization: Bearer).",
            "Sign in for this action (Authorization: Bearer header).",
        )
    if action not in PERMISSIONS:
        # A route whose action is missing from the table is a bug: refuse.
        raise Forbidden(
            f"Action non répertoriée : {action}.", f"Unlisted action: {action}."
        )
    if not allowed(action, user.get("role")):
        role = user.get("role", "?")
        fr_role, en_role = ROLE_LABELS.get(role, (role, role))
        raise Forbidden(
            f"Le rôle « {fr_role} » ne permet pas l'action {action}.",
            f"The role '{en_role}' does not allow the action {action}.",
            details={"action": action, "role": role},
        )


def require_same_mrc(user: dict[str, Any], mrc: str | None, what: str) -> None:
    """A write on a resource of another MRC is refused, whatever the role."""
    if mrc is None or user.get("mrc") != mrc:
        raise Forbidden(
            f"{what} relève d'une autre MRC ({mrc}) que votre compte "
            f"({user.get('mrc')}).",
            f"{what} belongs to another MRC ({mrc}) than your account "
            f"({user.get('mrc')}).",
            details={"resource_mrc": mrc, "account_mrc": user.get("mrc")},
        )


def markdown_table() -> str:
    """The table for the README: one row per action, ✓ where allowed."""
    lines = [
        "| action | " + " | ".join(ROLES) + " |",
        "|---|" + "---|" * len(ROLES),
    ]
    for action in sorted(PERMISSIONS):
        marks = ["✓" if role in PERMISSIONS[action] else "·" for role in ROLES]
        lines.append(f"| `{action}` | " + " | ".join(marks) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(markdown_table() + "\n")
