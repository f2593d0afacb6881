"""The local catalogue: versioned definitions of data elements, indicators and
validation rules, checked before they are proposed, adopted or defined.

The catalogue is data, not code: the starter catalogue (``catalogue.json``) is
its first version, seeded into the store, and every change after it (an edit,
a retirement) is a new *version* of one definition, proposed by a board
secretary and adopted by the board's resolution, or defined directly by the
node administrator. A definition's current version is its highest adopted one;
a value keeps the version of the element it was entered under, and a result
says the version of the indicator it was computed with (older versions can
still be evaluated, so a corrected formula does not rewrite yesterday's
figures).

A definition as stored (``content`` is what the board reads and adopts)::

    {"kind": "indicator", "id": "outreach_share", "version": 2,
     "status": "adopted", "digest": "sha256:...",
     "content": {"numerator": "#{outreach_interventions}",
                 "denominator": "#{home_interventions} + ... + #{office_interventions}",
                 "factor": 100, "name": {"fr": "...", "en": "..."},
                 "definition": {"fr": "...", "en": "..."},
                 "use": {"fr": "...", "en": "..."}},
     "adopted": {"by": "resolution", "resolution_id": "res-1", "number": "2026-004"}}

Every refusal names the field (``content.numerator``) and the reason in French
and English (:class:`DefinitionRefused`).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from services.indicators.domain import AggregationType, DataElement, ValueType
from services.indicators.exceptions import DefinitionRefused, ExpressionError
from services.indicators.expression import Indicator, operands, parse

DATA_ELEMENT = "data_element"
INDICATOR = "indicator"
VALIDATION_RULE = "validation_rule"
KINDS = (DATA_ELEMENT, INDICATOR, VALIDATION_RULE)
KIND_NAMES = {
    DATA_ELEMENT: ("élément de données", "data element"),
    INDICATOR: ("indicateur", "indicator"),
    VALIDATION_RULE: ("règle de validation", "validation rule"),
}

PROPOSED = "proposed"
ADOPTED = "adopted"
REFUSED = "refused"  # adopted by the board, but no longer valid when it arrived

OPERATORS = {
    "equal_to": "==",
    "not_equal_to": "!=",
    "greater_than": ">",
    "greater_than_or_equal_to": ">=",
    "less_than": "<",
    "less_than_or_equal_to": "<=",
    "compulsory_pair": "compulsory_pair",
    "exclusive_pair": "exclusive_pair",
}
IMPORTANCE = ("high", "medium", "low")
PERIOD_TYPES = ("month", "quarter", "year")
MISSING = (
    "skip_if_all_values_missing",
    "skip_if_any_value_missing",
    "never_skip",
)
_ID = re.compile(r"^[a-z][a-z0-9_]{1,63}$")
_TEXT_MAX = 2000


def digest(content: Mapping[str, Any]) -> str:
    """The fingerprint a board adopts: what the resolution carries is what
    becomes active, byte for byte (canonical JSON)."""
    text = json.dumps(
        content, sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Definition:
    kind: str
    id: str
    version: int
    content: Mapping[str, Any]
    status: str = ADOPTED
    adopted: Mapping[str, Any] | None = None
    proposed_by: str = ""
    note: Mapping[str, str] | None = None

    @property
    def key(self) -> str:
        return definition_key(self.kind, self.id, self.version)

    @property
    def digest(self) -> str:
        return digest(self.content)

    @property
    def retired(self) -> bool:
        return bool(self.content.get("retired"))

    def reference(self) -> dict[str, Any]:
        """What a board's agenda item and resolution carry to adopt it."""
        return {
            "service": "indicators",
            "kind": self.kind,
            "id": self.id,
            "version": self.version,
            "digest": self.digest,
            "content": dict(self.content),
        }


def definition_key(kind: str, id_: str, version: int) -> str:
    return f"{kind}|{id_}|{version}"


