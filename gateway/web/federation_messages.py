"""Sentences of the federation and roll-up pages, French first then English
(merged into :data:`gateway.web.messages.MESSAGES`)."""

from __future__ import annotations

FEDERATION_MESSAGES: dict[str, tuple[str, str]] = {}
