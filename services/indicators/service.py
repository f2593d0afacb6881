"""The indicators nameko service: thin entrypoints over the domain.

RPCs (all payloads JSON; errors are the shared types, French then English)::

    indicators.enter_value({"data_element": "home_interventions",
                            "org_unit": "csd:2437067", "period": "202603",
                            "value": 12})
    indicators.approve({"org_unit": "cd:2437", "period": "2026Q1", "by": "..."})
    indicators.unapprove({"org_unit": "cd:2437", "period": "2026Q1",
                          "reason": "erreur de saisie"})
    indicators.evaluate({"indicator": "waiting_people", "org_unit": "cd:2437",
                         "period": "2026Q1"})
    indicators.dashboard({"org_unit": "2437"})
    indicators.catalogue({"proposed": true})
    indicators.propose_definition({"kind": "indicator", "id": "office_share",
                                   "content": {...}, "by": "..."})
    indicators.define({...same, by the node administrator: current at once})

The catalogue is data in the store (:mod:`definitions`; the starter,
``catalogue.json``, is seeded idempotently): a board secretary proposes a new
version, and the ``boards.resolution_adopted`` whose agenda item carried its
reference (same digest) makes it current; values keep the element version they
were entered under and evaluations say the indicator version they used.

Values entered by hand are validated against the data element's type and
refused (409) in an approved period. Approving an MRC's period locks its
values and sends ``indicators.values_approved``, whose small cells are already
suppressed (primary and secondary, :mod:`suppression`); approved again after an
unapproval, a period's counts also hide what would differ by a small count from
the versions sent before (:func:`domain.revision_hidden`). Public evaluations
(any formula, the dashboard) read only the published linked table of each
count (:mod:`publication`): a term touching a suppressed cell suppresses the
answer, so no difference of public answers gives a small count away.

Consumed events update projections and recompute the affected values from the
projection (:mod:`computed`), in the consumer's transaction, so a redelivered
or replayed event gives the same values.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from marshmallow import ValidationError
from nameko.dependency_providers import Config
from pymongo.errors import DuplicateKeyError

from services.indicators import computed, events, quality, surveys
from services.indicators import definitions as defs
from services.indicators.catalogue import seed_documents
from services.indicators.categories import (
    Category,
    CategoryCombo,
    CategoryModel,
    CategoryOption,
    combo_id,
    dhis2_id,
)
from services.indicators.dependencies import ReportKeys
from services.indicators.domain import (
    APPROVAL_LEVEL,
    Approval,
    DataElement,
    DataValue,
    Hierarchy,
    Period,
    ValueStore,
    approval_key,
    locking_approval,
    parse_value,
    revision_hidden,
    shareable,
)
from services.indicators.exceptions import DefinitionRefused, IndicatorsError
from services.indicators.expression import Indicator, evaluate_indicator
from services.indicators.publication import PublishedValues, TableSource, Withheld
from services.indicators.repository import INDEXES, IndicatorsRepository
from services.indicators.schemas import (
    ApprovalInput,
    DashboardQuery,
    DecisionStatusChanged,
    DefinitionInput,
    EvaluateInput,
    ResultsPublished,
    ServiceChanged,
    UnapprovalInput,
    ValidateInput,
    ValueInput,
    WaitingListChanged,
)
from services.indicators.suppression import (
    Table,
    resuppress,
    suppress,
    suppress_rate,
)
from services.indicators.survey_repository import SURVEY_INDEXES, SurveyRepository
from shared import errors
from shared.consumer import Retry, consume_batch
from shared.envelope import Envelope, utcnow
from shared.outbox import Outbox
from shared.rpc import rpc
from shared.service import ServiceBase
from shared.store import Store

log = logging.getLogger(__name__)


def invalid(exc: ValidationError) -> errors.Invalid:
    fields = (
        exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
    )
    names = ", ".join(sorted(fields))
    return errors.Invalid(
        fields, f"Données invalides : {names}.", f"Invalid data: {names}."
    )


@contextmanager
def refusals() -> Iterator[None]:
    """Domain refusals leave as 422 naming the field."""
    try:
        yield
    except IndicatorsError as exc:
        raise errors.Invalid({exc.field or "_schema": [str(exc)]}) from exc


def normalise_unit(code: str) -> str:
    """``2437`` -> ``cd:2437``, ``2437067`` -> ``csd:2437067``; ids pass through."""
    code = str(code)
    if ":" in code or code == "qc":
        return code
    if len(code) == 4:
        return f"cd:{code}"
    if len(code) == 2:
        return f"region:{code}"
    return computed.municipality_unit(code)


def factor_unit(factor: float, lang: str) -> str:
    """``100`` -> ``%``; ``10000`` -> ``pour 10 000`` / ``per 10,000``."""
    if factor == 1:
        return ""
    if factor == 100:
        return "%"
    if lang == "en":
        return f"per {int(factor):,}"
    return f"pour {int(factor):,}".replace(",", "\u00a0")


class IndicatorsService(ServiceBase):
    name = "indicators"
    store = Store(indexes=INDEXES | SURVEY_INDEXES)
    outbox = Outbox()
    config = Config()

    # --- helpers -----------------------------------------------------------
    @property
    def threshold(self) -> int:
        """Small-cell threshold of this node (``SUPPRESSION_THRESHOLD``, 5)."""
        return int(self.config.get("SUPPRESSION_THRESHOLD") or 5)

    def _config(self, key: str, default: str | None = None) -> str | None:
        value = self.config.get(key, default)
        return None if value is None else str(value)

    def _repo(self) -> IndicatorsRepository:
        return IndicatorsRepository(self.store.db)

    def _approvals(self, session: Any = None) -> list[Approval]:
        return [
            Approval(a["org_unit"], Period.parse(a["period"]))
            for a in self._repo().approvals(session)
            if a.get("approved")
        ]

    def _hierarchy(self, session: Any = None) -> Hierarchy:
        hierarchy = self._repo().hierarchy(session)
        if not len(hierarchy):
            raise errors.Conflict(
                "Aucune unité d'organisation : lancez « maillage indicators load-geo ».",
                'No org units: run "maillage indicators load-geo".',
            )
        return hierarchy

    def _event_hierarchy(self, session: Any) -> Hierarchy:
        """Events wait (retried, not dead-lettered) until the tree is loaded."""
        hierarchy = self._repo().hierarchy(session)
        if not len(hierarchy):
            log.warning("no org units yet: run `maillage indicators load-geo`")
            raise Retry("no org units")
        return hierarchy

    def _values(
        self,
        hierarchy: Hierarchy,
        session: Any = None,
        elements: set[str] | None = None,
        catalogue: defs.Catalogue | None = None,
    ) -> ValueStore:
        known = (catalogue or self._catalogue(session)).elements()
        store = ValueStore(hierarchy, known)
        return self._repo().value_store(store, session, elements)

    _seeded: set[str] = set()  # databases this process has seeded

    def _catalogue(self, session: Any = None) -> defs.Catalogue:
        """The local catalogue, every version, from the store; the starter
        (``catalogue.json``) is seeded once per database, idempotently."""
        repo = self._repo()
        name = repo.db.name
        if name not in IndicatorsService._seeded:
            repo.seed_definitions(seed_documents())
            IndicatorsService._seeded.add(name)
        return defs.Catalogue([defs.from_doc(d) for d in repo.definitions(session)])

    # --- RPCs --------------------------------------------------------------
    @rpc
    def catalogue(self, query: dict[str, Any] | None = None) -> dict[str, Any]:
        """The current version of every data element, indicator and validation
        rule (fr and en: name, definition, intended use); retired ones with
        ``"status": "retired"``. ``{"proposed": true}`` adds the versions
        waiting for a board's resolution."""
        catalogue = self._catalogue()
        body: dict[str, Any] = {
            "data_elements": [
                defs.describe(d)
                for d in catalogue.of_kind(defs.DATA_ELEMENT, retired=True)
            ],
            "indicators": [defs.describe(d) for d in catalogue.of_kind(defs.INDICATOR)],
            "validation_rules": [
                defs.describe(d) for d in catalogue.of_kind(defs.VALIDATION_RULE)
            ],
        }
        if (query or {}).get("proposed"):
            body["proposed"] = [
                defs.describe(d)
                for d in catalogue.definitions
                if d.status == defs.PROPOSED
            ]
        return body

    @rpc
    def definition_history(self, kind: str, id_: str) -> list[dict[str, Any]]:
        """Every version of one definition, oldest first."""
        found = self._catalogue().history(str(kind), str(id_))
        if not found:
            raise errors.NotFound(str(kind), str(id_))
        return [defs.describe(d) for d in found]

    @staticmethod
    def _describe(d: defs.Definition) -> dict[str, Any]:
        return defs.describe(d)

    def _new_version(
        self, payload: dict[str, Any], status: str, adopted: dict[str, Any] | None
    ) -> defs.Definition:
        try:
            data = DefinitionInput().load(payload)
        except ValidationError as exc:
            raise invalid(exc) from exc
        with self.store.transaction() as session:
            catalogue = self._catalogue(session)
            with refusals():
                content = defs.check(
                    data["kind"], data["id"], data["content"], catalogue
                )
                if data["kind"] == defs.DATA_ELEMENT:  # categories hold together
                    self._declare(self._repo().categories(session), data["id"], content)
            definition = defs.Definition(
                data["kind"],
                data["id"],
                catalogue.next_version(data["kind"], data["id"]),
                content,
                status,
                adopted,
                data["by"],
            )
            try:
                self._repo().add_definition(defs.to_doc(definition), session)
                if status == defs.ADOPTED:
                    self._categories_of(definition, session)
            except DuplicateKeyError as exc:
                raise errors.Conflict(
                    f"Version {definition.version} de {definition.id} déjà "
                    "enregistrée : réessayez.",
                    f"Version {definition.version} of {definition.id} already "
                    "recorded: try again.",
                ) from exc
        return definition

    @staticmethod
    def _declare(
        model: CategoryModel, element: str, content: dict[str, Any]
    ) -> CategoryModel:
        """An element version's categories in the node's model (DHIS2's
        category combination ``<category>_<category>``, its option combos the
        cartesian product); a category already declared with other options is
        refused naming ``content.categories[i].options``."""
        given = content.get("categories") or []
        if not given:
            return model
        for i, category in enumerate(given):
            options = tuple(o["id"] for o in category["options"])
            known = model.categories.get(category["id"])
            if known is not None and known.options != options:
                listed = ", ".join(known.options)
                raise DefinitionRefused(
                    f"content.categories[{i}].options",
                    f"la catégorie « {category['id']} » existe avec d'autres "
                    f"options ({listed}) : reprenez-les ou nommez-en une autre",
                    f'the category "{category["id"]}" exists with other options '
                    f"({listed}): use them or name another category",
                )
            for option in category["options"]:
                name = option["name"]
                model.add_option(CategoryOption(option["id"], name["fr"], name["en"]))
            model.add_category(
                Category(
                    category["id"],
                    options,
                    category["name"]["fr"],
                    category["name"]["en"],
                )
            )
        ids = tuple(c["id"] for c in given)
        combo = "_".join(ids)
        if combo not in model.combos:
            names = [model.categories[c] for c in ids]
            model.add_combo(
                CategoryCombo(
                    combo,
                    ids,
                    " × ".join(c.name_fr for c in names),
                    " × ".join(c.name_en for c in names),
                )
            )
        model.attach(element, combo)
        return model

    def _categories_of(self, definition: defs.Definition, session: Any) -> None:
        """A data element version that becomes current declares its categories."""
        if definition.kind != defs.DATA_ELEMENT or definition.retired:
            return
        repo = self._repo()
        content = dict(definition.content)
        with refusals():
            model = self._declare(repo.categories(session), definition.id, content)
        repo.save_categories(model, session)

    @rpc
    def categories(self) -> dict[str, Any]:
        """The node's categories, and the option combos of each disaggregated
        element with their names (what the entry form offers)::

            {"categories": [{"id": "sexe", "name": {...}, "options": [...]}],
             "elements": {"visits": [{"id": "f", "name": {"fr": "Femmes",
                                                          "en": "Women"}}]}}
        """
        model = self._repo().categories()
        options = model.options
        return {
            "categories": [
                {
                    "id": c.id,
                    "name": {"fr": c.name_fr, "en": c.name_en},
                    "attribute": c.attribute,
                    "options": [
                        {
                            "id": o,
                            "name": {
                                "fr": options[o].name_fr if o in options else o,
                                "en": options[o].name_en if o in options else o,
                            },
                        }
                        for o in c.options
                    ],
                }
                for c in model.categories.values()
            ],
            "elements": {
                element: [
                    {
                        "id": coc,
                        "name": {
                            "fr": model.option_combos[coc].name_fr,
                            "en": model.option_combos[coc].name_en,
                        },
                    }
                    for coc in model.combos_of(element)
                ]
                for element in model.elements
            },
        }

    @rpc
    def propose_definition(self, payload: dict[str, Any]) -> dict[str, Any]:
        """A board secretary proposes a new version (an edit, or
        ``{"retired": true}``); it is checked now, stored as proposed, and
        becomes current only when ``boards.resolution_adopted`` carries its
        ``reference`` (same digest). The reference goes on the agenda item::

            {"service": "indicators", "kind": "indicator", "id": "office_share",
             "version": 1, "digest": "sha256:...", "content": {...}}
        """
        definition = self._new_version(payload, defs.PROPOSED, None)
        return defs.describe(definition) | {"reference": definition.reference()}

    @rpc
    def define(self, payload: dict[str, Any]) -> dict[str, Any]:
        """The node administrator defines directly: current at once."""
        adopted = {"by": "node_admin", "account": str(payload.get("by") or "")}
        return defs.describe(self._new_version(payload, defs.ADOPTED, adopted))

    @consume_batch(events.RESOLUTION_ADOPTED)
    def on_resolution_adopted(self, envelopes: list[Envelope], session: Any) -> None:
        """A public resolution whose item carried a proposed definition makes
        that version current, if what it carries is what was proposed (same
        digest) and it still holds against today's catalogue (an element it
        reads may have been retired since): otherwise the version is marked
        refused, with the reason, and nothing changes."""
        repo = self._repo()
        for envelope in envelopes:
            payload = envelope.payload
            ref = payload.get("definition")
            if not isinstance(ref, dict) or ref.get("service") != "indicators":
                continue
            if payload.get("closed_session"):
                continue  # a catalogue is public: adopted in public only
            try:
                key = defs.definition_key(
                    str(ref["kind"]), str(ref["id"]), int(ref["version"])
                )
            except (KeyError, TypeError, ValueError):
                log.warning("resolution %s: unreadable definition", payload)
                continue
            doc = repo.definition(key, session)
            if doc is None or doc.get("status") != defs.PROPOSED:
                log.info("resolution %s: %s not a proposal", payload, key)
                continue
            reason = self._adoption_refused(doc, ref, session)
            resolution = {
                "by": "resolution",
                "board_id": payload.get("board_id"),
                "resolution_id": payload.get("resolution_id"),
                "number": payload.get("number"),
                "adopted_on": str(payload.get("adopted_on") or ""),
            }
            if reason is None:
                doc["status"], doc["adopted"] = defs.ADOPTED, resolution
                self._categories_of(defs.from_doc(doc), session)
            else:
                log.warning("resolution adopted %s, refused: %s", key, reason)
                doc["status"] = defs.REFUSED
                doc["refused"] = resolution | {"reason": reason}
            repo.save_definition(doc, session)

    def _adoption_refused(
        self, doc: dict[str, Any], ref: dict[str, Any], session: Any
    ) -> str | None:
        content = ref.get("content")
        if (
            ref.get("digest") != doc["digest"]
            or not isinstance(content, dict)
            or defs.digest(content) != doc["digest"]
        ):
            return (
                "la résolution ne porte pas la version proposée (empreinte) / "
                "the resolution does not carry the proposed version (digest)"
            )
        catalogue = self._catalogue(session)
        current = catalogue.current(doc["kind"], doc["id"])
        if current is not None and current.version > doc["version"]:
            return (
                f"la version {current.version} est déjà en vigueur / "
                f"version {current.version} is already in force"
            )
        try:
            defs.check(doc["kind"], doc["id"], doc["content"], catalogue)
            if doc["kind"] == defs.DATA_ELEMENT:
                model = self._repo().categories(session)
                self._declare(model, doc["id"], dict(doc["content"]))
        except IndicatorsError as exc:
            return str(exc)
        return None

    @rpc
    def enter_value(self, payload: dict[str, Any]) -> dict[str, Any]:
        try:
            data = ValueInput().load(payload)
        except ValidationError as exc:
            raise invalid(exc) from exc
        with self.store.transaction() as session:
            catalogue = self._catalogue(session)
            element = catalogue.active_element(data["data_element"])
            if element is None:
                retired = catalogue.current(defs.DATA_ELEMENT, data["data_element"])
                raise errors.Invalid(
                    {
                        "data_element": [
                            "Élément retiré du catalogue. / Element retired from "
                            "the catalogue."
                            if retired is not None
                            else "Élément inconnu. / Unknown data element."
                        ]
                    }
                )
            element_version = catalogue.current(defs.DATA_ELEMENT, element.id)
            hierarchy = self._hierarchy(session)
            if data["org_unit"] not in hierarchy:
                raise errors.Invalid(
                    {"org_unit": ["Unité inconnue. / Unknown org unit."]}
                )
            period = Period.parse(data["period"])
            with refusals():
                value = parse_value(element, data["value"])
            combo, attribute = self._entry_combos(element, data, session)
            lock = locking_approval(
                hierarchy, self._approvals(session), data["org_unit"], period
            )
            if lock is not None:
                raise errors.Conflict(
                    f"Période approuvée ({lock.org_unit} {lock.period.id}) : "
                    "désapprouvez-la d'abord.",
                    f"Approved period ({lock.org_unit} {lock.period.id}): "
                    "unapprove it first.",
                )
            entered = DataValue(
                element.id, period, data["org_unit"], value, combo, attribute
            )
            warnings = self._entry_warnings(
                catalogue, hierarchy, entered, element_version, session
            )
            if warnings and not data["confirm"]:
                raise errors.Conflict(
                    "Valeur non enregistrée : vérifiez les avertissements, puis "
                    "renvoyez-la avec « confirm »: true si elle est juste.",
                    "Value not saved: check the warnings, then send it again "
                    'with "confirm": true if it is right.',
                    details={"field": "value", "warnings": warnings},
                )
            self._repo().save_values([entered], "entered", session)
            combos = (combo, attribute)
            version = element_version.version if element_version else None
            notes: dict[str, Any] = {"element_version": version}
            if warnings:
                notes["confirmed"] = {
                    "by": data["by"],
                    "at": utcnow(),
                    "warnings": warnings,
                }
            else:
                notes["confirmed"] = None
            self._repo().annotate_value(
                element.id, data["org_unit"], period.id, notes, session, *combos
            )
        return {
            "data_element": element.id,
            "org_unit": data["org_unit"],
            "period": period.id,
            "category_option_combo": dhis2_id(combo),
            "attribute_option_combo": dhis2_id(attribute),
            "value": value,
            "element_version": version,
            "warnings": warnings,
            "confirmed": bool(warnings),
        }

    def _entry_combos(
        self, element: DataElement, data: dict[str, Any], session: Any
    ) -> tuple[str, str]:
        """The entry's category option combo and attribute option combo
        (``""``: DHIS2's default), refused naming the field, the element by
        its name and the combos it has (by name) when its categories do not
        hold them."""
        model = self._repo().categories(session)
        combo = combo_id(data["category_option_combo"])
        attribute = combo_id(data["attribute_option_combo"])
        for field_name, given, allowed in (
            ("category_option_combo", combo, model.combos_of(element.id)),
            ("attribute_option_combo", attribute, model.attribute_combos()),
        ):
            if given in allowed:
                continue
            listed_fr = ", ".join(_combo_name(model, a, "fr") for a in allowed)
            listed_en = ", ".join(_combo_name(model, a, "en") for a in allowed)
            raise errors.Invalid(
                {
                    field_name: [
                        f"combinaison « {given} » inconnue pour « {element.name_fr} » "
                        f'(permises : {listed_fr}) / unknown combo "{given}" for '
                        f'"{element.name_en}" (allowed: {listed_en})'
                    ]
                },
                f"« {element.name_fr} » n'a pas la combinaison « {given} ».",
                f'"{element.name_en}" has no combo "{given}".',
            )
        return combo, attribute

    def _entry_warnings(
        self,
        catalogue: defs.Catalogue,
        hierarchy: Hierarchy,
        entered: DataValue,
        element: defs.Definition | None,
        session: Any,
    ) -> list[dict[str, Any]]:
        """Bounds, the outlier check against the unit's earlier values of the
        same period type, and the validation rules that read the element, with
        the new value in place (:mod:`quality`)."""
        if isinstance(entered.value, str) or element is None:
            return []
        found = quality.bound_warnings(element.id, element.content, entered.value)
        rules = [r for r in catalogue.rules() if element.id in r.elements]
        needed = {element.id}.union(*(r.elements for r in rules))
        store = self._values(hierarchy, session, needed, catalogue)
        history = [
            float(v.value)
            for v in store.all_values()
            if v.data_element == element.id
            and v.org_unit == entered.org_unit
            and v.period.type is entered.period.type
            and v.period != entered.period
            and (v.combo, v.attribute) == (entered.combo, entered.attribute)
            and not isinstance(v.value, str)
        ]
        late = quality.outlier(history, entered.value, element.id)
        if late is not None:
            found.append(late)
        store.put(entered)
        for rule in rules:
            for p in quality.periods_of(entered.period, rule.period_type):
                broken = quality.check_rule(rule, store, entered.org_unit, p)
                if broken is not None:
                    found.append(quality.rule_warning(broken))
        return found

    @rpc
    def validate(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Run the validation rules over an org unit's subtree and a period:
        violations per org unit and period (unsuppressed values: for those who
        enter them). ``{"org_unit": "cd:2437", "period": "2026Q1"}``"""
        try:
            data = ValidateInput().load(payload)
        except ValidationError as exc:
            raise invalid(exc) from exc
        catalogue = self._catalogue()
        hierarchy = self._hierarchy()
        org_unit = normalise_unit(data["org_unit"])
        if org_unit not in hierarchy:
            raise errors.Invalid({"org_unit": ["Unité inconnue. / Unknown org unit."]})
        rules = catalogue.rules()
        if data["rule"]:
            rules = [r for r in rules if r.id == data["rule"]]
            if not rules:
                raise errors.NotFound("validation_rule", data["rule"])
        needed = set().union(*(r.elements for r in rules))
        store = self._values(hierarchy, elements=needed, catalogue=catalogue)
        subtree = hierarchy.subtree(org_unit)
        reporting = {v.org_unit for v in store.all_values()} & subtree
        units = sorted(
            {a for u in reporting for a in hierarchy.ancestors[u] if a in subtree}
        )
        period = Period.parse(data["period"])
        return {
            "org_unit": org_unit,
            "period": period.id,
            "rules": len(rules),
            "results": quality.violations(rules, store, units, period),
        }

    @rpc
    def approve(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Lock an MRC's period and send its counts, small cells suppressed."""
        try:
            data = ApprovalInput().load(payload)
        except ValidationError as exc:
            raise invalid(exc) from exc
        period = Period.parse(data["period"])
        with self.store.transaction() as session:
            hierarchy = self._hierarchy(session)
            unit = hierarchy.units.get(normalise_unit(data["org_unit"]))
            if unit is None or unit.level != APPROVAL_LEVEL:
                raise errors.Invalid(
                    {"org_unit": ["Une MRC est attendue. / An MRC is expected."]}
                )
            repo = self._repo()
            key = approval_key(unit.id, period)
            doc = repo.approval(key, session) or {
                "_id": key,
                "org_unit": unit.id,
                "period": period.id,
                "history": [],
            }
            if doc.get("approved"):
                raise errors.Conflict("Déjà approuvé.", "Already approved.")
            self._refuse_nested(unit.id, period, session)
            doc["approved"] = True
            doc["history"].append(
                {"action": "approve", "by": data["by"], "at": utcnow()}
            )
            catalogue = self._catalogue(session)
            store = self._values(hierarchy, session, catalogue=catalogue)
            sent = []
            versions = doc.setdefault("published", [])
            version: dict[str, Any] = {"at": utcnow(), "cells": {}}
            for element in catalogue.elements().values():
                if not element.is_count:
                    continue
                earlier = [
                    {c["org_unit"]: c["count"] for c in v["cells"][element.id]}
                    for v in versions
                    if element.id in v["cells"]
                ]
                cells = self._suppressed_cells(
                    store, unit.id, period, element.id, earlier
                )
                if cells is None:
                    continue
                version["cells"][element.id] = cells
                self.outbox.add(
                    events.VALUES_APPROVED,
                    {
                        "indicator": element.id,
                        "period": period.id,
                        "mrc_code": unit.id.split(":", 1)[1],
                        "org_unit": unit.id,
                        "threshold": self.threshold,
                        "cells": cells,
                    },
                    session=session,
                )
                sent.append(element.id)
            # what this version showed, for the next one to be compared with
            versions.append(version)
            repo.save_approval(doc, session)
        return {
            "org_unit": unit.id,
            "period": period.id,
            "approved": True,
            "sent": sent,
        }

    def _refuse_nested(self, org_unit: str, period: Period, session: Any) -> None:
        """Approved periods of one MRC never nest: counts sent for 2026Q1..Q4
        and again for 2026 would let the year minus three quarters give away a
        quarter's suppressed cell."""
        for doc in self._repo().approvals(session):
            if doc["org_unit"] != org_unit or doc["period"] == period.id:
                continue
            other = Period.parse(doc["period"])
            if (
                other.first_month <= period.last_month
                and period.first_month <= other.last_month
            ):
                raise errors.Conflict(
                    f"{other.id} chevauche {period.id} : les totaux révéleraient des "
                    "cellules supprimées.",
                    f"{other.id} overlaps {period.id}: totals would reveal "
                    "suppressed cells.",
                )

    def _suppressed_cells(
        self,
        store: ValueStore,
        mrc: str,
        period: Period,
        element: str,
        earlier: list[dict[str, int | None]] | None = None,
    ) -> list[dict[str, Any]] | None:
        """The MRC total and its parts (each municipality, plus the MRC's own
        values), as whole counts, suppressed as one table; ``earlier`` are the
        versions published before this one (after an unapproval), which it
        must not give away by difference (:func:`domain.revision_hidden`)."""
        total = store.value(element, mrc, period)
        if total is None:
            return None
        cells: dict[Hashable, int] = {}
        for child in sorted(store.hierarchy.children.get(mrc, [])):
            cells[child] = int(round(store.value(element, child, period) or 0))
        own = int(round(total)) - sum(cells.values())
        if own:
            cells[f"{mrc}#own"] = own
        cells[mrc] = int(round(total))
        parts = tuple(k for k in cells if k != mrc)
        table = Table(cells, [(mrc, parts)])
        forced: set[str] = set()
        while True:
            result = suppress(table, self.threshold, forced=frozenset(forced))
            more = revision_hidden(
                {str(k): v for k, v in result.published.items()},
                [(mrc, tuple(str(p) for p in parts))],
                earlier or [],
                self.threshold,
            )
            if more <= result.hidden:
                break
            forced |= more
        return [
            {
                "org_unit": k,
                "count": result.published[k],
                "suppressed": result.published[k] is None,
            }
            for k in cells
        ]

    @rpc
    def unapprove(self, payload: dict[str, Any]) -> dict[str, Any]:
        try:
            data = UnapprovalInput().load(payload)
        except ValidationError as exc:
            raise invalid(exc) from exc
        period = Period.parse(data["period"])
        unit_id = normalise_unit(data["org_unit"])
        with self.store.transaction() as session:
            repo = self._repo()
            doc = repo.approval(approval_key(unit_id, period), session)
            if doc is None or not doc.get("approved"):
                raise errors.Conflict("Pas approuvé.", "Not approved.")
            doc["approved"] = False
            doc["history"].append(
                {
                    "action": "unapprove",
                    "by": data["by"],
                    "reason": data["reason"],
                    "at": utcnow(),
                }
            )
            repo.save_approval(doc, session)
            self.outbox.add(
                events.VALUES_UNAPPROVED,
                {"org_unit": unit_id, "period": period.id, "reason": data["reason"]},
                session=session,
            )
            hierarchy = self._hierarchy(session)
            for month in period.months():
                for org_unit in self._projected_units(session):
                    if hierarchy.is_ancestor_or_self(unit_id, org_unit):
                        self._recompute(hierarchy, org_unit, month, session)
        return {"org_unit": unit_id, "period": period.id, "approved": False}

    @rpc
    def evaluate(self, payload: dict[str, Any]) -> dict[str, Any]:
        try:
            data = EvaluateInput().load(payload)
        except ValidationError as exc:
            raise invalid(exc) from exc
        catalogue = self._catalogue()
        version: int | None = None
        if data["indicator"]:
            found = catalogue.indicator(data["indicator"], data.get("version"))
            if found is None:
                raise errors.NotFound("indicator", data["indicator"])
            indicator = defs.to_indicator(found.id, found.content)
            version = found.version
        elif data["numerator"]:
            with refusals():
                indicator = Indicator(
                    "adhoc", data["numerator"], data["denominator"], data["factor"]
                )
        else:
            raise errors.Invalid(
                {"indicator": ["Indicateur ou numérateur requis. / Required."]}
            )
        hierarchy = self._hierarchy()
        org_unit = normalise_unit(data["org_unit"])
        with refusals():
            store = self._values(
                hierarchy, elements=indicator.elements, catalogue=catalogue
            )
            if data["public"]:
                shown = self._evaluate_public(
                    indicator, store, org_unit, data["period"], self._tables(store)
                )
            else:
                result = evaluate_indicator(indicator, store, org_unit, data["period"])
                shown = self._public(result, False, hierarchy, store)
        # the version it was computed with: a corrected formula is a new one
        return shown | ({"version": version} if version is not None else {})

    def _tables(self, store: ValueStore) -> TableSource:
        """The published tables of counts (:mod:`publication`), holding back
        what approvals already sent hid and never hiding what they showed."""
        forced: dict[tuple[str, int], set[tuple[str, str]]] = {}
        shown: dict[tuple[str, int], set[tuple[str, str]]] = {}
        for doc in self._repo().approvals():
            if not doc.get("approved") or not doc.get("published"):
                continue
            period = Period.parse(doc["period"])
            for element, cells in doc["published"][-1]["cells"].items():
                for cell in cells:
                    key = (cell["org_unit"], period.id)
                    into = forced if cell["count"] is None else shown
                    into.setdefault((element, period.year), set()).add(key)
        return TableSource(
            store,
            self.threshold,
            {k: frozenset(v) for k, v in forced.items()},
            {k: frozenset(v) for k, v in shown.items()},
        )

    def _evaluate_public(
        self,
        indicator: Indicator,
        store: ValueStore,
        org_unit: str,
        period: str,
        tables: TableSource,
    ) -> dict[str, Any]:
        """An evaluation for an audience without the right to unsuppressed
        values: over the published cells only (:class:`PublishedValues`); a
        term touching a suppressed cell suppresses the answer."""
        hierarchy = store.hierarchy
        try:
            result = evaluate_indicator(
                indicator, PublishedValues(store, tables), org_unit, period
            )
        except Withheld:
            shown = Period.parse(period)
            return {
                "indicator": indicator.id,
                "org_unit": org_unit,
                "period": shown.id,
                "value": None,
                "suppressed": True,
                "approved": shareable(hierarchy, self._approvals(), org_unit, shown),
            }
        return self._public(result, True, hierarchy, store)

    def _public(
        self, result: Any, public: bool, hierarchy: Hierarchy, store: ValueStore
    ) -> dict[str, Any]:
        value = result.value
        if public:
            counts = [
                o.value
                for o in result.operands
                if o.element in store.elements and store.elements[o.element].is_count
            ]
            value = suppress_rate(value, counts, self.threshold)
        period = Period.parse(result.period)
        return {
            "indicator": result.indicator,
            "org_unit": result.org_unit,
            "period": result.period,
            "value": value,
            "suppressed": result.value is not None and value is None,
            "approved": shareable(
                hierarchy, self._approvals(), result.org_unit, period
            ),
        }

    @rpc
    def dashboard(self, query: dict[str, Any]) -> dict[str, Any]:
        """Every catalogue indicator for one org unit, by year, suppressed."""
        try:
            data = DashboardQuery().load(query or {})
        except ValidationError as exc:
            raise invalid(exc) from exc
        hierarchy = self._hierarchy()
        org_unit = normalise_unit(data["org_unit"])
        if org_unit not in hierarchy:
            raise errors.NotFound("org_unit", org_unit)
        catalogue = self._catalogue()
        store = self._values(hierarchy, catalogue=catalogue)
        tables = self._tables(store)
        years = sorted({value.period.year for value in store.all_values()})
        years_ids = [str(y) for y in years]
        unit = hierarchy.get(org_unit)
        lang = data["lang"]
        panels = []
        for current in catalogue.of_kind(defs.INDICATOR):
            indicator = defs.to_indicator(current.id, current.content)
            points = []
            for year in years_ids:
                shown = self._evaluate_public(indicator, store, org_unit, year, tables)
                points.append(
                    {
                        "period": year,
                        "value": shown["value"],
                        "suppressed": shown["suppressed"],
                    }
                )
            described = self._describe(current)
            panels.append(
                described
                | {
                    "indicator_id": indicator.id,
                    "name": described["name"][lang],
                    "definition": described["definition"][lang],
                    "chart": "line",
                    "unit": factor_unit(indicator.factor, lang),
                    "series": [{"name": unit.name, "points": points}],
                }
            )
        return {"org_unit": {"id": unit.id, "name": unit.name}, "indicators": panels}

    # --- events ------------------------------------------------------------
    def _projected_units(self, session: Any) -> set[str]:
        repo = self._repo()
        units: set[str] = set()
        for collection in ("waiting_lists", "processes", "decisions", "services"):
            units |= {d["org_unit"] for d in repo.projections(collection, {}, session)}
        return units

    def _recompute(
        self, hierarchy: Hierarchy, org_unit: str, month: int, session: Any
    ) -> None:
        """All computed elements of one org unit and month, from the projections."""
        repo = self._repo()
        period = Period.from_ordinal(month)
        if locking_approval(hierarchy, self._approvals(session), org_unit, period):
            log.info("%s %s approved: computed values wait", org_unit, period.id)
            return
        values: dict[str, float | None] = {}
        waiting = computed.waiting_totals(
            repo.projections("waiting_lists", {"org_unit": org_unit}, session), month
        )
        values["waiting_people"] = None if waiting is None else waiting[0]
        values["waiting_days"] = None if waiting is None else waiting[1]
        processes = repo.projections(
            "processes", {"org_unit": org_unit, "month": month}, session
        )
        values["participation_ballots"] = (
            float(sum(p["ballots"] for p in processes)) if processes else None
        )
        # turnout only from processes that declared who could vote: their
        # ballots over their eligible count, never a ballot without its base
        counted = [p for p in processes if (p.get("eligible") or 0) > 0]
        values["participation_turnout_ballots"] = (
            float(sum(p["ballots"] for p in counted)) if counted else None
        )
        values["participation_eligible"] = (
            float(sum(p["eligible"] for p in counted)) if counted else None
        )
        services = repo.projections("services", {"org_unit": org_unit}, session)
        if services:
            values["services_without_referral"] = float(
                computed.open_without_referral(services, month)
            )
        decisions = repo.projections("decisions", {"org_unit": org_unit}, session)
        due, on_time = computed.decision_counts(decisions, month)
        values["decisions_due"] = float(due) if due else None
        values["decisions_done_on_time"] = float(on_time) if due else None
        keep = []
        for element, value in values.items():
            if value is None:
                repo.delete_computed(element, org_unit, period.id, session)
            else:
                keep.append(DataValue(element, period, org_unit, value))
        repo.save_values(keep, "computed", session)

    @consume_batch(events.WAITING_LIST_CHANGED)
    def on_waiting_list_changed(self, envelopes: list[Envelope], session: Any) -> None:
        hierarchy = self._event_hierarchy(session)
        repo = self._repo()
        touched: set[tuple[str, int]] = set()
        for envelope in envelopes:
            data = WaitingListChanged().load(envelope.payload)
            org_unit = computed.org_unit_for_codes(
                hierarchy, data["mrc_codes"], data["municipality_codes"]
            )
            if org_unit is None:
                log.warning("waiting list of %s has no known place", data["service_id"])
                continue
            month = computed.month_of(data["updated_at"])
            repo.save_projection(
                "waiting_lists",
                {
                    "_id": f"{data['service_id']}|{data['updated_at']}",
                    "service_id": data["service_id"],
                    "org_unit": org_unit,
                    "updated_at": data["updated_at"],
                    "month": month,
                    "length": data["waiting_list_length"],
                    "days": data["typical_wait_days"],
                },
                session,
            )
            later = {
                d["month"]
                for d in repo.projections(
                    "waiting_lists", {"org_unit": org_unit}, session
                )
                if d["month"] >= month
            }
            touched |= {(org_unit, m) for m in later}
        for org_unit, month in sorted(touched):
            self._recompute(hierarchy, org_unit, month, session)

    @consume_batch(events.RESULTS_PUBLISHED)
    def on_results_published(self, envelopes: list[Envelope], session: Any) -> None:
        hierarchy = self._event_hierarchy(session)
        repo = self._repo()
        touched: set[tuple[str, int]] = set()
        for envelope in envelopes:
            data = ResultsPublished().load(envelope.payload)
            org_unit = computed.org_unit_for_codes(hierarchy, [data["mrc_code"]])
            if org_unit is None:
                log.warning("results of %s: unknown MRC", data["process_id"])
                continue
            month = computed.month_of(envelope.occurred_at)
            old = repo.projection("processes", data["process_id"], session)
            if old is not None:
                touched.add((old["org_unit"], old["month"]))
                month = min(month, old["month"])  # first publication counts
            repo.save_projection(
                "processes",
                {
                    "_id": data["process_id"],
                    "org_unit": org_unit,
                    "month": month,
                    "ballots": data["ballots"],
                    "eligible": data["eligible_count"],
                },
                session,
            )
            touched.add((org_unit, month))
        for org_unit, month in sorted(touched):
            self._recompute(hierarchy, org_unit, month, session)

    @consume_batch(events.DECISION_STATUS_CHANGED)
    def on_decision_status_changed(
        self, envelopes: list[Envelope], session: Any
    ) -> None:
        hierarchy = self._event_hierarchy(session)
        repo = self._repo()
        touched: set[tuple[str, int]] = set()
        for envelope in envelopes:
            data = DecisionStatusChanged().load(envelope.payload)
            code = data["mrc_code"] or self._config("NODE_ORG_UNIT")
            org_unit = computed.org_unit_for_codes(hierarchy, [code] if code else [])
            if org_unit is None:
                log.warning("decision %s: no MRC for this node", data["resolution_id"])
                continue
            version = computed.decision_version(
                {"on": data["on"].isoformat()},
                envelope.occurred_at.isoformat(),
                envelope.event_id,
            )
            old = repo.projection("decisions", data["resolution_id"], session)
            if old is not None and old["version"] >= version:
                continue  # an older change arriving late
            due = data["due"].isoformat() if data["due"] else None
            done_on = data["on"].isoformat() if data["status"] == "done" else None
            doc = {
                "_id": data["resolution_id"],
                "org_unit": org_unit,
                "status": data["status"],
                "due": due,
                "due_month": computed.month_of(due) if due else None,
                "done_on": done_on,
                "version": version,
            }
            repo.save_projection("decisions", doc, session)
            if old is not None and old.get("due_month") is not None:
                touched.add((old["org_unit"], old["due_month"]))
            if doc["due_month"] is not None:
                touched.add((org_unit, doc["due_month"]))
        for org_unit, month in sorted(touched):
            self._recompute(hierarchy, org_unit, month, session)

    @consume_batch(events.SERVICE_PUBLISHED, events.SERVICE_WITHDRAWN)
    def on_service_published_or_withdrawn(
        self, envelopes: list[Envelope], session: Any
    ) -> None:
        """Services open without referral, per org unit, month by month."""
        hierarchy = self._event_hierarchy(session)
        repo = self._repo()
        touched: set[tuple[str, int]] = set()
        for envelope in envelopes:
            data = ServiceChanged().load(envelope.payload)
            org_unit = computed.org_unit_for_codes(
                hierarchy, data["mrc_codes"], data["municipality_codes"]
            )
            if org_unit is None:
                continue
            month = computed.month_of(envelope.occurred_at)
            doc = repo.projection("services", data["service_id"], session) or {
                "_id": data["service_id"],
                "org_unit": org_unit,
                "no_referral": False,
                "published_month": None,
                "withdrawn_month": None,
            }
            if envelope.event_type == events.SERVICE_PUBLISHED:
                doc["no_referral"] = bool(data["no_referral_required"])
                doc["published_month"] = min(
                    m for m in (doc["published_month"], month) if m is not None
                )
            else:
                doc["withdrawn_month"] = max(
                    m for m in (doc["withdrawn_month"], month) if m is not None
                )
            repo.save_projection("services", doc, session)
            later = {
                m
                for d in repo.projections("services", {"org_unit": org_unit}, session)
                for m in (d["published_month"], d["withdrawn_month"])
                if m is not None and m >= month
            }
            touched |= {(org_unit, m) for m in later | {month}}
        for org_unit, month in sorted(touched):
            self._recompute(hierarchy, org_unit, month, session)

    # --- coordinator ---------------------------------------------------------
    @consume_batch(events.EVENT_RECEIVED)
    def on_event_received(self, envelopes: list[Envelope], session: Any) -> None:
        """Keep what peers' MRCs approved (already suppressed by them); a later
        approval of the same MRC, element and period replaces an earlier one,
        an unapproval withdraws them. Times are compared as instants (parsed),
        never as ISO text, whose order is not time order across offsets; the
        federation service has already refused units outside the sender's
        territory and dates beyond its clock skew."""
        repo = self._repo()
        for envelope in envelopes:
            inner = envelope.payload.get("event") or {}
            kind = inner.get("event_type")
            payload = inner.get("payload") or {}
            occurred = str(inner.get("occurred_at") or envelope.occurred_at.isoformat())
            if kind == events.VALUES_APPROVED:
                key = (
                    f"{payload['org_unit']}|{payload['indicator']}|{payload['period']}"
                )
                old = repo.projection("received", key, session)
                if old is not None and _instant(old["occurred_at"]) > _instant(
                    occurred
                ):
                    continue
                repo.save_projection(
                    "received",
                    {
                        "_id": key,
                        "org_unit": payload["org_unit"],
                        "indicator": payload["indicator"],
                        "period": payload["period"],
                        "cells": payload.get("cells", []),
                        "origin_node": inner.get("origin_node"),
                        "occurred_at": occurred,
                    },
                    session,
                )
            elif kind == events.VALUES_UNAPPROVED:
                for doc in repo.projections(
                    "received",
                    {"org_unit": payload["org_unit"], "period": payload["period"]},
                    session,
                ):
                    if _instant(doc["occurred_at"]) <= _instant(occurred):
                        self.store.db.received.delete_one(
                            {"_id": doc["_id"]}, session=session
                        )

    @rpc
    def publish_rollup(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Sum the MRC totals received into regions and Quebec, suppress again
        with this node's threshold, and send ``indicators.rollup_published``.
        Published again (an MRC corrected its counts), the roll-up also hides
        what would differ by a small count from the roll-ups sent before
        (:func:`domain.revision_hidden`; cells that were unknown then, because
        suppressed upstream, hid nothing and are not held back).

        ``{"indicator": "home_interventions", "period": "2026Q1"}``
        """
        indicator = str(payload.get("indicator") or "")
        try:
            period = Period.parse(str(payload.get("period") or ""))
        except IndicatorsError as exc:
            raise errors.Invalid({"period": [str(exc)]}) from exc
        with self.store.transaction() as session:
            hierarchy = self._hierarchy(session)
            received: dict[Hashable, int | None] = {}
            for doc in self._repo().projections(
                "received", {"indicator": indicator, "period": period.id}, session
            ):
                for sent in doc["cells"]:
                    if sent.get("org_unit") == doc["org_unit"]:
                        received[doc["org_unit"]] = sent.get("count")
            if not received:
                raise errors.NotFound("rollup", f"{indicator} {period.id}")
            relations: list[tuple[Hashable, tuple[Hashable, ...]]] = []
            regions: dict[str, list[str]] = {}
            for mrc in received:
                region = hierarchy.ancestor_at_level(str(mrc), 2)
                if region is not None:
                    regions.setdefault(region, []).append(str(mrc))
            for region, mrcs in sorted(regions.items()):
                relations.append((region, tuple(sorted(mrcs))))
            # earlier roll-ups of the same cells: none may be given away by
            # difference with this one (domain.revision_hidden)
            repo = self._repo()
            key = f"{indicator}|{period.id}"
            history = repo.projection("rollups", key, session) or {
                "_id": key,
                "indicator": indicator,
                "period": period.id,
                "versions": [],
            }
            # a cell unknown then (suppressed upstream) hid nothing of ours
            earlier = [
                {
                    c["org_unit"]: c["count"]
                    for c in v["cells"]
                    if c["org_unit"] not in v["unknown"]
                }
                for v in history["versions"]
            ]
            forced: set[Hashable] = set()
            while True:
                result = resuppress(
                    received, relations, self.threshold, forced=frozenset(forced)
                )
                more = revision_hidden(
                    {str(k): v for k, v in result.published.items()},
                    [(str(t), tuple(str(p) for p in ps)) for t, ps in relations],
                    earlier,
                    self.threshold,
                )
                hidden = {str(k) for k, v in result.published.items() if v is None}
                if more <= hidden:
                    break
                forced |= more
            cells = []
            for key, count in sorted(
                result.published.items(), key=lambda kv: str(kv[0])
            ):
                cell: dict[str, Any] = {
                    "org_unit": key,
                    "count": count,
                    "suppressed": count is None,
                }
                if key in regions:
                    # a region total covers only the MRCs that sent theirs
                    cell["mrcs"] = len(regions[str(key)])
                    cell["mrcs_in_region"] = len(hierarchy.children.get(str(key), []))
                cells.append(cell)
            body = {
                "indicator": indicator,
                "period": period.id,
                "threshold": self.threshold,
                "cells": cells,
            }
            self.outbox.add(events.ROLLUP_PUBLISHED, body, session=session)
            unknown = {
                str(k)
                for k, v in result.published.items()
                if v is None and k not in result.hidden
            }
            history["versions"].append(
                {"at": utcnow(), "cells": cells, "unknown": sorted(unknown)}
            )
            repo.save_projection("rollups", history, session)
        return body

    # --- questionnaires and practitioners' reports (:mod:`surveys`) ---------
    report_keys = ReportKeys()
    clock = staticmethod(utcnow)

    def _surveys(self) -> SurveyRepository:
        return SurveyRepository(self.store.db)

    def _questionnaire(
        self, questionnaire_id: str, session: Any = None
    ) -> surveys.Questionnaire:
        doc = self._surveys().questionnaire(str(questionnaire_id), session)
        if doc is None:
            raise errors.NotFound("questionnaire", str(questionnaire_id))
        return surveys.from_doc(doc)

    @rpc
    def define_questionnaire(self, payload: dict[str, Any]) -> dict[str, Any]:
        """A questionnaire and, in the same transaction, its catalogue
        definitions (two counts and one share per question, current at once:
        the node administrator defines)::

            {"id": "accueil", "org_unit": "cd:2437", "title": {"fr", "en"},
             "questions": [{"id": "safer", "text": {"fr", "en"}, "scale": 5,
                            "positive_from": 4}], "by": "<account>"}
        """
        payload = dict(payload or {})
        by = str(payload.pop("by", "") or "")
        with refusals():
            questionnaire = surveys.check_questionnaire(payload)
        self._catalogue()  # the starter is seeded outside the transaction
        with self.store.transaction() as session:
            if questionnaire.org_unit not in self._hierarchy(session):
                raise errors.Invalid(
                    {"org_unit": ["Unité inconnue. / Unknown org unit."]}
                )
            if self._surveys().questionnaire(questionnaire.id, session):
                raise errors.Conflict(
                    f"Questionnaire « {questionnaire.id} » déjà défini (champ id).",
                    f'Questionnaire "{questionnaire.id}" already defined (field id).',
                )
            catalogue = self._catalogue(session)
            for kind, id_, content in surveys.definitions(questionnaire):
                if catalogue.current(kind, id_) is not None:
                    raise errors.Conflict(
                        f"Définition « {id_} » déjà au catalogue (champ id).",
                        f'Definition "{id_}" already in the catalogue (field id).',
                    )
                with refusals():
                    checked = defs.check(kind, id_, content, catalogue)
                definition = defs.Definition(
                    kind,
                    id_,
                    catalogue.next_version(kind, id_),
                    checked,
                    defs.ADOPTED,
                    {"by": "node_admin", "account": by},
                    by,
                )
                self._repo().add_definition(defs.to_doc(definition), session)
                catalogue = defs.Catalogue([*catalogue.definitions, definition])
            self._surveys().add_questionnaire(surveys.to_doc(questionnaire), session)
        return surveys.describe(questionnaire)

    @rpc
    def questionnaire(self, questionnaire_id: str) -> dict[str, Any]:
        """The public description a page shows (no answer, no count)."""
        return surveys.describe(self._questionnaire(questionnaire_id))

    @rpc
    def questionnaires(self, query: dict[str, Any] | None = None) -> dict[str, Any]:
        """``{"org_unit": "2437"}``: the MRC's questionnaires and its towns'."""
        unit = (query or {}).get("org_unit")
        docs = self._surveys().questionnaires()
        items = [surveys.describe(surveys.from_doc(d)) for d in docs]
        if unit:
            mrc = normalise_unit(str(unit)).split(":", 1)[-1][:4]
            items = [q for q in items if q["org_unit"].split(":", 1)[1][:4] == mrc]
        return {"items": items}

    def _answer_period(self, data: dict[str, Any]) -> Period:
        """The month of the answer: now, or for a paper form the month it was
        filled in (this one or one of the eleven before, never a later one)."""
        now = self.clock()
        current = Period.parse(f"{now.year}{now.month:02d}")
        given = data.get("period")
        if data.get("channel") != "paper" or not given:
            return current
        with refusals():
            period = Period.parse(str(given))
        ordinal = current.year * 12 + current.index
        if (
            period.type != current.type
            or not 0 <= ordinal - (period.year * 12 + period.index) < 12
        ):
            raise errors.Invalid(
                {
                    "period": [
                        "Mois de cette année : celui-ci ou l'un des onze "
                        "précédents (202603). / A month of the last year: this "
                        "one or one of the eleven before (202603)."
                    ]
                }
            )
        return period

    @rpc
    def answer_questionnaire(
        self, questionnaire_id: str, payload: dict[str, Any]
    ) -> dict[str, Any]:
        """One person's answer, added to the month's counts and not kept::

            {"answers": {"safer": 4, "heard": 5}, "channel": "kiosk"}
            -> {"questionnaire": "accueil", "period": "202603", "recorded": true}

        The answer leaves no trace of its own: no document, time, address or
        channel; refused (409) in a period already approved.
        """
        data = dict(payload or {})
        channel = data.get("channel") or "web"
        if channel not in surveys.CHANNELS:
            raise errors.Invalid(
                {"channel": [f"Une de / one of: {', '.join(surveys.CHANNELS)}."]}
            )
        unknown = set(data) - {"answers", "channel", "period"}
        if unknown:
            raise errors.Invalid(
                {k: ["Champ inconnu. / Unknown field."] for k in sorted(unknown)}
            )
        with self.store.transaction() as session:
            questionnaire = self._questionnaire(questionnaire_id, session)
            with refusals():
                answers = surveys.check_answers(questionnaire, data.get("answers"))
            period = self._answer_period(data)
            hierarchy = self._hierarchy(session)
            lock = locking_approval(
                hierarchy, self._approvals(session), questionnaire.org_unit, period
            )
            if lock is not None:
                raise errors.Conflict(
                    f"Période approuvée ({lock.org_unit} {lock.period.id}) : les "
                    "réponses de ce mois ne peuvent plus être ajoutées.",
                    f"Approved period ({lock.org_unit} {lock.period.id}): answers "
                    "of this month can no longer be added.",
                    details={"field": "period"},
                )
            self._surveys().add_counts(
                surveys.increments(questionnaire, answers),
                questionnaire.org_unit,
                period.id,
                session,
            )
        return {
            "questionnaire": questionnaire.id,
            "period": period.id,
            "recorded": True,
        }

    def _quarters(self) -> tuple[str, str]:
        """The current quarter and the one before (reports are taken for both)."""
        now = self.clock()
        q = (now.month - 1) // 3 + 1
        before = f"{now.year}Q{q - 1}" if q > 1 else f"{now.year - 1}Q4"
        return f"{now.year}Q{q}", before

    def _practice_period(self, given: Any) -> str:
        current, before = self._quarters()
        period = str(given or current)
        if period not in (current, before):
            raise errors.Invalid(
                {
                    "period": [
                        f"Trimestre en cours ({current}) ou précédent ({before}). / "
                        f"The current quarter ({current}) or the one before "
                        f"({before})."
                    ]
                }
            )
        return period

    def _practice_unit(self, given: Any) -> str:
        unit = normalise_unit(str(given or ""))
        if not unit.startswith("cd:") or unit not in self._hierarchy():
            raise errors.Invalid(
                {"org_unit": ["Une MRC connue (cd:2437). / A known MRC (cd:2437)."]}
            )
        return unit

    @rpc
    def report_practice(self, payload: dict[str, Any]) -> dict[str, Any]:
        """A practitioner's report for a quarter, once (409 the second time)::

            {"account": "<sub>", "org_unit": "cd:2437", "period": "2026Q1",
             "caseload": 34, "admin_share": 40, "supervision": "none",
             "concerns": "..."} -> {"period": "2026Q1", "recorded": true}

        The key (HMAC of period and account) and the report go to two
        collections with nothing in common (:mod:`survey_repository`); the
        answer says nothing of the report, so no log or audit of it does.
        """
        data = dict(payload or {})
        account = str(data.pop("account", "") or "")
        if not account:
            raise errors.Invalid({"account": ["Compte requis. / Account required."]})
        unit = self._practice_unit(data.pop("org_unit", None))
        period = self._practice_period(data.pop("period", None))
        unknown = set(data) - {"caseload", "admin_share", "supervision", "concerns"}
        if unknown:
            raise errors.Invalid(
                {k: ["Champ inconnu. / Unknown field."] for k in sorted(unknown)}
            )
        with refusals():
            report = surveys.check_report(data)
        key = self.report_keys(account, period)
        repo = self._surveys()
        repo.ensure_boxes(unit, period)
        try:
            with self.store.transaction() as session:
                repo.add_key(key, session)
                repo.add_report(unit, period, report.to_doc(), session)
        except DuplicateKeyError as exc:
            raise errors.Conflict(
                f"Rapport déjà remis pour {period} (champ period) : un par trimestre.",
                f"Report already given for {period} (field period): one per quarter.",
                details={"field": "period"},
            ) from exc
        return {"period": period, "recorded": True}

    @rpc
    def practice_status(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Whether ``account`` reported in the quarters open to reports."""
        account = str((payload or {}).get("account") or "")
        if not account:
            raise errors.Invalid({"account": ["Compte requis. / Account required."]})
        repo = self._surveys()
        return {
            "periods": [
                {"period": p, "reported": repo.has_key(self.report_keys(account, p))}
                for p in self._quarters()
            ]
        }

    @rpc
    def practice_aggregates(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Aggregates of an MRC's reports in a quarter, only above the
        suppression threshold; ``concerns`` (asked by the gateway for the
        board only) adds the list of concerns, sorted, without author::

            {"org_unit": "cd:2437", "period": "2026Q1", "concerns": true}
        """
        data = dict(payload or {})
        unit = self._practice_unit(data.get("org_unit"))
        period = str(data.get("period") or self._quarters()[0])
        try:
            parsed = Period.parse(period)
        except IndicatorsError as exc:
            raise errors.Invalid({"period": [str(exc)]}) from exc
        if parsed.type.value != "quarter":
            raise errors.Invalid(
                {"period": ["Un trimestre (2026Q1). / A quarter (2026Q1)."]}
            )
        shown = surveys.aggregate_reports(
            self._surveys().reports(unit, period),
            self.threshold,
            bool(data.get("concerns")),
        )
        return {"org_unit": unit, "period": period, **shown}


def _combo_name(model: Any, combo: str, lang: str) -> str:
    """``Femmes, 0-17 ans (f_0_17)``; the default combo is ``default``."""
    if not combo:
        return "default"
    found = model.option_combos.get(combo)
    name = (found.name_fr if lang == "fr" else found.name_en) if found else ""
    return f"{name} ({combo})" if name and name != combo else combo


def _instant(text: Any) -> datetime:
    """An ISO ``occurred_at`` (with offset, as envelopes carry it) as a UTC instant."""
    moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
