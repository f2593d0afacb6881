"""Sentences of the directory editing, accounts and audit pages, French first
then English, by key; :mod:`gateway.web.messages` merges them into its table
(one block of their own, so the board and consultation pages' keys stay apart).
"""

from __future__ import annotations

DIRECTORY_MESSAGES: dict[str, tuple[str, str]] = {}