# ---------------------------------------------------------------------------
# From content to the domain's types
# ---------------------------------------------------------------------------


def to_element(id_: str, content: Mapping[str, Any]) -> DataElement:
    return DataElement(
        id_,
        ValueType(content["value_type"]),
        AggregationType(content["aggregation"]),
        content["name"]["fr"],
        content["name"]["en"],
        content["definition"]["fr"],
        content["definition"]["en"],
        is_count=bool(content.get("is_count")),
    )


def to_indicator(id_: str, content: Mapping[str, Any]) -> Indicator:
    return Indicator(
        id_,
        content["numerator"],
        content.get("denominator") or "1",
        float(content.get("factor", 1)),
        content["name"]["fr"],
        content["name"]["en"],
        content["definition"]["fr"],
        content["definition"]["en"],
    )


@dataclass(frozen=True)
class ValidationRule:
    """A DHIS2 validation rule: ``left operator right``, for one period type.

    ``{"id": "decisions_done_within_due", "left": "#{decisions_done_on_time}",
    "operator": "less_than_or_equal_to", "right": "#{decisions_due}",
    "importance": "high", "period_type": "month"}``
    """

    id: str
    left: str
    operator: str
    right: str
    importance: str = "medium"
    period_type: str = "month"
    missing_value_strategy: str = "skip_if_all_values_missing"
    name_fr: str = ""
    name_en: str = ""
    version: int = 1

    @property
    def elements(self) -> set[str]:
        return operands(parse(self.left)) | operands(parse(self.right))


def to_rule(id_: str, content: Mapping[str, Any], version: int = 1) -> ValidationRule:
    return ValidationRule(
        id_,
        content["left"],
        content["operator"],
        content["right"],
        content.get("importance", "medium"),
        content.get("period_type", "month"),
        content.get("missing_value_strategy", MISSING[0]),
        content["name"]["fr"],
        content["name"]["en"],
        version,
    )


# ---------------------------------------------------------------------------
# The catalogue: every version, and what is current
# ---------------------------------------------------------------------------


@dataclass
class Catalogue:
    """All versions of all definitions; ``current`` is the highest adopted."""

    definitions: list[Definition] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._current: dict[tuple[str, str], Definition] = {}
        self._versions: dict[tuple[str, str, int], Definition] = {}
        for d in self.definitions:
            self._versions[(d.kind, d.id, d.version)] = d
            if d.status != ADOPTED:
                continue
            now = self._current.get((d.kind, d.id))
            if now is None or d.version > now.version:
                self._current[(d.kind, d.id)] = d

    def current(self, kind: str, id_: str) -> Definition | None:
        return self._current.get((kind, id_))

    def version(self, kind: str, id_: str, version: int) -> Definition | None:
        return self._versions.get((kind, id_, version))

    def next_version(self, kind: str, id_: str) -> int:
        found = [v for (k, i, v) in self._versions if k == kind and i == id_]
        return max(found, default=0) + 1

    def of_kind(self, kind: str, *, retired: bool = False) -> list[Definition]:
        found = [d for (k, _), d in self._current.items() if k == kind]
        return [d for d in found if retired or not d.retired]

    def history(self, kind: str, id_: str) -> list[Definition]:
        return sorted(
            (d for d in self.definitions if d.kind == kind and d.id == id_),
            key=lambda d: d.version,
        )

    # the domain's views ------------------------------------------------------
    def elements(self) -> dict[str, DataElement]:
        """Every element with a current version, retired ones included: their
        values are still read (and a retired count is still suppressed)."""
        found = {
            d.id: to_element(d.id, d.content)
            for d in self.of_kind(DATA_ELEMENT, retired=True)
        }
        # a count stays a count through any version (suppression protects it)
        for d in self.definitions:
            if d.kind == DATA_ELEMENT and d.status == ADOPTED:
                if d.content.get("is_count") and d.id in found:
                    found[d.id] = _as_count(found[d.id])
        return found

    def active_element(self, id_: str) -> DataElement | None:
        d = self.current(DATA_ELEMENT, id_)
        return None if d is None or d.retired else self.elements()[id_]

    def indicators(self) -> dict[str, Indicator]:
        return {d.id: to_indicator(d.id, d.content) for d in self.of_kind(INDICATOR)}

    def indicator(self, id_: str, version: int | None = None) -> Definition | None:
        if version is None:
            found = self.current(INDICATOR, id_)
            return None if found is None or found.retired else found
        d = self.version(INDICATOR, id_, version)
        return d if d is not None and d.status == ADOPTED else None

    def rules(self) -> list[ValidationRule]:
        return [
            to_rule(d.id, d.content, d.version) for d in self.of_kind(VALIDATION_RULE)
        ]


