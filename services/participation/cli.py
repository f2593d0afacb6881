"""``maillage tally``: count a ballot file with any method of the tally module.

    $ maillage tally ../shared/data/droop_stv/blt/scotland/Calton-2007.blt \\
          --method stv-scottish --json
    {"winners": ["George Redmond", "Alison E Thewliss", "Ruth Simpson"], ...}

Errors go to stderr, French first then English, with exit code 2.
"""

from __future__ import annotations

import argparse
import json
import sys

from services.participation.tally import (
    FORMATS,
    METHODS,
    RCTabContest,
    Refusal,
    TallyError,
    count,
    format_number,
    rctab_summary,
    read_ballots,
    result_to_dict,
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "tally",
        help="dépouiller un fichier de bulletins / count a ballot file",
        description="Dépouille un fichier de bulletins / counts a ballot file "
        "(BLT, Pabulib .pb, RCTab config JSON, CSV ballot_id,rank,choice).",
    )
    parser.add_argument("file", metavar="FILE")
    parser.add_argument("--method", required=True, choices=METHODS)
    parser.add_argument("--seats", type=int, default=None)
    parser.add_argument("--format", dest="fmt", choices=FORMATS, default=None)
    parser.add_argument("--json", action="store_true", help="JSON output")
    parser.add_argument(
        "--format-out",
        dest="format_out",
        choices=("text", "json", "rctab-summary-json"),
        default=None,
        help="rctab-summary-json : le summary.json de RCTab / RCTab's summary.json",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.seats is not None and args.seats < 1:
        print(
            "--seats : entier positif attendu / --seats: positive integer expected",
            file=sys.stderr,
        )
        return 2
    try:
        ballots = read_ballots(args.file, args.fmt)
        result = count(args.method, ballots, args.seats)
        summary = None
        if args.format_out == "rctab-summary-json":
            if not isinstance(ballots, RCTabContest):
                raise Refusal(
                    "--format-out",
                    args.format_out,
                    "seul un concours RCTab (config JSON) a un rapport RCTab",
                    "only an RCTab contest (config JSON) has an RCTab report",
                )
            summary = rctab_summary(ballots)
    except FileNotFoundError:
        print(
            f"fichier introuvable : {args.file} / file not found: {args.file}",
            file=sys.stderr,
        )
        return 2
    except Refusal as exc:
        # The setting, its value and the reason, French then English.
        print(exc.message("fr"), file=sys.stderr)
        print(exc.message("en"), file=sys.stderr)
        return 2
    except TallyError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except (ValueError, KeyError, OSError) as exc:
        print(
            f"fichier illisible : {args.file} ({exc!r}) / "
            f"unreadable file: {args.file} ({exc!r})",
            file=sys.stderr,
        )
        return 2
    if summary is not None:
        print(json.dumps(summary, ensure_ascii=False, indent=2))
        return 0
    if args.json or args.format_out == "json":
        print(json.dumps(result_to_dict(result), ensure_ascii=False, indent=2))
        return 0
    print(f"méthode / method: {result.method}")
    for key, value in result.parameters.items():
        print(f"  {key}: {value}")
    for rnd in result.rounds:
        who = ", ".join(rnd.candidates)
        print(f"round {rnd.number}: {rnd.action} {who}".rstrip())
        for name, value in rnd.counts.items():
            print(f"    {name}: {format_number(value, result.decimals)}")
        if rnd.note:
            print(f"    ({rnd.note})")
    print("élus / winners: " + ", ".join(result.winners))
    return 0
