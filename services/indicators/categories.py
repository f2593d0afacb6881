"""Disaggregation the DHIS2 way: category options, categories, category
combinations and their option combos, attached to data elements.

A *category* is one way of splitting a count (sex, age group, language,
identity as declared: First Nations, Inuit, non-Indigenous); a *category
combination* crosses one or more categories, and its *category option combos*
are every combination of one option per category, in the categories' order
(DHIS2 generates them the same way: ``Femmes, 0-17 ans``). A value is stored
per category option combo (``categoryOptionCombo``) and per attribute option
combo (``attributeOptionCombo``, the data set's attribute combination, e.g.
the partner who reported it). Both default to DHIS2's default combo
``HllvX50cXC0``, kept as ``""`` here.

Totals follow DHIS2's analytics:

* ``#{de}``: the data element total, the sum over every category option combo
  and attribute option combo;
* ``#{de.coc}``: one category option combo, over every attribute combo;
  ``#{de.coc.aoc}`` one cell; ``#{de.*.aoc}`` every combo of one attribute;
* a category option's subtotal (analytics ``dimension=<category>:<option>``)
  sums the combos holding that option (:func:`subtotal`);
* the ``co`` dimension breaks the total down by combo, listing only the
  combos that have data (:func:`breakdown`).

Example declaration (the shape of DHIS2 metadata, ids of one's own)::

    model = CategoryModel()
    model.add_category(Category("sexe", ("f", "h"), "Sexe", "Sex"))
    model.add_combo(CategoryCombo("sexe_age", ("sexe", "age")))
    model.attach("home_interventions", "sexe_age")
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import product
from typing import Any

import numpy as np

from services.indicators.domain import (
    AggregationType,
    Hierarchy,
    MonthRange,
    Period,
    ValueStore,
    aggregate,
)
from services.indicators.exceptions import IndicatorsError

DEFAULT = "HllvX50cXC0"  # DHIS2's default category option combo
DEFAULT_COMBO = "bjDvmb4bfuf"  # DHIS2's default category combination


def combo_id(text: object) -> str:
    """``""`` for DHIS2's default combo however written, else the id."""
    found = str(text or "").strip()
    return "" if found in (DEFAULT, "default") else found


def dhis2_id(combo: str) -> str:
    """The id a DHIS2 data value set carries (the default spelled out)."""
    return combo or DEFAULT


class UnknownCombo(IndicatorsError):
    """A combo no declaration allows for the data element."""

    def __init__(
        self, element: str, field_name: str, combo: str, allowed: Sequence[str]
    ):
        listed = ", ".join(dhis2_id(a) for a in allowed) or DEFAULT
        super().__init__(
            f"combinaison « {dhis2_id(combo)} » inconnue pour {element} "
            f'(permises : {listed}) / unknown combo "{dhis2_id(combo)}" for '
            f"{element} (allowed: {listed})",
            field_name,
        )
        self.combo = combo


@dataclass(frozen=True)
class CategoryOption:
    id: str
    name_fr: str = ""
    name_en: str = ""


@dataclass(frozen=True)
class Category:
    """``Category("langue", ("fr", "en", "autre"), "Langue", "Language")``;
    ``attribute``: an attribute category (DHIS2 ``dataDimensionType``
    ``ATTRIBUTE``), whose combos qualify who reported, not what was counted."""

    id: str
    options: tuple[str, ...]
    name_fr: str = ""
    name_en: str = ""
    attribute: bool = False


@dataclass(frozen=True)
class CategoryCombo:
    id: str
    categories: tuple[str, ...]
    name_fr: str = ""
    name_en: str = ""
    attribute: bool = False


@dataclass(frozen=True)
class OptionCombo:
    """One category option combo: ``{"id": "f_0_17", "combo": "sexe_age",
    "options": ["f", "0_17"], "name_fr": "Femmes, 0-17 ans"}``"""

    id: str
    combo: str
    options: tuple[str, ...]
    name_fr: str = ""
    name_en: str = ""