def _as_count(element: DataElement) -> DataElement:
    return replace(element, is_count=True)


# ---------------------------------------------------------------------------
# Checks: a definition is refused with its field named
# ---------------------------------------------------------------------------


def _refuse(field_: str, fr: str, en: str) -> DefinitionRefused:
    return DefinitionRefused(field_, fr, en)


def _text_pair(content: Mapping[str, Any], key: str, required: bool = True) -> dict:
    value = content.get(key)
    if value is None and not required:
        return {}
    if not isinstance(value, Mapping):
        raise _refuse(
            f"content.{key}",
            'un texte en français et en anglais est requis ({"fr": ..., "en": ...})',
            'a French and an English text are required ({"fr": ..., "en": ...})',
        )
    out = {}
    for lang, name in (("fr", "français"), ("en", "anglais")):
        text = value.get(lang)
        if not isinstance(text, str) or not text.strip():
            raise _refuse(
                f"content.{key}.{lang}",
                f"texte en {name} requis",
                f"the {'French' if lang == 'fr' else 'English'} text is required",
            )
        if len(text) > _TEXT_MAX:
            raise _refuse(
                f"content.{key}.{lang}",
                f"au plus {_TEXT_MAX} caractères",
                f"at most {_TEXT_MAX} characters",
            )
        out[lang] = text.strip()
    extra = set(value) - {"fr", "en"}
    if extra:
        name = sorted(extra)[0]
        raise _refuse(
            f"content.{key}.{name}",
            "seuls « fr » et « en » sont lus",
            'only "fr" and "en" are read',
        )
    return out


def _unknown_keys(content: Mapping[str, Any], allowed: Iterable[str]) -> None:
    extra = sorted(set(content) - set(allowed))
    if extra:
        raise _refuse(f"content.{extra[0]}", "champ inconnu", "unknown field")


def _formula(
    content: Mapping[str, Any], key: str, catalogue: Catalogue, required: bool = True
) -> str:
    text = content.get(key)
    if text is None and not required:
        return "1"
    if not isinstance(text, str) or not text.strip():
        raise _refuse(f"content.{key}", "formule requise", "a formula is required")
    try:
        node = parse(text)
    except ExpressionError as exc:
        raise _refuse(f"content.{key}", *_halves(str(exc))) from exc
    for element in sorted(operands(node)):
        d = catalogue.current(DATA_ELEMENT, element)
        if d is None:
            raise _refuse(
                f"content.{key}",
                f"élément de données inconnu « {element} »",
                f'unknown data element "{element}"',
            )
        if d.retired:
            raise _refuse(
                f"content.{key}",
                f"élément de données retiré « {element} » (version {d.version})",
                f'retired data element "{element}" (version {d.version})',
            )
    return text.strip()


def _halves(message: str) -> tuple[str, str]:
    fr, _, en = message.partition(" / ")
    return fr, en or fr


