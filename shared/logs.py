"""Structured (JSON) logs with the correlation id and event id when known.

{"ts": "2026-11-23T14:02:11.123Z", "level": "INFO", "logger": "shared.outbox",
 "msg": "...", "service": "boards", "correlation_id": "5f0c...", "event_id": "01JD..."}
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime
from typing import Any

_EXTRA_KEYS = ("service", "correlation_id", "event_id", "event_type", "node_id")
# Per green thread under nameko (eventlet patches threading.local): the fields of
# the worker now running, so every log line of an RPC or event carries them.
_context = threading.local()


def bind(**fields: Any) -> None:
    """Attach fields (e.g. ``correlation_id``) to this thread's log lines."""
    _context.fields = {k: v for k, v in fields.items() if v}


def current() -> dict[str, Any]:
    """The fields bound to this thread, to carry them to another one."""
    return dict(getattr(_context, "fields", {}))


def clear() -> None:
    _context.fields = {}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        bound = getattr(_context, "fields", {})
        for key in _EXTRA_KEYS:
            value = getattr(record, key, None) or bound.get(key)
            if value:
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def logging_config(level: str = "INFO") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for services (nameko ``LOGGING``) and the gateway."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "shared.logs.JsonFormatter"}},
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": "json"}
        },
        "root": {"level": level, "handlers": ["console"]},
        "loggers": {"pymongo": {"level": "WARNING"}, "amqp": {"level": "WARNING"}},
    }
