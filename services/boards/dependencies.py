"""DependencyProviders of the boards service beyond the shared store and outbox.

``Clock`` gives the current UTC time. It decides which meeting is "next" when
participation results arrive and which decisions are overdue; service tests
hand ``worker_factory`` a fixed clock instead, so that dates are reproducible.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from nameko.extensions import DependencyProvider

from shared.envelope import utcnow


class Clock(DependencyProvider):
    def get_dependency(self, worker_ctx: Any) -> Callable[[], datetime]:
        return utcnow