def _number(
    content: Mapping[str, Any], key: str, default: float | None, positive: bool
) -> float | None:
    value = content.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _refuse(f"content.{key}", "nombre attendu", "a number is expected")
    if not math.isfinite(value) or (positive and value <= 0):
        raise _refuse(
            f"content.{key}",
            "nombre fini" + (" positif" if positive else "") + " attendu",
            ("a finite positive number" if positive else "a finite number")
            + " is expected",
        )
    return float(value)


def _choice(content: Mapping[str, Any], key: str, choices: Iterable[str], default):
    value = content.get(key, default)
    choices = list(choices)
    if value not in choices:
        listed = ", ".join(choices)
        raise _refuse(
            f"content.{key}",
            f"« {value} » n'est pas une valeur permise ({listed})",
            f'"{value}" is not an allowed value ({listed})',
        )
    return value


def check_id(id_: object) -> str:
    if not isinstance(id_, str) or not _ID.match(id_):
        raise _refuse(
            "id",
            "identifiant de 2 à 64 caractères : minuscules, chiffres, « _ »",
            'identifier of 2 to 64 characters: lower case, digits, "_"',
        )
    return id_


def check(
    kind: str, id_: str, content: Mapping[str, Any], catalogue: Catalogue
) -> dict[str, Any]:
    """The normalised content of a new version of ``kind`` ``id_``, or
    :class:`DefinitionRefused` naming the field. ``{"retired": true}`` retires
    the current version (kept as the new version's content, marked retired)."""
    if kind not in KINDS:
        raise _refuse(
            "kind",
            f"type de définition inconnu « {kind} » ({', '.join(KINDS)})",
            f'unknown kind of definition "{kind}" ({", ".join(KINDS)})',
        )
    check_id(id_)
    if not isinstance(content, Mapping):
        raise _refuse("content", "objet attendu", "an object is expected")
    current = catalogue.current(kind, id_)
    if content.get("retired"):
        return _retire(kind, id_, current, catalogue)
    if kind == DATA_ELEMENT:
        return _check_element(id_, content, current)
    if kind == INDICATOR:
        return _check_indicator(content, catalogue)
    return _check_rule(content, catalogue)


def _retire(
    kind: str, id_: str, current: Definition | None, catalogue: Catalogue
) -> dict[str, Any]:
    fr_kind, en_kind = KIND_NAMES[kind]
    if current is None or current.retired:
        raise _refuse(
            "id",
            f"aucun {fr_kind} actif « {id_} » à retirer",
            f'no active {en_kind} "{id_}" to retire',
        )
    if kind == DATA_ELEMENT:
        users = sorted(
            d.id
            for d in catalogue.of_kind(INDICATOR)
            if id_ in to_indicator(d.id, d.content).elements
        ) + sorted(
            d.id
            for d in catalogue.of_kind(VALIDATION_RULE)
            if id_ in to_rule(d.id, d.content).elements
        )
        if users:
            listed = ", ".join(users)
            raise _refuse(
                "content.retired",
                f"l'élément « {id_} » sert encore à : {listed} ; retirez-les ou "
                "modifiez-les d'abord",
                f'the element "{id_}" is still used by: {listed}; retire or '
                "change them first",
            )
    return dict(current.content) | {"retired": True}


_TEXTS = ("name", "definition", "use")


