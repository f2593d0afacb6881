"""Errors of the indicators area, each readable in French then English.

They are ``ValueError`` subclasses so the pure domain needs nothing else;
``field`` names what was wrong so the gateway can answer 422 per field.

    InvalidValue("home_interventions", "abc", "entier attendu / integer expected")
    -> valeur « abc » de home_interventions : entier attendu / integer expected
"""

from __future__ import annotations


class IndicatorsError(ValueError):
    field: str = ""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


class InvalidPeriod(IndicatorsError):
    def __init__(self, text: object) -> None:
        super().__init__(
            f"période « {text} » invalide (2017, 2017Q1, 201703) / "
            f'invalid period "{text}" (2017, 2017Q1, 201703)',
            "period",
        )


class InvalidValue(IndicatorsError):
    def __init__(self, element: str, raw: object, expected: str) -> None:
        super().__init__(
            f"valeur « {raw} » de {element} : {expected}",
            "value",
        )
        self.element = element


class UnknownOrgUnit(IndicatorsError):
    def __init__(self, unit_id: str) -> None:
        super().__init__(
            f"unité d'organisation inconnue : {unit_id} / unknown org unit: {unit_id}",
            "orgUnit",
        )
        self.unit_id = unit_id


class UnknownDataElement(IndicatorsError):
    def __init__(self, element_id: str) -> None:
        super().__init__(
            f"élément de données inconnu : {element_id} / "
            f"unknown data element: {element_id}",
            "dataElement",
        )


class ExpressionError(IndicatorsError):
    def __init__(self, expression: str, position: int, reason_fr: str, reason_en: str):
        super().__init__(
            f"expression « {expression} », position {position} : {reason_fr} / "
            f'expression "{expression}", position {position}: {reason_en}',
            "expression",
        )
        self.position = position


class DataImportError(IndicatorsError):
    """A row of an imported file that cannot be read (line and field named)."""

    def __init__(self, line: int, field: str, reason_fr: str, reason_en: str) -> None:
        super().__init__(
            f"ligne {line}, champ « {field} » : {reason_fr} / "
            f'row {line}, field "{field}": {reason_en}',
            field,
        )
        self.line = line


class ApprovalError(IndicatorsError):
    """Locked data, approval out of order, or an unapproval without a reason."""


class DefinitionRefused(IndicatorsError):
    """A definition of the local catalogue that cannot be proposed, adopted or
    defined: the field is named (``content.numerator``) and why, in both
    languages.

    ``champ « content.numerator » : élément de données inconnu « x » / ...``
    """

    def __init__(self, field: str, reason_fr: str, reason_en: str) -> None:
        super().__init__(
            f'champ « {field} » : {reason_fr} / field "{field}": {reason_en}',
            field,
        )
        self.reason_fr = reason_fr
        self.reason_en = reason_en