@dataclass
class CategoryModel:
    """The declared categories of a node, and which element each disaggregates.

    An element with no category combination has the default one: its only
    combo is the default. Ids of generated option combos are the option ids
    joined by ``_`` unless the declaration names them (a DHIS2 import keeps
    DHIS2's own ids, so a round trip gives the same file back).
    """

    options: dict[str, CategoryOption] = field(default_factory=dict)
    categories: dict[str, Category] = field(default_factory=dict)
    combos: dict[str, CategoryCombo] = field(default_factory=dict)
    option_combos: dict[str, OptionCombo] = field(default_factory=dict)
    elements: dict[str, str] = field(default_factory=dict)  # element -> combo

    # declaration ---------------------------------------------------------
    def add_option(self, option: CategoryOption) -> None:
        self.options[option.id] = option

    def add_category(self, category: Category) -> None:
        for option in category.options:
            self.options.setdefault(option, CategoryOption(option, option, option))
        self.categories[category.id] = category

    def add_combo(
        self,
        combo: CategoryCombo,
        ids: Mapping[frozenset[str], str] | None = None,
    ) -> list[OptionCombo]:
        """Declare a combination and generate its option combos, one per
        element of the cartesian product of its categories' options."""
        for category in combo.categories:
            if category not in self.categories:
                raise IndicatorsError(
                    f"catégorie inconnue « {category} » dans {combo.id} / "
                    f'unknown category "{category}" in {combo.id}',
                    "categories",
                )
        self.combos[combo.id] = combo
        for stale in [c for c in self.option_combos.values() if c.combo == combo.id]:
            del self.option_combos[stale.id]
        made = []
        pools = [self.categories[c].options for c in combo.categories]
        for options in product(*pools):
            key = frozenset(options)
            coc_id = (ids or {}).get(key) or "_".join(options)
            names = [self.options[o] for o in options]
            made.append(
                OptionCombo(
                    coc_id,
                    combo.id,
                    tuple(options),
                    ", ".join(o.name_fr or o.id for o in names),
                    ", ".join(o.name_en or o.id for o in names),
                )
            )
        for coc in made:
            self.option_combos[coc.id] = coc
        return made

    def attach(self, element: str, combo: str) -> None:
        """Disaggregate ``element`` by ``combo`` (``""``: the default)."""
        combo = "" if combo in ("", DEFAULT_COMBO, "default") else combo
        if combo and combo not in self.combos:
            raise IndicatorsError(
                f"combinaison de catégories inconnue « {combo} » pour {element} / "
                f'unknown category combination "{combo}" for {element}',
                "categoryCombo",
            )
        if combo:
            self.elements[element] = combo
        else:
            self.elements.pop(element, None)

    def merge(self, other: CategoryModel) -> None:
        self.options.update(other.options)
        self.categories.update(other.categories)
        self.combos.update(other.combos)
        self.option_combos.update(other.option_combos)
        self.elements.update(other.elements)

    # reading -------------------------------------------------------------
    def combo_of(self, element: str) -> str:
        return self.elements.get(element, "")

    def combos_of(self, element: str) -> list[str]:
        """The category option combos an element's values may carry."""
        combo = self.combo_of(element)
        if not combo:
            return [""]
        return [c.id for c in self.option_combos.values() if c.combo == combo]

    def attribute_combos(self) -> list[str]:
        attributes = {c.id for c in self.combos.values() if c.attribute}
        found = [c.id for c in self.option_combos.values() if c.combo in attributes]
        return ["", *found]

    def check(self, element: str, combo: str, attribute: str = "") -> None:
        """Refuse a combo the element's declaration does not allow."""
        allowed = self.combos_of(element)
        if combo not in allowed:
            raise UnknownCombo(element, "categoryOptionCombo", combo, allowed)
        attributes = self.attribute_combos()
        if attribute not in attributes:
            raise UnknownCombo(element, "attributeOptionCombo", attribute, attributes)

    def combos_with(self, option: str) -> set[str]:
        return {c.id for c in self.option_combos.values() if option in c.options}

    # persistence (plain JSON, DHIS2's metadata names) ----------------------
    def as_dict(self) -> dict[str, Any]:
        return {
            "categoryOptions": [
                {"id": o.id, "name_fr": o.name_fr, "name_en": o.name_en}
                for o in self.options.values()
            ],
            "categories": [
                {
                    "id": c.id,
                    "name_fr": c.name_fr,
                    "name_en": c.name_en,
                    "categoryOptions": [{"id": o} for o in c.options],
                    "dataDimensionType": "ATTRIBUTE"
                    if c.attribute
                    else "DISAGGREGATION",
                }
                for c in self.categories.values()
            ],
            "categoryCombos": [
                {
                    "id": c.id,
                    "name_fr": c.name_fr,
                    "name_en": c.name_en,
                    "categories": [{"id": x} for x in c.categories],
                    "dataDimensionType": "ATTRIBUTE"
                    if c.attribute
                    else "DISAGGREGATION",
                }
                for c in self.combos.values()
            ],
            "categoryOptionCombos": [
                {
                    "id": c.id,
                    "categoryCombo": {"id": c.combo},
                    "categoryOptions": [{"id": o} for o in c.options],
                }
                for c in self.option_combos.values()
            ],
            "dataElements": [
                {"id": e, "categoryCombo": {"id": c}} for e, c in self.elements.items()
            ],
        }

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> CategoryModel:
        """Read DHIS2 metadata (``categoryOptions``, ``categories``,
        ``categoryCombos``, ``categoryOptionCombos``, ``dataElements``); the
        option combos listed keep their DHIS2 ids, the others are generated.
        An element without ``categoryCombo`` is left as it is."""
        model = cls()

        def ids(items: Any) -> tuple[str, ...]:
            return tuple(str(i["id"]) for i in items or ())

        def names(item: Mapping[str, Any]) -> tuple[str, str]:
            if "name_fr" in item or "name_en" in item:  # our own document
                return str(item.get("name_fr", "")), str(item.get("name_en", ""))
            name = str(item.get("name") or item["id"])  # DHIS2's one name
            return name, name

        for item in document.get("categoryOptions") or ():
            model.add_option(CategoryOption(str(item["id"]), *names(item)))
        for item in document.get("categories") or ():
            model.add_category(
                Category(
                    str(item["id"]),
                    ids(item.get("categoryOptions")),
                    *names(item),
                    attribute=item.get("dataDimensionType") == "ATTRIBUTE",
                )
            )
        listed: dict[str, dict[frozenset[str], str]] = defaultdict(dict)
        for item in document.get("categoryOptionCombos") or ():
            combo = (item.get("categoryCombo") or {}).get("id")
            if combo:
                key = frozenset(ids(item.get("categoryOptions")))
                listed[str(combo)][key] = str(item["id"])
        for item in document.get("categoryCombos") or ():
            if item["id"] == DEFAULT_COMBO:
                continue
            model.add_combo(
                CategoryCombo(
                    str(item["id"]),
                    ids(item.get("categories")),
                    *names(item),
                    attribute=item.get("dataDimensionType") == "ATTRIBUTE",
                ),
                listed.get(str(item["id"])),
            )
        for item in document.get("dataElements") or ():
            combo = (item.get("categoryCombo") or {}).get("id")
            if combo is not None:
                model.attach(str(item["id"]), str(combo))
        return model


