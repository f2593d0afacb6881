"""``maillage indicators ...``: load the Quebec tree, import values, evaluate.

    $ maillage indicators load-geo                      # ../shared/data/quebec_geo
    $ maillage indicators import values.json            # DHIS2 data-value set
    $ maillage indicators import dataValues.csv --org-units tree.json
    $ maillage indicators import values.json --metadata categories.json
    $ maillage indicators export out.csv --data-element home_interventions
    $ maillage indicators evaluate --numerator '#{deA}' --org-unit qc --period 2017Q1
    $ maillage indicators catalogue

The store is ``--store-uri`` (default ``$MAILLAGE_STORE_URI``, then
``$MONGODB_URI``); the database is ``<--db-prefix>indicators`` as for the
service (default prefix ``maillage_``). Errors are printed French first, then
English; the exit code is 0 when everything was imported, 1 when some rows were
refused (they are listed), 2 when nothing could be done.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from services.indicators.catalogue import DATA_ELEMENTS, INDICATORS
from services.indicators.domain import Approval, Period, ValueStore, locking_approval
from services.indicators.exceptions import IndicatorsError
from services.indicators.expression import Indicator, evaluate_indicator
from services.indicators.geo import quebec_units
from services.indicators.importing import (
    import_values,
    read_data_value_set,
    read_metadata,
    read_org_units,
    write_data_value_set,
)

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_GEO = ROOT.parent / "shared" / "data" / "quebec_geo"


def _uri(args: argparse.Namespace) -> str | None:
    return (
        args.store_uri
        or os.environ.get("MAILLAGE_STORE_URI")
        or os.environ.get("MONGODB_URI")
    )


def _repository(args: argparse.Namespace) -> Any:
    from services.indicators.repository import INDEXES, IndicatorsRepository
    from shared.store import ensure_indexes, make_client

    uri = _uri(args)
    if not uri:
        raise IndicatorsError(
            "aucun magasin : --store-uri ou MAILLAGE_STORE_URI / "
            "no store: --store-uri or MAILLAGE_STORE_URI"
        )
    client = make_client(uri)
    db = client[f"{args.db_prefix}indicators"]
    ensure_indexes(db, INDEXES)
    return IndicatorsRepository(db)


def _error(message: str) -> int:
    print(message, file=sys.stderr)
    return 2


def cmd_load_geo(args: argparse.Namespace) -> int:
    folder = Path(args.folder)
    if not folder.is_dir():
        return _error(f"dossier introuvable : {folder} / folder not found: {folder}")
    try:
        units = quebec_units(folder)
        repository = _repository(args)
    except (IndicatorsError, OSError, ValueError) as exc:
        return _error(str(exc))
    count = repository.save_org_units(units)
    levels: dict[int, int] = {}
    for unit in units:
        levels[unit.level] = levels.get(unit.level, 0) + 1
    print(json.dumps({"org_units": count, "by_level": levels}))
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    try:
        repository = _repository(args)
        if args.org_units:
            hierarchy = read_org_units(args.org_units)
            repository.save_org_units(hierarchy)
        hierarchy = repository.hierarchy()
        model = repository.categories()
        if args.metadata:
            model.merge(read_metadata(args.metadata))
            repository.save_categories(model)
        if not len(hierarchy):
            return _error(
                "aucune unité d'organisation : lancez « maillage indicators "
                "load-geo » ou donnez --org-units / no org units: run "
                '"maillage indicators load-geo" or give --org-units'
            )
        rows = read_data_value_set(args.file)
    except (IndicatorsError, OSError, ValueError) as exc:
        return _error(str(exc))
    store = ValueStore(hierarchy, DATA_ELEMENTS)
    summary = import_values(store, rows, model)
    approvals = [
        Approval(a["org_unit"], Period.parse(a["period"]))
        for a in repository.approvals()
        if a.get("approved")
    ]
    accepted = []
    for value in summary.values:
        lock = locking_approval(hierarchy, approvals, value.org_unit, value.period)
        if lock is None:
            accepted.append(value)
            continue
        summary.ignored += 1
        summary.imported -= 1
        summary.conflicts.append(
            f"{value.data_element} {value.org_unit} {value.period.id} : période "
            f"approuvée ({lock.org_unit} {lock.period.id}) / approved period"
        )
    repository.save_values(accepted, "import")
    print(json.dumps(summary.as_dict(), ensure_ascii=False, indent=2))
    return 1 if summary.conflicts else 0


def cmd_export(args: argparse.Namespace) -> int:
    """Write the stored values as a DHIS2 data-value set (format from the
    suffix, or ``--format``), every combo kept."""
    target = Path(args.file)
    fmt = args.format or ("csv" if target.suffix.lower() == ".csv" else "json")
    try:
        repository = _repository(args)
        period = Period.parse(args.period) if args.period else None
        store = repository.value_store(
            ValueStore(repository.hierarchy(), DATA_ELEMENTS),
            elements=[args.data_element] if args.data_element else None,
        )
    except (IndicatorsError, OSError) as exc:
        return _error(str(exc))
    values = [
        v
        for v in store.all_values()
        if (period is None or period.contains(v.period))
        and (args.org_unit is None or v.org_unit == args.org_unit)
    ]
    try:
        target.write_text(write_data_value_set(values, fmt), encoding="utf-8")
    except OSError as exc:
        return _error(str(exc))
    print(json.dumps({"exported": len(values), "file": str(target)}))
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    try:
        repository = _repository(args)
        if args.indicator:
            indicator = INDICATORS[args.indicator]
        else:
            indicator = Indicator(
                "adhoc", args.numerator, args.denominator, args.factor
            )
        store = repository.value_store(
            ValueStore(repository.hierarchy(), DATA_ELEMENTS)
        )
        result = evaluate_indicator(indicator, store, args.org_unit, args.period)
    except KeyError as exc:
        return _error(f"indicateur inconnu : {exc} / unknown indicator: {exc}")
    except (IndicatorsError, OSError) as exc:
        return _error(str(exc))
    print(
        json.dumps(
            {
                "indicator": result.indicator,
                "org_unit": result.org_unit,
                "period": result.period,
                "value": result.value,
                "numerator": result.numerator,
                "denominator": result.denominator,
            }
        )
    )
    return 0


def cmd_catalogue(args: argparse.Namespace) -> int:
    lang = args.lang
    for indicator in INDICATORS.values():
        name = indicator.name_fr if lang == "fr" else indicator.name_en
        definition = (
            indicator.definition_fr if lang == "fr" else indicator.definition_en
        )
        print(f"{indicator.id}: {name}\n    {definition}")
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "indicators", help="indicateurs sociaux / social indicators"
    )
    commands = parser.add_subparsers(dest="indicators_command", metavar="COMMAND")

    def store_options(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--store-uri", default=None, help="mongodb://... URI")
        sub.add_argument("--db-prefix", default="maillage_")

    geo = commands.add_parser("load-geo", help="charger / load the Quebec tree")
    geo.add_argument("--folder", default=str(DEFAULT_GEO))
    store_options(geo)
    geo.set_defaults(func=cmd_load_geo)

    imp = commands.add_parser("import", help="importer / import a data-value set")
    imp.add_argument("file", help="DHIS2 data-value set, .json or .csv")
    imp.add_argument("--org-units", help="DHIS2 metadata JSON (organisationUnits)")
    imp.add_argument(
        "--metadata",
        help="DHIS2 metadata JSON: categories, categoryCombos, dataElements",
    )
    store_options(imp)
    imp.set_defaults(func=cmd_import)

    exp = commands.add_parser("export", help="exporter / export a data-value set")
    exp.add_argument("file", help="output .json or .csv")
    exp.add_argument("--format", choices=("json", "csv"))
    exp.add_argument("--data-element")
    exp.add_argument("--period", help="only values inside (2017, 2017Q1, 201703)")
    exp.add_argument("--org-unit")
    store_options(exp)
    exp.set_defaults(func=cmd_export)

    ev = commands.add_parser("evaluate", help="évaluer / evaluate an indicator")
    ev.add_argument("--indicator", help="catalogue id")
    ev.add_argument("--numerator", default="0")
    ev.add_argument("--denominator", default="1")
    ev.add_argument("--factor", type=float, default=1.0)
    ev.add_argument("--org-unit", required=True)
    ev.add_argument("--period", required=True)
    store_options(ev)
    ev.set_defaults(func=cmd_evaluate)

    cat = commands.add_parser("catalogue", help="définitions / definitions")
    cat.add_argument("--lang", choices=("fr", "en"), default="fr")
    cat.set_defaults(func=cmd_catalogue)

    parser.set_defaults(func=lambda args: (parser.print_help(), 2)[1])
