"""What a gateway process keeps in memory so a request costs no store or RPC
round trip: the revocation list, and the anonymous answers of public reads.

Both are kept current the same way, and both say when they cannot be trusted:

- :class:`StorePoll` reads one small document of the gateway's store (the
  ``generations`` counters, :meth:`gateway.store.GatewayStore.generations`) at
  most every ``interval`` seconds, on the request that finds it older. A
  revocation bumps ``revocations``; every batch of audited writes bumps
  ``reads.<area>`` for the areas it wrote (:func:`areas_written`).
- :class:`RevocationCache` reloads the revoked token ids and accounts' cut-offs
  when ``revocations`` moved. A revoked token is refused by every process
  within ``interval`` (default 0.25 s); the process that revoked refuses it at
  once. If the store has not answered the poll for ``trust`` seconds (default
  5 s), an authenticated request is refused with 503 naming the reason: the
  cache fails closed.
- :class:`ReadCache` keeps the anonymous answers (status 200, body, ETag) of
  the public reads of the directory, the register and the processes, keyed by
  the address with its full query, the language and the host. An entry is
  stamped with its area's generation read BEFORE the RPC and served only while
  that generation has not moved. A generation moves on the services' domain
  events (:class:`EventFeed`, a kombu consumer of ``maillage.events`` in each
  process), on a write of the area through any gateway process (the polled
  counters) and at once on a write through this process. Signed-in readers never
  read or fill it. When the event feed or the poll is down, every read takes
  the RPC path (fail open) and ``/health`` says why (``read_cache``).

Why invalidation rather than a full read model: the services already decide
what each audience sees (one function per entity, confidential addresses,
closed sessions); a read model in the gateway would copy those decisions and
could drift from them. A cache of the services' own anonymous answers reuses
them, costs one RPC per entry per change, and several writes (a location made
confidential, an organisation withdrawn) emit no domain event yet, which the
gateway-write counters cover.
"""

from __future__ import annotations

import collections
import functools
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from kombu import Connection, Consumer, Queue, binding
from werkzeug.wrappers import Response

from gateway.api import Context, Handler
from gateway.store import REVOCATIONS, GatewayStore
from shared.broker import events_exchange, first_uri
from shared.errors import Unavailable

log = logging.getLogger(__name__)

#: The areas whose public reads are cached: route action -> area (service).
CACHED_ACTIONS = {
    "offerings.search": "offerings",
    "offerings.read": "offerings",
    "boards.register": "boards",
    "participation.read": "participation",
}
AREAS = ("offerings", "boards", "participation")
MAX_ENTRIES = 4096
MAX_BODY = 512 * 1024
# A backstop for what changes with the clock alone (a process's current phase,
# a register's upcoming meetings): no entry is older than this.
TTL = 10.0


def areas_written(actions: Iterable[str]) -> set[str]:
    """The cached areas that writes of these actions may have changed."""
    return {a.split(".", 1)[0] for a in actions} & set(AREAS)


class StorePoll:
    """The ``generations`` document, read at most every ``interval`` seconds."""

    def __init__(self, store: GatewayStore, interval: float = 0.25) -> None:
        self.store = store
        self.interval = interval
        self.listeners: list[Callable[[dict[str, int]], None]] = []
        self._lock = threading.Lock()
        self._tried = -1e9
        self.ok_at = -1e9  # monotonic time of the last answer
        self.error: str | None = None
        store.revoked_hooks.append(self.expire)

    def expire(self) -> None:
        """Poll on the next request (this process just revoked something)."""
        self._tried = -1e9

    def age(self) -> float:
        """Seconds since the store last answered, after polling if due."""
        if time.monotonic() - self._tried >= self.interval:
            with self._lock:
                if time.monotonic() - self._tried >= self.interval:
                    self._poll()
        return time.monotonic() - self.ok_at

    def _poll(self) -> None:
        # _tried is set once done: a request arriving meanwhile waits for the
        # lock instead of judging a cache that is being refreshed
        started = time.monotonic()
        try:
            generations = self.store.generations()
            for listener in self.listeners:
                listener(generations)
        except Exception as exc:  # noqa: BLE001 - the caches decide what it means
            self.error = f"{type(exc).__name__}: {exc}"[:200]
            log.warning("gateway store poll failed: %s", self.error)
            self._tried = time.monotonic()
            return
        self.ok_at, self.error = started, None
        self._tried = started


