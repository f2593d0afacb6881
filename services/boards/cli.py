"""``maillage boards``: the public register and charter checks, from a terminal.

    $ maillage boards register                 # the node's board, today
    $ maillage boards register --json --today 2027-01-15
    $ maillage boards charter charte.yaml      # check a charter before creating it

``register`` reads the boards service's own database (``MONGODB_URI`` and
``DB_PREFIX`` as the node uses them), read-only, so the register can be printed
even when the services are stopped. It prints exactly what
:func:`services.boards.domain.public_register` allows: no closed-session
content, people by name and role only.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import date
from pathlib import Path
from typing import Any, TextIO

import yaml
from marshmallow import ValidationError
from pymongo import MongoClient
from pymongo.errors import PyMongoError

from services.boards import domain
from services.boards.exceptions import BoardsError
from services.boards.repository import MongoRepository
from services.boards.schemas import CharterSchema
from shared.config import settings

log = logging.getLogger(__name__)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "boards", help="conseils locaux de gouvernance / local governance boards"
    )
    actions = parser.add_subparsers(dest="boards_command", metavar="ACTION")
    parser.set_defaults(func=lambda _args: _help(parser))

    reg = actions.add_parser(
        "register", help="registre public des résolutions / public register"
    )
    reg.add_argument("--board", help="identifiant du conseil / board id")
    reg.add_argument("--today", help="AAAA-MM-JJ / YYYY-MM-DD (retards / overdue)")
    reg.add_argument("--json", action="store_true", help="JSON output")
    reg.set_defaults(func=run_register)

    charter = actions.add_parser(
        "charter", help="vérifier une charte YAML ou JSON / check a charter file"
    )
    charter.add_argument("path", type=Path)
    charter.set_defaults(func=run_charter)


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _fail(fr: str, en: str, err: TextIO | None = None) -> int:
    print(f"{fr} / {en}", file=err or sys.stderr)
    return 1


def _today(value: str | None) -> date | None:
    if value is None:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def run_register(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    today = _today(args.today)
    if today is None:
        return _fail(
            f"champ « today » : date AAAA-MM-JJ attendue, reçu « {args.today} »",
            f'field "today": YYYY-MM-DD date expected, got "{args.today}"',
        )
    config = settings()
    client: MongoClient[dict[str, Any]] = MongoClient(
        config["MONGODB_URI"], serverSelectionTimeoutMS=3000, tz_aware=True
    )
    try:
        repo = MongoRepository(client[f"{config['DB_PREFIX']}boards"], None)
        board_ids = repo.board_ids()
        board_id = args.board or (board_ids[0] if len(board_ids) == 1 else None)
        if board_id is None:
            return _fail(
                f"conseil à préciser avec --board parmi : {', '.join(board_ids)}"
                if board_ids
                else "aucun conseil sur ce nœud",
                f"choose a board with --board among: {', '.join(board_ids)}"
                if board_ids
                else "no board on this node",
            )
        board = repo.board(board_id)
        view = domain.public_register(
            board, repo.resolutions(board_id), today, repo.meetings(board_id)
        )
    except BoardsError as exc:
        return _fail(exc.fr, exc.en)
    except PyMongoError as exc:
        log.debug("store error", exc_info=True)
        return _fail(
            f"magasin de données injoignable ({config['MONGODB_URI']}) : {exc}",
            f"data store unreachable ({config['MONGODB_URI']}): {exc}",
        )
    finally:
        client.close()
    if args.json:
        json.dump(view, out, ensure_ascii=False, indent=2)
        out.write("\n")
    else:
        out.write(format_register(view, today))
    return 0


def format_register(view: dict[str, Any], today: date) -> str:
    board = view["board"]
    lines = [
        f"{board['name']} — registre public / public register ({today.isoformat()})",
        f"Sièges / seats: {len(board['seats'])}, "
        f"vacants / vacant: {board['vacancies']}",
    ]
    for seat in board["seats"]:
        holder = seat["holder"]
        who = (
            f"{holder['name']} ({holder['role']}), fin / ends {seat['term_end']}"
            if holder
            else "vacant"
        )
        lines.append(f"  {seat['seat']:<28} {who}")
    lines.append(f"Séances publiques / public meetings: {len(view['meetings'])}")
    for meeting in view["meetings"]:
        lines.append(
            f"  {meeting['date'][:16]}  {meeting['place']}  [{meeting['status']}]"
        )
        for item in meeting["agenda"]:
            lines.append(f"      - {item['title']}")
    lines.append(f"Résolutions / resolutions: {len(view['resolutions'])}")
    for res in view["resolutions"]:
        votes = res["votes"]
        follow = res["follow_up"]
        late = "  EN RETARD / OVERDUE" if follow["overdue"] else ""
        casting = (
            ", voix prépondérante / casting vote"
            if res.get("decided_by_casting_vote")
            else ""
        )
        lines.append(
            f"  {res['number']}  {res['adopted_on']}  {res['title']}  "
            f"[{votes['for']}-{votes['against']}-{votes['abstain']}, "
            f"{res['majority_rule']}{casting}]"
        )
        lines.append(
            f"      suivi / follow-up: {follow['status']} {follow['progress']} %"
            f", {follow['responsible'] or '—'}, échéance / due "
            f"{follow['due'] or '—'}{late}"
        )
    return "\n".join(lines) + "\n"


def run_charter(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    path: Path = args.path
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        return _fail(
            f"fichier illisible : {path} ({exc.strerror})",
            f"cannot read file: {path} ({exc.strerror})",
        )
    except yaml.YAMLError as exc:
        return _fail(f"YAML invalide : {exc}", f"invalid YAML: {exc}")
    if not isinstance(data, dict):
        return _fail(
            "une charte est un objet (clé: valeur)",
            "a charter is a mapping (key: value)",
        )
    try:
        charter = CharterSchema().load(data)
    except ValidationError as exc:
        for where, reasons in _flatten(exc.messages):
            print(
                f'champ « {where} » : {reasons} / field "{where}": {reasons}',
                file=sys.stderr,
            )
        return 1
    except BoardsError as exc:
        return _fail(exc.fr, exc.en)
    seats = charter.seat_ids()
    out.write(
        f"{charter.name}: {len(seats)} sièges / seats, quorum "
        f"{charter.quorum.required(len(seats))} si tous pourvus / when all filled, "
        f"majorité / majority {charter.default_majority.value}, "
        f"voix prépondérante / casting vote {charter.casting_vote.value}\n"
    )
    for group in charter.seat_groups:
        out.write(
            f"  {group.display_label}: {group.seats} × {group.term_months} mois / "
            "months\n"
        )
    return 0


def _flatten(messages: Any, prefix: str = "") -> list[tuple[str, str]]:
    if isinstance(messages, dict):
        rows: list[tuple[str, str]] = []
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            rows += _flatten(value, name)
        return rows
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return [(prefix, " ".join(messages))]
    return [(prefix, str(messages))]
