"""Errors of the federation service (configuration problems stop start-up)."""

from __future__ import annotations

from services.federation.identity import KeyFileError
from services.federation.schemas import ConfigError

__all__ = ["ConfigError", "KeyFileError"]
