"""Errors of the offerings service, mapped to HTTP by the gateway's one table.

``Invalid`` (422) names each field; ``ImportRefused`` carries the report of an
import that changed nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from services.offerings.domain import Problem
from shared.errors import Conflict, Invalid, NotFound, register

__all__ = ["Conflict", "ImportRefused", "Invalid", "NotFound", "invalid_from"]


def invalid_from(problems: Iterable[Problem]) -> Invalid:
    """One 422 error naming each field with its reasons, French then English."""
    fields: dict[str, list[str]] = defaultdict(list)
    for problem in problems:
        fields[problem.field or "_schema"].append(f"{problem.fr} / {problem.en}")
    return Invalid(dict(fields))


@register
class ImportRefused(Invalid):
    code = "import_refused"
    message_fr = "Import refusé : rien n'a été écrit."
    message_en = "Import refused: nothing was written."

    def __init__(self, report: dict[str, Any]) -> None:
        fields: dict[str, list[str]] = defaultdict(list)
        for problem in report.get("problems", []):
            fields[problem.get("field") or "_file"].append(problem["message"])
        super().__init__(dict(fields))
        self.details["report"] = report
