"""Reading DHIS2 data-value sets (JSON and CSV) and org-unit metadata.

A data-value set is DHIS2's exchange format, so a board's numbers can come
from a DHIS2 instance, a spreadsheet export, or another node:

    {"dataValues": [{"dataElement": "home_interventions", "period": "201703",
                     "orgUnit": "cd:2437", "value": "42"}]}

    dataelement,period,orgunit,categoryoptioncombo,attributeoptioncombo,value
    home_interventions,201703,cd:2437,,,42

Each value is stored under its ``categoryOptionCombo`` and
``attributeOptionCombo`` (empty, or DHIS2's ``HllvX50cXC0``: the default), so
several combos of one element, period and org unit are several values; a combo
the element's declared category combination does not hold (or an attribute
combo no attribute combination declares) is refused as DHIS2 refuses it: the
row becomes a conflict naming its line and field, and is not stored. Categories
are declared in DHIS2 metadata (:func:`read_metadata`, :mod:`categories`).
:func:`write_data_value_set` writes the values back in the same formats, the
default combos spelled ``HllvX50cXC0``, so a round trip keeps every value.

The CSV header is optional (DHIS2 exports it, its analytics fixture has it with
spaces after the commas); without a header the DHIS2 column order is assumed.
Rows that cannot be read are not imported: each becomes a conflict naming its
line and field, in French then English, as DHIS2's import summary does.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from services.indicators.categories import CategoryModel, combo_id, dhis2_id
from services.indicators.domain import (
    DataValue,
    Hierarchy,
    OrgUnit,
    Period,
    ValueStore,
    parse_value,
)
from services.indicators.exceptions import DataImportError, IndicatorsError

_DHIS2_COLUMNS = (
    "dataelement",
    "period",
    "orgunit",
    "categoryoptioncombo",
    "attributeoptioncombo",
    "value",
    "storedby",
    "lastupdated",
    "comment",
    "followup",
)
_JSON_KEYS = {
    "dataElement": "dataelement",
    "period": "period",
    "orgUnit": "orgunit",
    "value": "value",
    "comment": "comment",
}


@dataclass(frozen=True)
class RawDataValue:
    line: int
    data_element: str
    period: str
    org_unit: str
    value: Any
    category_option_combo: str = ""
    attribute_option_combo: str = ""


@dataclass
class ImportSummary:
    """``{"imported": 30, "updated": 0, "ignored": 3, "conflicts": [...]}``"""

    imported: int = 0
    updated: int = 0
    ignored: int = 0
    conflicts: list[str] = field(default_factory=list)
    values: list[DataValue] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "imported": self.imported,
            "updated": self.updated,
            "ignored": self.ignored,
            "conflicts": list(self.conflicts),
        }


def read_data_value_set(path: Path | str) -> list[RawDataValue]:
    """Read a ``.json`` or ``.csv`` data-value set (format from the suffix,
    else from the first character)."""
    path = Path(path)
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".json" or text.lstrip().startswith("{"):
        rows = parse_json(text)
    else:
        rows = parse_csv(text)
    return rows


def parse_json(text: str) -> list[RawDataValue]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataImportError(
            exc.lineno, "dataValues", "JSON illisible", "unreadable JSON"
        ) from exc
    items = document.get("dataValues") if isinstance(document, dict) else None
    if not isinstance(items, list):
        raise DataImportError(
            1,
            "dataValues",
            "liste « dataValues » attendue",
            '"dataValues" list expected',
        )
    rows: list[RawDataValue] = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise DataImportError(
                number, "dataValues", "objet attendu", "object expected"
            )
        rows.append(
            RawDataValue(
                number,
                str(item.get("dataElement", "")),
                str(item.get("period", "")),
                str(item.get("orgUnit", "")),
                item.get("value"),
                str(item.get("categoryOptionCombo") or ""),
                str(item.get("attributeOptionCombo") or ""),
            )
        )
    return rows


def parse_csv(text: str) -> list[RawDataValue]:
    reader = csv.reader(io.StringIO(text), skipinitialspace=True)
    rows: list[RawDataValue] = []
    columns: list[str] = list(_DHIS2_COLUMNS)
    for number, record in enumerate(reader, start=1):
        cells = [cell.strip() for cell in record]
        if not any(cells):
            continue
        if number == 1 and "dataelement" in {c.lower() for c in cells}:
            columns = [c.lower() for c in cells]
            continue
        row = dict(zip(columns, cells, strict=False))
        for required in ("dataelement", "period", "orgunit", "value"):
            if required not in columns:
                raise DataImportError(
                    number, required, "colonne manquante", "missing column"
                )
        rows.append(
            RawDataValue(
                number,
                row.get("dataelement", ""),
                row.get("period", ""),
                row.get("orgunit", ""),
                row.get("value", ""),
                row.get("categoryoptioncombo", ""),
                row.get("attributeoptioncombo", ""),
            )
        )
    return rows


def validate(
    store: ValueStore, raw: RawDataValue, model: CategoryModel | None = None
) -> DataValue:
    """Turn one raw row into a checked value, or raise naming line and field
    (a combo the element's category combination does not hold included)."""
    for name, text in (
        ("dataElement", raw.data_element),
        ("period", raw.period),
        ("orgUnit", raw.org_unit),
    ):
        if not text:
            raise DataImportError(raw.line, name, "valeur requise", "value required")
    if raw.org_unit not in store.hierarchy:
        raise DataImportError(
            raw.line,
            "orgUnit",
            f"unité d'organisation inconnue {raw.org_unit}",
            f"unknown org unit {raw.org_unit}",
        )
    try:
        period = Period.parse(raw.period)
    except IndicatorsError:
        raise DataImportError(
            raw.line,
            "period",
            "période attendue (2017, 2017Q1, 201703)",
            "period expected (2017, 2017Q1, 201703)",
        ) from None
    element = store.element(raw.data_element)
    try:
        value = parse_value(element, raw.value)
    except IndicatorsError:
        expected = element.value_type.value
        raise DataImportError(
            raw.line,
            "value",
            f"valeur de type {expected} attendue",
            f"{expected} value expected",
        ) from None
    combo = combo_id(raw.category_option_combo)
    attribute = combo_id(raw.attribute_option_combo)
    try:
        (model or CategoryModel()).check(raw.data_element, combo, attribute)
    except IndicatorsError as exc:
        fr, _, en = str(exc).partition(" / ")
        raise DataImportError(raw.line, exc.field, fr, en) from None
    return DataValue(raw.data_element, period, raw.org_unit, value, combo, attribute)


def import_values(
    store: ValueStore,
    rows: Iterable[RawDataValue],
    model: CategoryModel | None = None,
) -> ImportSummary:
    """Validate and store rows; a later row for the same key (element, org
    unit, period and both combos) updates it."""
    summary = ImportSummary()
    seen: set[tuple[str, str, Period, str, str]] = set()
    for raw in rows:
        try:
            value = validate(store, raw, model)
        except DataImportError as exc:
            summary.ignored += 1
            summary.conflicts.append(str(exc))
            continue
        key = (
            value.data_element,
            value.org_unit,
            value.period,
            value.combo,
            value.attribute,
        )
        if key in seen:
            summary.updated += 1
        else:
            summary.imported += 1
            seen.add(key)
        store.put(value)
        summary.values.append(value)
    return summary


def read_metadata(path: Path | str) -> CategoryModel:
    """The categories of a DHIS2 metadata file (``categoryOptions``,
    ``categories``, ``categoryCombos``, ``categoryOptionCombos``,
    ``dataElements``); a file of org units only declares nothing."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataImportError(
            exc.lineno, "metadata", "JSON illisible", "unreadable JSON"
        ) from exc
    if not isinstance(document, dict):
        raise DataImportError(1, "metadata", "objet attendu", "object expected")
    try:
        return CategoryModel.from_dict(document)
    except (KeyError, TypeError) as exc:
        raise DataImportError(
            1, "metadata", f"champ manquant {exc}", f"missing field {exc}"
        ) from None


def _text(value: float | str) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def write_data_value_set(values: Iterable[DataValue], fmt: str = "json") -> str:
    """A DHIS2 data-value set (``json`` or ``csv``) of ``values``, each with
    its ``categoryOptionCombo`` and ``attributeOptionCombo``::

        {"dataValues": [{"dataElement": "home_interventions", "period": "201703",
          "orgUnit": "cd:2437", "categoryOptionCombo": "f_0_17",
          "attributeOptionCombo": "HllvX50cXC0", "value": "12"}]}
    """
    ordered = sorted(
        values,
        key=lambda v: (v.data_element, v.period, v.org_unit, v.combo, v.attribute),
    )
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(_DHIS2_COLUMNS[:6])
        for v in ordered:
            writer.writerow(
                [
                    v.data_element,
                    v.period.id,
                    v.org_unit,
                    dhis2_id(v.combo),
                    dhis2_id(v.attribute),
                    _text(v.value),
                ]
            )
        return out.getvalue()
    return json.dumps(
        {
            "dataValues": [
                {
                    "dataElement": v.data_element,
                    "period": v.period.id,
                    "orgUnit": v.org_unit,
                    "categoryOptionCombo": dhis2_id(v.combo),
                    "attributeOptionCombo": dhis2_id(v.attribute),
                    "value": _text(v.value),
                }
                for v in ordered
            ]
        },
        ensure_ascii=False,
        indent=1,
    )


def read_org_units(path: Path | str) -> Hierarchy:
    """DHIS2 metadata ``{"organisationUnits": [{"id", "name", "parent": {"id"}}]}``.

    Levels are taken from ``level`` when given, else computed from the tree.
    """
    document = json.loads(Path(path).read_text(encoding="utf-8"))
    items = document.get("organisationUnits", [])
    parents: dict[str, str | None] = {
        item["id"]: (item.get("parent") or {}).get("id") for item in items
    }

    def depth(unit_id: str) -> int:
        level = 1
        parent = parents.get(unit_id)
        while parent:
            parent = parents.get(parent)
            level += 1
            if level > len(parents) + 1:
                raise ValueError(f"cycle in the org-unit tree at {unit_id}")
        return level

    return Hierarchy(
        OrgUnit(
            id=item["id"],
            name=item.get("name", item["id"]),
            level=int(item.get("level") or depth(item["id"])),
            parent=parents[item["id"]],
        )
        for item in items
    )