class RevocationCache:
    """The revoked tokens and accounts, reloaded when ``revocations`` moves."""

    def __init__(self, poll: StorePoll, trust: float = 5.0) -> None:
        self.poll = poll
        self.trust = trust
        self._generation: int | None = None
        self._tokens: set[str] = set()
        self._accounts: dict[str, int] = {}
        poll.listeners.append(self._on_generations)

    def _on_generations(self, generations: dict[str, int]) -> None:
        generation = generations.get(REVOCATIONS, 0)
        if generation != self._generation:
            self._tokens, self._accounts = self.poll.store.revocation_marks()
            self._generation = generation

    def is_revoked(self, claims: dict[str, Any]) -> bool:
        if self.poll.age() > self.trust:
            raise Unavailable(
                "Liste de révocation des jetons périmée : le magasin de la "
                f"passerelle ne répond plus ({self.poll.error}) ; réessayez.",
                "Token revocation list out of date: the gateway's store does not "
                f"answer ({self.poll.error}); try again.",
                details={"field": "revocations", "retry_after": 1},
            )
        if claims["jti"] in self._tokens:
            return True
        return bool(claims["iat"] <= self._accounts.get(claims["sub"], -1))


class EventFeed:
    """A consumer of the node's domain events in this process: an exclusive,
    auto-deleted queue bound to ``maillage.events`` for ``<area>.#``, read by a
    daemon thread started on first use (after gunicorn's fork). Losing the
    connection is harmless: the cache is bypassed until the queue is bound
    again, and then emptied (what happened meanwhile is unknown)."""

    def __init__(
        self,
        amqp_uri: str,
        on_event: Callable[[str], None],
        on_reset: Callable[[], None],
        areas: Iterable[str] = AREAS,
    ) -> None:
        self.amqp_uri = first_uri(amqp_uri)
        self.on_event, self.on_reset = on_event, on_reset
        self.areas = tuple(areas)
        self.consuming = False
        self.state = "not started"
        self.applied = 0
        self._pid = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def ensure_started(self) -> None:
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid != os.getpid():
                self.consuming, self.state = False, "starting"
                thread = threading.Thread(target=self._run, name="event-feed")
                thread.daemon = True
                thread.start()
                self._pid = os.getpid()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        backoff = 0.5
        while not self._stop.is_set():
            try:
                self._consume()
            except Exception as exc:  # noqa: BLE001 - reconnect, bypassed meanwhile
                self.consuming = False
                self.state = f"down: {type(exc).__name__}: {exc}"[:200]
                log.warning("gateway event feed %s", self.state)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
            else:
                backoff = 0.5

    def _consume(self) -> None:
        exchange = events_exchange()
        name = (
            f"gateway.cache.{socket.gethostname()}.{os.getpid()}.{uuid.uuid4().hex[:6]}"
        )
        queue = Queue(
            name,
            bindings=[binding(exchange, routing_key=f"{a}.#") for a in self.areas],
            exclusive=True,
            auto_delete=True,
            durable=False,
        )
        with Connection(self.amqp_uri, heartbeat=10, connect_timeout=3) as conn:
            with Consumer(conn, queues=[queue], on_message=self._message, no_ack=True):
                self.on_reset()
                self.consuming, self.state = True, "ok"
                try:
                    while not self._stop.is_set():
                        try:
                            conn.drain_events(timeout=1)
                        except TimeoutError:
                            conn.heartbeat_check()
                finally:
                    self.consuming = False

    def _message(self, message: Any) -> None:
        self.on_event(str(message.delivery_info.get("routing_key", "")))
        self.applied += 1