# ---------------------------------------------------------------------------
# DHIS2's totals and subtotals
# ---------------------------------------------------------------------------


def subtotal(
    store: ValueStore,
    model: CategoryModel,
    element: str,
    options: Iterable[str],
    org_unit: str,
    period: Period | MonthRange,
    aggregation: AggregationType | None = None,
) -> float | None:
    """The element over the combos holding every one of ``options`` (analytics
    ``dimension=sexe:f``: women of every age group); ``None`` without data."""
    wanted = set(options)
    combos = {
        c.id
        for c in model.option_combos.values()
        if c.combo == model.combo_of(element) and wanted <= set(c.options)
    }
    months = period if isinstance(period, MonthRange) else MonthRange.of(period)
    kind = aggregation or store.element(element).aggregation
    if kind is AggregationType.LAST:
        months = MonthRange(0, months.last)
    rows = [
        row
        for combo in sorted(combos)
        for row in store.combo_rows(element, org_unit, months, combo)
    ]
    return (
        aggregate(rows, kind) if kind is AggregationType.SUM else _per_cell(rows, kind)
    )


def _per_cell(
    rows: list[tuple[str, Period, float]], kind: AggregationType
) -> float | None:
    """Several combos' rows of one org unit and period are one cell first."""
    cells: dict[tuple[str, Period], float] = defaultdict(float)
    for unit, period, value in rows:
        cells[(unit, period)] += value
    return aggregate([(u, p, v) for (u, p), v in cells.items()], kind)