def _check_element(
    id_: str, content: Mapping[str, Any], current: Definition | None
) -> dict[str, Any]:
    _unknown_keys(
        content,
        (
            "value_type",
            "aggregation",
            "is_count",
            "min",
            "max",
            "categories",
            "retired",
            *_TEXTS,
        ),
    )
    categories = _categories(content)
    value_type = _choice(content, "value_type", [t.value for t in ValueType], None)
    aggregation = _choice(
        content, "aggregation", [a.value for a in AggregationType], "sum"
    )
    is_count = content.get("is_count", value_type == ValueType.INTEGER.value)
    if not isinstance(is_count, bool):
        raise _refuse("content.is_count", "vrai ou faux attendu", "true or false")
    if current is not None:
        before = current.content
        if before.get("value_type") != value_type:
            raise _refuse(
                "content.value_type",
                f"le type ne change pas d'une version à l'autre (« "
                f"{before.get('value_type')} ») : les valeurs déjà saisies ne le "
                "suivraient pas ; définissez un nouvel élément",
                f'the type does not change between versions ("'
                f'{before.get("value_type")}"): values already entered would '
                "not follow; define a new element",
            )
        if before.get("is_count") and before.get("aggregation") != aggregation:
            was = before.get("aggregation")
            raise _refuse(
                "content.aggregation",
                f"l'agrégation d'un dénombrement ne change pas (« {was} ») : deux "
                "tableaux publiés autrement supprimés révéleraient des petites "
                "cellules par différence ; définissez un nouvel élément",
                f'a count\'s aggregation does not change ("{was}"): two tables '
                "published with other suppressions would reveal small cells by "
                "difference; define a new element",
            )
        if (before.get("categories") or []) != categories:
            raise _refuse(
                "content.categories",
                "les catégories ne changent pas d'une version à l'autre : les "
                "valeurs déjà saisies par combinaison ne les suivraient pas ; "
                "définissez un nouvel élément",
                "the categories do not change between versions: values already "
                "entered per combo would not follow; define a new element",
            )
        if before.get("is_count") and not is_count:
            raise _refuse(
                "content.is_count",
                "un dénombrement le reste : la suppression des petites cellules "
                "protège ses valeurs",
                "a count stays a count: small-cell suppression protects its values",
            )
    low = _number(content, "min", None, False)
    high = _number(content, "max", None, False)
    if low is not None and high is not None and low > high:
        raise _refuse("content.min", "min supérieur à max", "min is above max")
    out: dict[str, Any] = {
        "value_type": value_type,
        "aggregation": aggregation,
        "is_count": is_count,
        **{key: _text_pair(content, key) for key in _TEXTS},
    }
    if categories:
        out["categories"] = categories
    if low is not None:
        out["min"] = low
    if high is not None:
        out["max"] = high
    return out


def _categories(content: Mapping[str, Any]) -> list[dict[str, Any]]:
    """An element's categories as the board reads them (DHIS2's category
    combination: one combo per choice of one option in each category)::

        [{"id": "sexe", "name": {"fr": "Sexe", "en": "Sex"},
          "options": [{"id": "f", "name": {"fr": "Femmes", "en": "Women"}}, ...]}]
    """
    given = content.get("categories")
    if given is None or given == []:
        return []
    if not isinstance(given, list) or len(given) > 4:
        raise _refuse(
            "content.categories",
            "liste d'au plus 4 catégories attendue",
            "a list of at most 4 categories is expected",
        )
    out, seen = [], set()
    for i, category in enumerate(given):
        where = f"content.categories[{i}]"
        if not isinstance(category, Mapping):
            raise _refuse(where, "objet attendu", "an object is expected")
        _unknown_keys_at(where, category, ("id", "name", "options"))
        ident = _id_at(f"{where}.id", category.get("id"))
        if ident in seen:
            raise _refuse(f"{where}.id", "catégorie en double", "duplicate category")
        seen.add(ident)
        options = category.get("options")
        if not isinstance(options, list) or not 2 <= len(options) <= 20:
            raise _refuse(
                f"{where}.options",
                "de 2 à 20 options attendues",
                "2 to 20 options are expected",
            )
        made, ids = [], set()
        for j, option in enumerate(options):
            at = f"{where}.options[{j}]"
            if not isinstance(option, Mapping):
                raise _refuse(at, "objet attendu", "an object is expected")
            _unknown_keys_at(at, option, ("id", "name"))
            oid = _id_at(f"{at}.id", option.get("id"), short=True)
            if oid in ids:
                raise _refuse(f"{at}.id", "option en double", "duplicate option")
            ids.add(oid)
            made.append({"id": oid, "name": _text_pair_at(at, option, "name")})
        out.append(
            {
                "id": ident,
                "name": _text_pair_at(where, category, "name"),
                "options": made,
            }
        )
    return out


