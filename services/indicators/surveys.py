"""Questionnaires a service's users answer, and practitioners' reports on their
conditions of practice: pure logic, no I/O.

**Questionnaires.** A questionnaire belongs to an org unit (the MRC, or one
municipality, where the service is) and asks a few questions on a scale
(1 to ``scale``). An answer is never kept as an answer: it only adds 1 to
counts, per question, org unit and month, and those counts are data elements
of the catalogue like any other (so the published, suppressed tables of
:mod:`publication` are all the public ever reads, and indicators use them)::

    q_accueil_safer_n    answers to "safer" in the month
    q_accueil_safer_pos  of which at or above ``positive_from`` (4 of 5)

with one indicator per question, ``q_accueil_safer`` = ``pos / n x 100``.

    questionnaire = check_questionnaire({"id": "accueil", "org_unit": "cd:2437",
        "title": {"fr": "Votre visite", "en": "Your visit"},
        "questions": [{"id": "safer", "text": {"fr": "...", "en": "..."}}]})
    increments(questionnaire, {"safer": 5})
    -> {"q_accueil_safer_n": 1, "q_accueil_safer_pos": 1}

**Practitioners' reports.** Once per practitioner and period (a quarter), a
caseload, the share of time spent on administration, access to clinical
supervision and, optionally, concerns in free text. The one-per-period rule is
held by :func:`report_key`, an HMAC of (period, account) under a node secret
kept outside the store, stored apart from the reports, which carry nothing of
their author. Only aggregates of a period and MRC where more practitioners than
the suppression threshold reported leave (:func:`aggregate_reports`), the same
rule as counts (a count at or below the threshold is hidden): concerns are then
a list, sorted, without author.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from services.indicators.exceptions import IndicatorsError

QUESTIONNAIRE_ID = re.compile(r"^[a-z][a-z0-9]{1,23}$")
QUESTION_ID = re.compile(r"^[a-z][a-z0-9]{0,15}$")
UNIT = re.compile(r"^(cd:24\d\d|csd:24\d{5})$")
MAX_QUESTIONS = 12
TEXT_MAX = 300
CONCERNS_MAX = 2000
CASELOAD_MAX = 1000
SUPERVISION = ("regular", "occasional", "none")
SUPERVISION_LABELS = {
    "regular": ("régulière", "regular"),
    "occasional": ("occasionnelle", "occasional"),
    "none": ("aucune", "none"),
}
CHANNELS = ("web", "kiosk", "paper")


class SurveyRefused(IndicatorsError):
    """A questionnaire, answer or report that cannot be taken: the field and
    why, French then English.

    ``champ « answers.safer » : entier de 1 à 5 attendu / field
    "answers.safer": a whole number from 1 to 5 is expected``
    """

    def __init__(self, field_: str, reason_fr: str, reason_en: str) -> None:
        super().__init__(
            f'champ « {field_} » : {reason_fr} / field "{field_}": {reason_en}',
            field_,
        )
        self.reason_fr = reason_fr
        self.reason_en = reason_en


def _text(value: Any, where: str, limit: int = TEXT_MAX) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise SurveyRefused(
            where, "objet {fr, en} attendu", "an object {fr, en} is expected"
        )
    out = {}
    for lang in ("fr", "en"):
        text = value.get(lang)
        if not isinstance(text, str) or not text.strip():
            raise SurveyRefused(f"{where}.{lang}", "texte requis", "a text is required")
        if len(text) > limit:
            raise SurveyRefused(
                f"{where}.{lang}",
                f"au plus {limit} caractères",
                f"at most {limit} characters",
            )
        out[lang] = text.strip()
    extra = set(value) - {"fr", "en"}
    if extra:
        raise SurveyRefused(
            where,
            f"langues inconnues : {', '.join(sorted(extra))}",
            f"unknown languages: {', '.join(sorted(extra))}",
        )
    return out


def _whole(value: Any, where: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise SurveyRefused(
            where,
            f"entier de {low} à {high} attendu",
            f"a whole number from {low} to {high} is expected",
        )
    try:
        number = int(str(value).strip())
    except ValueError:
        number = low - 1
    if not low <= number <= high:
        raise SurveyRefused(
            where,
            f"entier de {low} à {high} attendu",
            f"a whole number from {low} to {high} is expected",
        )
    return number


@dataclass(frozen=True)
class Question:
    id: str
    text: dict[str, str]
    scale: int = 5
    positive_from: int = 4


@dataclass(frozen=True)
class Questionnaire:
    id: str
    org_unit: str
    title: dict[str, str]
    questions: tuple[Question, ...]
    service_id: str = ""
    low_label: dict[str, str] = field(
        default_factory=lambda: {"fr": "Pas du tout", "en": "Not at all"}
    )
    high_label: dict[str, str] = field(
        default_factory=lambda: {"fr": "Tout à fait", "en": "Completely"}
    )

    @property
    def mrc(self) -> str:
        return self.org_unit.split(":", 1)[1][:4]

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)


def check_questionnaire(payload: Mapping[str, Any]) -> Questionnaire:
    """A questionnaire from its JSON, or :class:`SurveyRefused` naming the field."""
    if not isinstance(payload, Mapping):
        raise SurveyRefused("_schema", "objet attendu", "an object is expected")
    allowed = {"id", "org_unit", "title", "questions", "service_id", "labels"}
    extra = set(payload) - allowed
    if extra:
        name = sorted(extra)[0]
        raise SurveyRefused(name, "champ inconnu", "unknown field")
    qid = payload.get("id")
    if not isinstance(qid, str) or not QUESTIONNAIRE_ID.match(qid):
        raise SurveyRefused(
            "id",
            "2 à 24 minuscules ou chiffres, commençant par une lettre",
            "2 to 24 lower-case letters or digits, starting with a letter",
        )
    unit = payload.get("org_unit")
    if not isinstance(unit, str) or not UNIT.match(unit):
        raise SurveyRefused(
            "org_unit",
            "une MRC (cd:2437) ou une municipalité (csd:2437067) du Québec",
            "an MRC (cd:2437) or a municipality (csd:2437067) of Quebec",
        )
    service_id = payload.get("service_id") or ""
    if not isinstance(service_id, str) or len(service_id) > 120:
        raise SurveyRefused(
            "service_id", "identifiant de service attendu", "a service id expected"
        )
    questions = payload.get("questions")
    if not isinstance(questions, list) or not 1 <= len(questions) <= MAX_QUESTIONS:
        raise SurveyRefused(
            "questions",
            f"liste de 1 à {MAX_QUESTIONS} questions attendue",
            f"a list of 1 to {MAX_QUESTIONS} questions is expected",
        )
    seen: set[str] = set()
    checked = []
    for i, raw in enumerate(questions):
        where = f"questions.{i}"
        if not isinstance(raw, Mapping):
            raise SurveyRefused(where, "objet attendu", "an object is expected")
        question_id = raw.get("id")
        if not isinstance(question_id, str) or not QUESTION_ID.match(question_id):
            raise SurveyRefused(
                f"{where}.id",
                "1 à 16 minuscules ou chiffres, commençant par une lettre",
                "1 to 16 lower-case letters or digits, starting with a letter",
            )
        if question_id in seen:
            raise SurveyRefused(
                f"{where}.id", "identifiant déjà utilisé", "id already used"
            )
        seen.add(question_id)
        scale = _whole(raw.get("scale", 5), f"{where}.scale", 2, 10)
        positive = _whole(
            raw.get("positive_from", scale - 1 if scale > 2 else 2),
            f"{where}.positive_from",
            1,
            scale,
        )
        checked.append(
            Question(
                question_id, _text(raw.get("text"), f"{where}.text"), scale, positive
            )
        )
    labels = payload.get("labels") or {}
    if not isinstance(labels, Mapping):
        raise SurveyRefused("labels", "objet attendu", "an object is expected")
    extras = {}
    for key in ("low", "high"):
        if key in labels:
            extras[f"{key}_label"] = _text(labels[key], f"labels.{key}", 60)
    return Questionnaire(
        qid,
        unit,
        _text(payload.get("title"), "title"),
        tuple(checked),
        service_id,
        **extras,
    )


def to_doc(q: Questionnaire) -> dict[str, Any]:
    return {
        "_id": q.id,
        "org_unit": q.org_unit,
        "service_id": q.service_id,
        "title": q.title,
        "labels": {"low": q.low_label, "high": q.high_label},
        "questions": [
            {
                "id": x.id,
                "text": x.text,
                "scale": x.scale,
                "positive_from": x.positive_from,
            }
            for x in q.questions
        ],
    }


def from_doc(doc: Mapping[str, Any]) -> Questionnaire:
    labels = doc.get("labels") or {}
    return Questionnaire(
        doc["_id"],
        doc["org_unit"],
        dict(doc["title"]),
        tuple(
            Question(x["id"], dict(x["text"]), x["scale"], x["positive_from"])
            for x in doc["questions"]
        ),
        doc.get("service_id") or "",
        **{f"{k}_label": dict(v) for k, v in labels.items() if k in ("low", "high")},
    )


def describe(q: Questionnaire) -> dict[str, Any]:
    """The public description (what the page shows), with the element ids."""
    out = to_doc(q)
    out["id"] = out.pop("_id")
    for question in out["questions"]:
        answers, positive = element_ids(q, question["id"])
        question["elements"] = {"answers": answers, "positive": positive}
        question["indicator"] = indicator_id(q, question["id"])
    return out


def element_ids(q: Questionnaire, question_id: str) -> tuple[str, str]:
    """The two count elements of a question: all answers, positive ones."""
    base = f"q_{q.id}_{question_id}"
    return f"{base}_n", f"{base}_pos"


def indicator_id(q: Questionnaire, question_id: str) -> str:
    return f"q_{q.id}_{question_id}"


def definitions(q: Questionnaire) -> list[tuple[str, str, dict[str, Any]]]:
    """``(kind, id, content)`` of the catalogue definitions a questionnaire
    brings: two counts and one share per question."""
    out: list[tuple[str, str, dict[str, Any]]] = []
    for x in q.questions:
        answers, positive = element_ids(q, x.id)
        title_fr, title_en = q.title["fr"], q.title["en"]
        use = {
            "fr": "Savoir ce que le service change pour les personnes et comment "
            "elles y sont reçues, de leur propre voix (réponses anonymes, "
            "comptées seulement).",
            "en": "Know what the service changes for people and how they are "
            "received, in their own words (anonymous answers, only counted).",
        }
        out.append(
            (
                "data_element",
                answers,
                {
                    "value_type": "integer",
                    "aggregation": "sum",
                    "is_count": True,
                    "name": {
                        "fr": f"{title_fr} : réponses à « {x.text['fr']} »"[:200],
                        "en": f'{title_en}: answers to "{x.text["en"]}"'[:200],
                    },
                    "definition": {
                        "fr": f"Nombre de réponses à la question « {x.text['fr']} » "
                        f"(échelle de 1 à {x.scale}) dans le mois.",
                        "en": f'Number of answers to the question "{x.text["en"]}" '
                        f"(scale of 1 to {x.scale}) in the month.",
                    },
                    "use": use,
                },
            )
        )
        out.append(
            (
                "data_element",
                positive,
                {
                    "value_type": "integer",
                    "aggregation": "sum",
                    "is_count": True,
                    "name": {
                        "fr": f"{title_fr} : « {x.text['fr']} », "
                        f"{x.positive_from} ou plus"[:200],
                        "en": f'{title_en}: "{x.text["en"]}", '
                        f"{x.positive_from} or more"[:200],
                    },
                    "definition": {
                        "fr": f"Réponses de {x.positive_from} à {x.scale} à la "
                        f"question « {x.text['fr']} » dans le mois.",
                        "en": f"Answers of {x.positive_from} to {x.scale} to the "
                        f'question "{x.text["en"]}" in the month.',
                    },
                    "use": use,
                },
            )
        )
        out.append(
            (
                "indicator",
                indicator_id(q, x.id),
                {
                    "numerator": f"#{{{positive}}}",
                    "denominator": f"#{{{answers}}}",
                    "factor": 100,
                    "name": {
                        "fr": f"{title_fr} : « {x.text['fr']} » (part de "
                        f"{x.positive_from} ou plus)"[:200],
                        "en": f'{title_en}: "{x.text["en"]}" (share of '
                        f"{x.positive_from} or more)"[:200],
                    },
                    "definition": {
                        "fr": f"Part des réponses de {x.positive_from} ou plus sur "
                        f"{x.scale}, sur toutes les réponses à la question.",
                        "en": f"Share of answers of {x.positive_from} or more out "
                        f"of {x.scale}, of all answers to the question.",
                    },
                    "use": use,
                },
            )
        )
    return out


def check_answers(q: Questionnaire, answers: Any) -> dict[str, int]:
    """The answered questions (any may be skipped, at least one answered)."""
    if not isinstance(answers, Mapping):
        raise SurveyRefused("answers", "objet attendu", "an object is expected")
    out: dict[str, int] = {}
    for key, value in answers.items():
        question = q.question(str(key))
        if question is None:
            raise SurveyRefused(
                f"answers.{key}",
                "question inconnue de ce questionnaire",
                "unknown question of this questionnaire",
            )
        if value is None or value == "":
            continue  # skipped: nobody has to answer everything
        out[question.id] = _whole(value, f"answers.{key}", 1, question.scale)
    if not out:
        raise SurveyRefused(
            "answers",
            "répondez à au moins une question",
            "answer at least one question",
        )
    return out


def increments(q: Questionnaire, answers: Mapping[str, int]) -> dict[str, int]:
    """What one (checked) answer adds to the counts; nothing else is kept."""
    out: dict[str, int] = {}
    for question_id, value in answers.items():
        question = q.question(question_id)
        assert question is not None
        answered, positive = element_ids(q, question_id)
        out[answered] = 1
        out[positive] = 1 if value >= question.positive_from else 0
    return out


# --- practitioners' reports ---------------------------------------------------


@dataclass(frozen=True)
class Report:
    caseload: int
    admin_share: int
    supervision: str
    concerns: str = ""

    def to_doc(self) -> dict[str, Any]:
        """What is stored: the answers only (no author, time, id or period)."""
        doc: dict[str, Any] = {
            "caseload": self.caseload,
            "admin_share": self.admin_share,
            "supervision": self.supervision,
        }
        if self.concerns:
            doc["concerns"] = self.concerns
        return doc


def check_report(payload: Mapping[str, Any]) -> Report:
    """A report from its JSON, or :class:`SurveyRefused` naming the field::

    {"caseload": 34, "admin_share": 40, "supervision": "occasional",
     "concerns": "Trop de formulaires."}
    """
    if not isinstance(payload, Mapping):
        raise SurveyRefused("_schema", "objet attendu", "an object is expected")
    caseload = _whole(payload.get("caseload"), "caseload", 0, CASELOAD_MAX)
    admin = _whole(payload.get("admin_share"), "admin_share", 0, 100)
    supervision = payload.get("supervision")
    if supervision not in SUPERVISION:
        raise SurveyRefused(
            "supervision",
            f"une de : {', '.join(SUPERVISION)}",
            f"one of: {', '.join(SUPERVISION)}",
        )
    concerns = payload.get("concerns") or ""
    if not isinstance(concerns, str):
        raise SurveyRefused("concerns", "texte attendu", "a text is expected")
    concerns = concerns.strip()
    if len(concerns) > CONCERNS_MAX:
        raise SurveyRefused(
            "concerns",
            f"au plus {CONCERNS_MAX} caractères",
            f"at most {CONCERNS_MAX} characters",
        )
    return Report(caseload, admin, str(supervision), concerns)


def report_key(secret: bytes, account: str, period: str) -> str:
    """The stored proof that ``account`` reported in ``period``: an HMAC under
    the node's secret, so whoever holds the store alone cannot recompute it
    for a known account (nor tell which account a key is)."""
    message = f"practice\0{period}\0{account}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def aggregate_reports(
    reports: Iterable[Mapping[str, Any]], threshold: int, with_concerns: bool
) -> dict[str, Any]:
    """What leaves a practitioner's own view: aggregates of more than
    ``threshold`` reports, else only that there are too few (the number itself
    is a small count, hidden like any other).

    ``{"reports": 7, "suppressed": false, "caseload": {"median": 31, "mean":
    32.4}, "admin_share": {...}, "supervision": {"regular": 43, ...}, "concerns":
    ["...", ...]}`` (supervision in % of reports; concerns sorted, no author)
    """
    rows = list(reports)
    n = len(rows)
    if n <= threshold:
        return {"reports": None, "suppressed": True, "threshold": threshold}

    def summary(key: str) -> dict[str, float]:
        values = [float(r[key]) for r in rows]
        return {
            "median": round(statistics.median(values), 1),
            "mean": round(statistics.fmean(values), 1),
        }

    out: dict[str, Any] = {
        "reports": n,
        "suppressed": False,
        "threshold": threshold,
        "caseload": summary("caseload"),
        "admin_share": summary("admin_share"),
        "supervision": {
            option: round(100 * sum(r["supervision"] == option for r in rows) / n)
            for option in SUPERVISION
        },
    }
    if with_concerns:
        out["concerns"] = sorted(str(r["concerns"]) for r in rows if r.get("concerns"))
    return out