class ReadCache:
    """Anonymous answers of public reads, invalidated by generation per area."""

    def __init__(
        self,
        poll: StorePoll,
        amqp_uri: str,
        max_entries: int = MAX_ENTRIES,
        ttl: float = TTL,
    ) -> None:
        self.poll = poll
        self.max_entries, self.ttl = max_entries, ttl
        self._local = dict.fromkeys(AREAS, 0)  # bumped by events, own writes
        self._shared = dict.fromkeys(AREAS, -1)  # the store's counters
        self._entries: collections.OrderedDict[Any, Any] = collections.OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = self.bypassed = 0
        self.feed = EventFeed(amqp_uri, self._on_event, self.reset)
        poll.listeners.append(self._on_generations)

    # --- invalidation ----------------------------------------------------------------

    def _on_event(self, event_type: str) -> None:
        area = event_type.split(".", 1)[0]
        self.bump([area] if area in self._local else AREAS)

    def _on_generations(self, generations: dict[str, int]) -> None:
        moved = [
            a for a in AREAS if generations.get(f"reads.{a}", 0) != self._shared[a]
        ]
        for area in moved:
            self._shared[area] = generations.get(f"reads.{area}", 0)
        self.bump(moved)

    def bump(self, areas: Iterable[str]) -> None:
        with self._lock:
            for area in areas:
                self._local[area] += 1

    def reset(self) -> None:
        with self._lock:
            for area in AREAS:
                self._local[area] += 1
            self._entries.clear()

    # --- use -------------------------------------------------------------------------

    def status(self) -> str:
        """``ok``, or why reads take the RPC path (for ``/health``)."""
        self.feed.ensure_started()
        if not self.feed.consuming:
            return f"bypassed: event feed {self.feed.state}"
        if self.poll.age() > 4 * self.poll.interval + 1:
            return f"bypassed: gateway store poll {self.poll.error}"
        return "ok"

    def wrap(self, handler: Handler, area: str) -> Handler:
        @functools.wraps(handler)
        def read(ctx: Context, **values: Any) -> Any:
            if ctx.user is not None or ctx.request.method != "GET":
                return handler(ctx, **values)  # a signed-in answer is theirs
            if self.status() != "ok":
                self.bypassed += 1
                return handler(ctx, **values)
            request = ctx.request
            key = (request.host_url, request.path, request.query_string, ctx.lang)
            generation = self._local[area]
            now = time.monotonic()
            with self._lock:
                entry = self._entries.get(key)
                if entry is not None:
                    self._entries.move_to_end(key)
            if entry is not None and entry[0] == generation and entry[1] > now:
                self.hits += 1
                return _answer(ctx, entry[2], entry[3])
            self.misses += 1
            result = handler(ctx, **values)
            if (
                isinstance(result, Response)
                and result.status_code == 200
                and not result.is_streamed
                and "ETag" in result.headers
            ):
                body = result.get_data()
                if len(body) <= MAX_BODY:
                    headers = [
                        (k, v) for k, v in result.headers if k != "Content-Length"
                    ]
                    with self._lock:
                        self._entries[key] = (generation, now + self.ttl, body, headers)
                        while len(self._entries) > self.max_entries:
                            self._entries.popitem(last=False)
                result.headers["X-Maillage-Cache"] = "miss"
            return result

        return read


def _answer(ctx: Context, body: bytes, headers: list[tuple[str, str]]) -> Response:
    tag = dict(headers).get("ETag", "")
    given = ctx.request.headers.get("If-None-Match", "")
    if tag and tag in {t.strip().removeprefix("W/") for t in given.split(",")}:
        return Response(status=304, headers={"ETag": tag, "X-Maillage-Cache": "hit"})
    response = Response(body, status=200, headers=headers)
    response.headers["X-Maillage-Cache"] = "hit"
    return response