_OPTION_ID = re.compile(r"^[a-z0-9][a-z0-9_]{0,31}$")


def _id_at(where: str, value: object, short: bool = False) -> str:
    pattern = _OPTION_ID if short else _ID
    if not isinstance(value, str) or not pattern.match(value):
        raise _refuse(
            where,
            "identifiant : minuscules, chiffres, « _ »",
            'identifier: lower case, digits, "_"',
        )
    return value


def _unknown_keys_at(
    where: str, content: Mapping[str, Any], allowed: Iterable[str]
) -> None:
    extra = sorted(set(content) - set(allowed))
    if extra:
        raise _refuse(f"{where}.{extra[0]}", "champ inconnu", "unknown field")


def _text_pair_at(where: str, content: Mapping[str, Any], key: str) -> dict:
    try:
        return _text_pair(content, key)
    except DefinitionRefused as exc:
        field_ = exc.field or ""
        raise DefinitionRefused(
            where + field_.removeprefix("content"), exc.reason_fr, exc.reason_en
        ) from exc


def _check_indicator(
    content: Mapping[str, Any], catalogue: Catalogue
) -> dict[str, Any]:
    _unknown_keys(content, ("numerator", "denominator", "factor", "retired", *_TEXTS))
    return {
        "numerator": _formula(content, "numerator", catalogue),
        "denominator": _formula(content, "denominator", catalogue, required=False),
        "factor": _number(content, "factor", 1.0, True),
        **{key: _text_pair(content, key) for key in _TEXTS},
    }


def _check_rule(content: Mapping[str, Any], catalogue: Catalogue) -> dict[str, Any]:
    _unknown_keys(
        content,
        (
            "left",
            "operator",
            "right",
            "importance",
            "period_type",
            "missing_value_strategy",
            "retired",
            "name",
            "definition",
        ),
    )
    return {
        "left": _formula(content, "left", catalogue),
        "operator": _choice(content, "operator", OPERATORS, None),
        "right": _formula(content, "right", catalogue),
        "importance": _choice(content, "importance", IMPORTANCE, "medium"),
        "period_type": _choice(content, "period_type", PERIOD_TYPES, "month"),
        "missing_value_strategy": _choice(
            content, "missing_value_strategy", MISSING, MISSING[0]
        ),
        "name": _text_pair(content, "name"),
        "definition": _text_pair(content, "definition"),
    }


def from_doc(doc: Mapping[str, Any]) -> Definition:
    return Definition(
        doc["kind"],
        doc["id"],
        int(doc["version"]),
        doc["content"],
        doc.get("status", ADOPTED),
        doc.get("adopted"),
        doc.get("proposed_by", ""),
        doc.get("note"),
    )


def to_doc(d: Definition) -> dict[str, Any]:
    return {
        "_id": d.key,
        "kind": d.kind,
        "id": d.id,
        "version": d.version,
        "content": dict(d.content),
        "digest": d.digest,
        "status": d.status,
        "adopted": dict(d.adopted) if d.adopted else None,
        "proposed_by": d.proposed_by,
        "note": dict(d.note) if d.note else None,
    }


def describe(d: Definition) -> dict[str, Any]:
    """The public form of one version (the catalogue route)."""
    body: dict[str, Any] = {
        "kind": d.kind,
        "id": d.id,
        "version": d.version,
        "status": "retired" if d.retired and d.status == ADOPTED else d.status,
        "digest": d.digest,
        **{k: v for k, v in d.content.items() if k != "retired"},
    }
    if d.adopted:
        body["adopted"] = dict(d.adopted)
    if d.note:
        body["note"] = dict(d.note)
    return body
