"""Errors a client can cause or meet, shared by services and the gateway.

Services raise these; nameko carries them over RPC by name (``exc_type``) and
the gateway re-raises them as the same local types (:func:`from_remote`), then
maps each to one HTTP status through :data:`HTTP_STATUS`. Every error carries a
machine code and a message in French and English; validation errors also carry
``fields``: ``{"field name": ["reason", ...]}``.

    raise NotFound("service", service_id)
    raise Invalid({"cost": ["Nombre attendu. / Number expected."]})
"""

from __future__ import annotations

from typing import Any


class MaillageError(Exception):
    """Base of every error a person may read. ``message`` is ``{"fr": ..., "en": ...}``."""

    code = "error"
    message_fr = "Erreur."
    message_en = "Error."

    def __init__(
        self,
        message_fr: str | None = None,
        message_en: str | None = None,
        *,
        details: dict[str, Any] | None = None,
    ) -> None:
        self.message_fr = message_fr or self.message_fr
        self.message_en = message_en or self.message_en
        self.details = details or {}
        # nameko sends ``exc_args`` over RPC: one JSON-friendly dict rebuilds us.
        super().__init__(
            {
                "message_fr": self.message_fr,
                "message_en": self.message_en,
                "details": self.details,
            }
        )

    def __str__(self) -> str:
        return self.message_en

    def message(self, lang: str = "fr") -> str:
        return self.message_en if lang == "en" else self.message_fr

    def to_dict(self, lang: str = "fr") -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message(lang)}
        body.update(self.details)
        return body


class Invalid(MaillageError):
    """Bad input: ``fields`` maps each field to its reasons (both languages)."""

    code = "validation_error"
    message_fr = "Données invalides."
    message_en = "Invalid data."

    def __init__(
        self,
        fields: dict[str, Any],
        message_fr: str | None = None,
        message_en: str | None = None,
    ) -> None:
        super().__init__(message_fr, message_en, details={"fields": fields})
        self.fields = fields


class NotFound(MaillageError):
    code = "not_found"
    message_fr = "Ressource introuvable."
    message_en = "Resource not found."

    def __init__(self, kind: str = "resource", ident: str | None = None) -> None:
        super().__init__(
            f"{kind} introuvable : {ident}" if ident else f"{kind} introuvable.",
            f"{kind} not found: {ident}" if ident else f"{kind} not found.",
            details={"resource": kind, "id": ident},
        )


class Conflict(MaillageError):
    code = "conflict"
    message_fr = "Conflit avec l'état actuel."
    message_en = "Conflict with the current state."


class Forbidden(MaillageError):
    code = "forbidden"
    message_fr = "Action non permise."
    message_en = "Action not allowed."


class Unauthenticated(MaillageError):
    code = "unauthenticated"
    message_fr = "Authentification requise."
    message_en = "Authentication required."


class Unavailable(MaillageError):
    code = "unavailable"
    message_fr = "Service temporairement indisponible."
    message_en = "Service temporarily unavailable."


class TooManyRequests(MaillageError):
    """A rate limit was hit; ``retry_after`` seconds until the next try is allowed."""

    code = "too_many_requests"
    message_fr = "Trop de requêtes : réessayez plus tard."
    message_en = "Too many requests: try again later."

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"Trop de requêtes : réessayez dans {retry_after} s.",
            f"Too many requests: try again in {retry_after} s.",
            details={"retry_after": retry_after},
        )
        self.retry_after = retry_after


class ConfigError(MaillageError):
    """A missing or malformed setting: stops start-up with a clear message."""

    code = "config_error"


HTTP_STATUS: dict[type[MaillageError], int] = {
    Invalid: 422,
    NotFound: 404,
    Conflict: 409,
    Forbidden: 403,
    Unauthenticated: 401,
    Unavailable: 503,
    TooManyRequests: 429,
    ConfigError: 500,
}

_BY_NAME: dict[str, type[MaillageError]] = {}


def register(cls: type[MaillageError]) -> type[MaillageError]:
    """Make a service-specific subclass known to :func:`from_remote`."""
    _BY_NAME[cls.__name__] = cls
    return cls


for _cls in (
    MaillageError,
    Invalid,
    NotFound,
    Conflict,
    Forbidden,
    Unauthenticated,
    Unavailable,
):
    register(_cls)


def http_status(exc: MaillageError) -> int:
    for cls in type(exc).__mro__:
        if cls in HTTP_STATUS:
            return HTTP_STATUS[cls]  # type: ignore[index]
    return 400


def from_remote(exc_type: str, exc_args: list[Any] | None) -> MaillageError | None:
    """Rebuild a service's error in the gateway; ``None`` if it is not one of ours."""
    cls = _BY_NAME.get(exc_type)
    if cls is None or not exc_args or not isinstance(exc_args[0], dict):
        return None
    data = exc_args[0]
    err = MaillageError.__new__(cls)
    MaillageError.__init__(
        err, data.get("message_fr"), data.get("message_en"), details=data.get("details")
    )
    if isinstance(err, Invalid):
        err.fields = err.details.get("fields", {})
    return err
