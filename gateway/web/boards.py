"""Boards: the next meeting's agenda, the public register, the follow-up.

Everything shown comes from ``boards.public_register`` (an allow-list built by
the boards domain: names and roles only, nothing from closed sessions)::

    boards.public_register("mrc-66023", "2026-11-23")
    -> {"board": {"name", "seats", "vacancies"},
        "meetings": [{"date", "place", "status", "agenda": [{"title", "source",
                      "rank", "participation_process"}]}],
        "resolutions": [{"number", "title", "text", "adopted_on", "votes",
                         "follow_up": {"status", "progress", "due", "overdue"}}]}

Which boards a node has: ``boards.list_boards()`` when the service offers it,
otherwise the node's own board (``NODE_ID``), the usual one-board-per-MRC case.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from werkzeug.wrappers import Response

from gateway.api import Context
from gateway.web import views
from gateway.web.core import page, render, settings
from shared.errors import NotFound


def _register(ctx: Context, board_id: str) -> dict[str, Any]:
    return ctx.rpc("boards", "public_register", board_id, date.today().isoformat())


@page("/conseils", action="web.boards")
def boards_index(ctx: Context) -> Response:
    """The node's boards."""
    try:
        listed = ctx.rpc("boards", "list_boards")
        boards = [
            {"board_id": b.get("board_id"), "name": b.get("name")}
            if isinstance(b, dict)
            else {"board_id": b, "name": b}
            for b in listed
        ]
    except NotFound:
        boards = []
        node = str(settings.get("NODE_ID") or "")
        if node:
            try:
                register = _register(ctx, node)
                boards = [{"board_id": node, "name": register["board"]["name"]}]
            except NotFound:
                boards = []
    return render(ctx, "boards.html", boards=boards)


@page("/conseils/<board_id>", action="web.boards.board")
def board_page(ctx: Context, board_id: str) -> Response:
    """The next meeting's agenda, citizens' priorities first-class."""
    register = _register(ctx, board_id)
    meetings = register.get("meetings") or []
    upcoming = views.next_meeting(meetings, date.today().isoformat())
    agenda = views.public_agenda(upcoming) if upcoming else []
    return render(
        ctx,
        "board.html",
        board_id=board_id,
        board=register["board"],
        meeting=upcoming,
        agenda=agenda,
        priorities=sorted(
            (i for i in agenda if i["citizen_priority"]),
            key=lambda i: (i["rank"] is None, i["rank"] or 0),
        ),
    )


@page("/conseils/<board_id>/registre", action="web.boards.register")
def register_page(ctx: Context, board_id: str) -> Response:
    """The public register of resolutions."""
    register = _register(ctx, board_id)
    return render(
        ctx,
        "register.html",
        board_id=board_id,
        board=register["board"],
        resolutions=list(reversed(register.get("resolutions") or [])),
    )


@page("/conseils/<board_id>/suivi", action="web.boards.follow_up")
def follow_up_page(ctx: Context, board_id: str) -> Response:
    """Follow-up of decisions: status, progress, due date, overdue said in words."""
    register = _register(ctx, board_id)
    rows = [
        {"number": r["number"], "title": r["title"], **r.get("follow_up", {})}
        for r in register.get("resolutions") or []
    ]
    return render(
        ctx,
        "follow_up.html",
        board_id=board_id,
        board=register["board"],
        rows=rows,
        late=sum(1 for r in rows if r.get("overdue")),
    )
