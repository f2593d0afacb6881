"""Errors of the offerings service, mapped to HTTP by the gateway's one table.

``Invalid`` (422) names each field; ``import_refused`` carries the report of an
import that changed nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from services.offerings.domain import Problem
from shared.errors import Conflict, Invalid, NotFound

__all__ = ["Conflict", "Invalid", "NotFound", "import_refused", "invalid_from"]


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
