"""Errors of the offerings service, mapped to HTTP by the gateway's one table.

``Invalid`` (422) names each field; ``import_refused`` carries the report of an
import that changed nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from services.offerings.domain import Problem, Refusal, Writer
from shared.errors import Conflict, Forbidden, Invalid, NotFound

__all__ = [
    "Conflict",
    "Forbidden",
    "Invalid",
    "NotFound",
    "import_refused",
    "invalid_from",
    "write_refused",
]

_WHAT = {
    "service": ("Le service", "Service"),
    "organization": ("L'organisme", "Organization"),
    "location": ("Le lieu", "Location"),
    "service_at_location": ("Le lien service-lieu", "Service at location"),
}


def invalid_from(problems: Iterable[Problem]) -> Invalid:
    """One 422 error naming each field with its reasons, French then English."""
    fields: dict[str, list[str]] = defaultdict(list)
    for problem in problems:
        fields[problem.field or "_schema"].append(f"{problem.fr} / {problem.en}")
    return Invalid(dict(fields))


def import_refused(report: dict[str, Any]) -> Invalid:
    """A refused import as a plain :class:`Invalid` (422, known to the
    gateway without importing this module), the whole report in ``details``."""
    fields: dict[str, list[str]] = defaultdict(list)
    for problem in report.get("problems", []):
        fields[problem.get("field") or "_file"].append(problem["message"])
    error = Invalid(
        dict(fields),
        "Import refusé : rien n'a été écrit.",
        "Import refused: nothing was written.",
    )
    error.details["report"] = report
    return error


def write_refused(refusals: list[Refusal], writer: Writer) -> Forbidden:
    """403 naming the first refused record, the field and the reason, French
    and English; ``details.records`` lists every refused record.

        {"code": "forbidden", "field": "mrc_code", "resource": "location",
         "id": "…", "resource_mrc": ["2423"], "account_mrc": "2466",
         "message": "Le lieu … relève d'une autre MRC (2423) que votre compte
         (2466) : seul le personnel de cette MRC peut le modifier."}
    """
    first = refusals[0]
    fr_what, en_what = _WHAT.get(first.table, ("L'enregistrement", "Record"))
    fr_what = f"{fr_what} {first.record_id}"
    en_what = f"{en_what} {first.record_id}"
    more_fr = more_en = ""
    if len(refusals) > 1:
        more_fr = f" ({len(refusals)} enregistrements refusés, rien n'a été écrit)"
        more_en = f" ({len(refusals)} records refused, nothing was written)"
    details = {
        "field": first.field,
        "resource": first.table,
        "id": first.record_id,
        "account_mrc": writer.mrc,
        "records": [
            {
                "resource": r.table,
                "id": r.record_id,
                "field": r.field,
                "mrc": list(r.mrcs),
            }
            for r in refusals[:50]
        ],
    }
    if first.kind == "confidentiality":
        return Forbidden(
            f"Seule l'administration du nœud peut lever la confidentialité de "
            f"{fr_what.lower()} (champ confidential_location) : son adresse "
            f"deviendrait publique.{more_fr}",
            f"Only the node administrator may turn off the confidentiality of "
            f"{en_what.lower()} (field confidential_location): its address would "
            f"become public.{more_en}",
            details=details,
        )
    codes = ", ".join(m for m in first.mrcs if m != "?")
    details["resource_mrc"] = [m for m in first.mrcs if m != "?"]
    if not codes:
        return Forbidden(
            f"{fr_what} n'a aucune MRC connue et le nœud n'en déclare pas "
            f"(MRC_CODE) : impossible de vérifier que votre compte "
            f"({writer.mrc}) peut le modifier (champ mrc_code).{more_fr}",
            f"{en_what} has no known MRC and the node declares none (MRC_CODE): "
            f"cannot check that your account ({writer.mrc}) may change it "
            f"(field mrc_code).{more_en}",
            details=details,
        )
    return Forbidden(
        f"{fr_what} relève d'une autre MRC ({codes}) que votre compte "
        f"({writer.mrc}) : seul le personnel de cette MRC peut le modifier "
        f"(champ mrc_code).{more_fr}",
        f"{en_what} belongs to another MRC ({codes}) than your account "
        f"({writer.mrc}): only that MRC's staff may change it (field mrc_code)."
        f"{more_en}",
        details=details,
    )
