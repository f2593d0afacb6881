"""RabbitMQ's management HTTP API: the small client the node's tools, tests and
benchmarks share (federation's apply and status build on it).

    admin = BrokerAdmin("http://guest:guest@127.0.0.1:15672/api")
    with admin.throwaway_vhost("test") as vhost:
        uri = f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import requests

DEFAULT_API = "http://guest:guest@127.0.0.1:15672/api"
EVERYTHING = {"configure": ".*", "write": ".*", "read": ".*"}


class ManagementError(Exception):
    pass


class BrokerAdmin:
    """A small client of ``/api`` with the credentials taken from the URL."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        parts = urlsplit(url)
        self.auth = (parts.username or "guest", parts.password or "guest")
        netloc = parts.hostname or "127.0.0.1"
        if parts.port:
            netloc += f":{parts.port}"
        self.base = urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))
        self.timeout = timeout
        self.session = requests.Session()

    def _url(self, *parts: str) -> str:
        return "/".join([self.base, *(quote(p, safe="") for p in parts)])

    def _call(
        self, method: str, *parts: str, json: Any = None, timeout: float | None = None
    ) -> Any:
        url = self._url(*parts)
        try:
            resp = self.session.request(
                method, url, json=json, auth=self.auth, timeout=timeout or self.timeout
            )
        except requests.RequestException as exc:
            raise ManagementError(
                f"API de gestion injoignable / management API unreachable: {exc}"
            ) from exc
        if method == "DELETE" and resp.status_code == 404:
            return None
        if resp.status_code >= 400:
            raise ManagementError(f"{method} {url}: {resp.status_code} {resp.text}")
        return resp.json() if resp.content else None

    def get(self, *parts: str) -> Any:
        return self._call("GET", *parts)

    def put(self, *parts: str, body: Any) -> None:
        self._call("PUT", *parts, json=body)

    def delete(self, *parts: str) -> None:
        self._call("DELETE", *parts)

    # --- vhosts ------------------------------------------------------------------

    def add_vhost(self, name: str | None = None, prefix: str = "test") -> str:
        """Create ``name`` (or a new unique one) with every right for our user."""
        name = name or f"{prefix}-{uuid.uuid4().hex[:12]}"
        self.put("vhosts", name, body={})
        self.put("permissions", name, self.auth[0], body=EVERYTHING)
        return name

    def delete_vhost(self, name: str) -> None:
        """Delete ``name`` and all it holds; a vhost already gone is no error."""
        self._call("DELETE", "vhosts", name, timeout=60)

    @contextmanager
    def throwaway_vhost(self, prefix: str = "test") -> Iterator[str]:
        """A fresh vhost for the ``with`` block, deleted after it, even on error."""
        name = self.add_vhost(prefix=prefix)
        try:
            yield name
        finally:
            self.delete_vhost(name)