def breakdown(
    store: ValueStore,
    element: str,
    org_unit: str,
    period: Period | MonthRange,
    attribute: str | None = None,
) -> dict[str, float]:
    """The ``co`` dimension: the element per category option combo, only the
    combos that have data (their sum is the total for a summed element)."""
    months = period if isinstance(period, MonthRange) else MonthRange.of(period)
    kind = store.element(element).aggregation
    if kind is AggregationType.LAST:
        months = MonthRange(0, months.last)
    seen = {v.combo for v in store.all_values() if v.data_element == element}
    found: dict[str, float] = {}
    for combo in sorted(seen):
        value = aggregate(
            store.combo_rows(element, org_unit, months, combo, attribute), kind
        )
        if value is not None:
            found[combo] = value
    return found


# ---------------------------------------------------------------------------
# Roll-up of disaggregated values, integer-coded (numpy)
# ---------------------------------------------------------------------------


@dataclass
class CodedHierarchy:
    """Org units numbered ``0..n-1`` with, for every (unit, ancestor) pair, the
    two codes: what a roll-up needs, in arrays.

    ``codes["cd:2437"]`` is an int; ``pairs_unit[i]`` rolls into
    ``pairs_ancestor[i]`` (a unit is its own ancestor).
    """

    ids: list[str]
    codes: dict[str, int]
    pairs_unit: np.ndarray
    pairs_ancestor: np.ndarray

    @classmethod
    def of(cls, hierarchy: Hierarchy) -> CodedHierarchy:
        ids = list(hierarchy.units)
        codes = {u: i for i, u in enumerate(ids)}
        units, ancestors = [], []
        for unit, chain in hierarchy.ancestors.items():
            for ancestor in chain:
                units.append(codes[unit])
                ancestors.append(codes[ancestor])
        return cls(
            ids,
            codes,
            np.asarray(units, dtype=np.intp),
            np.asarray(ancestors, dtype=np.intp),
        )

    def encode(self, units: Sequence[str]) -> np.ndarray:
        codes = self.codes
        return np.fromiter((codes[u] for u in units), dtype=np.intp, count=len(units))


def rollup_coded(
    coded: CodedHierarchy,
    units: np.ndarray,
    months: np.ndarray,
    combos: np.ndarray,
    values: np.ndarray,
    first_month: int,
    n_months: int,
    n_combos: int,
) -> np.ndarray:
    """Totals ``[org unit, month, combo]`` at every org unit, ancestors
    included, of integer-coded rows (months as ordinals from ``first_month``).

    One ``bincount`` sums the rows per (unit, month, combo); each unit's block
    is then added to each of its ancestors (one ``np.add.at`` over the
    (unit, ancestor) pairs). The element total per unit and month is
    ``result.sum(axis=2)``: the sum of the combos, as in DHIS2.
    """
    n_units = len(coded.ids)
    width = n_months * n_combos
    flat = (units * n_months + (months - first_month)) * n_combos + combos
    leaf = np.bincount(flat, weights=values, minlength=n_units * width)
    leaf = leaf.reshape(n_units, width)
    totals = np.zeros_like(leaf)
    np.add.at(totals, coded.pairs_ancestor, leaf[coded.pairs_unit])
    return totals.reshape(n_units, n_months, n_combos)
