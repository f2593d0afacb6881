"""The gateway's web pages: find help, take part, boards, indicators, administration.

Server-rendered HTML (Jinja2, autoescaped), French first with English by
``?lang=en`` or Accept-Language, WCAG 2.1 AA (labels, landmarks, keyboard,
contrast, charts readable without colour), usable on a phone, little
JavaScript. ``gateway.app`` includes :data:`api` and calls :func:`configure`.
"""

from __future__ import annotations

from gateway.web import (  # noqa: F401
    accounts,
    admin,
    boards,
    boards_procedure,
    boards_run,
    catalogue,
    directory,
    entry,
    federation,
    help,
    indicators,
    participation,
    session,
    surveys,
)
from gateway.web.core import api, configure

__all__ = ["api", "configure"]
