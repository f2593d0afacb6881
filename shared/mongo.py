"""pymongo client construction, shared by services, gateway and CLI (no nameko import)."""

from __future__ import annotations

from typing import Any

from pymongo import MongoClient


def make_client(uri: str, timeout_ms: int = 5000) -> MongoClient[dict[str, Any]]:
    """A client that fails fast (``timeout_ms``) when the store is away, and retries writes."""
    return MongoClient(
        uri,
        serverSelectionTimeoutMS=timeout_ms,
        connectTimeoutMS=timeout_ms,
        retryWrites=True,
        tz_aware=True,
    )
