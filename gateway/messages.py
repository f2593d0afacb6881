"""marshmallow's field reasons in the reader's language.

The gateway validates with the services' marshmallow schemas, whose reasons are
English; a French reader (the default) gets them in French, an English reader
as they are. Reasons already bilingual (``"Champ requis. / Required."``) pass
through. Unknown messages stay in English rather than being guessed.

    {"cost": ["Not a valid number."]}  --fr-->  {"cost": ["Nombre attendu."]}
"""

from __future__ import annotations

import re
from typing import Any

_EXACT = {
    "Missing data for required field.": "Champ requis.",
    "Unknown field.": "Champ inconnu.",
    "Field may not be null.": "Valeur requise (null refusé).",
    "Not a valid string.": "Texte attendu.",
    "Not a valid integer.": "Nombre entier attendu.",
    "Not a valid number.": "Nombre attendu.",
    "Not a valid boolean.": "Vrai ou faux attendu.",
    "Not a valid list.": "Liste attendue.",
    "Not a valid mapping type.": "Objet attendu.",
    "Not a valid date.": "Date AAAA-MM-JJ attendue.",
    "Not a valid datetime.": "Date-heure ISO 8601 attendue.",
    "Not a valid UUID.": "UUID attendu.",
    "Not a valid email address.": "Adresse courriel invalide.",
    "Not a valid URL.": "URL invalide.",
    "Invalid input type.": "Type de données invalide.",
    "Invalid value.": "Valeur invalide.",
    "String does not match expected pattern.": "Format invalide.",
    "Not a valid datetime or not timezone-aware.": "Date-heure avec fuseau attendue.",
}
_PATTERNS = [
    (re.compile(r"^Must be one of: (.*)\.$"), "Doit être parmi : {0}."),
    (
        re.compile(
            r"^Must be greater than or equal to (.*) and less than or equal to (.*)\.$"
        ),
        "Doit être entre {0} et {1}.",
    ),
    (
        re.compile(r"^Must be greater than or equal to (.*)\.$"),
        "Doit être au moins {0}.",
    ),
    (re.compile(r"^Must be less than or equal to (.*)\.$"), "Doit être au plus {0}."),
    (
        re.compile(r"^Length must be between (.*) and (.*)\.$"),
        "Longueur entre {0} et {1} attendue.",
    ),
    (
        re.compile(r"^Shorter than minimum length (.*)\.$"),
        "Plus court que {0} caractères.",
    ),
    (
        re.compile(r"^Longer than maximum length (.*)\.$"),
        "Plus long que {0} caractères.",
    ),
    (re.compile(r"^Length must be (.*)\.$"), "Longueur {0} attendue."),
]


def french(message: str) -> str:
    if message in _EXACT:
        return _EXACT[message]
    for pattern, template in _PATTERNS:
        match = pattern.match(message)
        if match:
            return template.format(*match.groups())
    return message


def localize(messages: Any, lang: str) -> Any:
    """The same nested structure, each reason in ``lang``."""
    if lang == "en":
        return messages
    if isinstance(messages, dict):
        return {k: localize(v, lang) for k, v in messages.items()}
    if isinstance(messages, list):
        return [localize(v, lang) for v in messages]
    if isinstance(messages, str):
        return french(messages)
    return messages
