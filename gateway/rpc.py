"""Calling the nameko services from gunicorn's threads, without eventlet.

The gateway runs under gunicorn with ``gthread`` workers (real threads), so it
does not use nameko's eventlet-based standalone proxy. It speaks nameko's RPC
protocol directly with kombu: a request on the ``nameko-rpc`` topic exchange
with routing key ``<service>.<method>``, ``reply_to`` a private queue bound to
the same exchange, and a ``correlation_id``; context (the correlation id of the
HTTP request) travels in ``nameko.*`` headers, where nameko puts it in the
worker's context data. Each :class:`RpcClient` owns one connection and one
reply queue and is used by one thread at a time; :class:`RpcPool` lends them.

    pool = RpcPool(amqp_uri)
    with pool.client() as rpc:
        rpc.call("offerings", "search", {"q": "logement"}, correlation_id=cid)
"""

from __future__ import annotations

import json
import queue
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import amqp
from kombu import Connection, Exchange, Queue
from kombu.exceptions import OperationalError

from shared.errors import MaillageError, NotFound, Unavailable, from_remote

RPC_EXCHANGE = Exchange("nameko-rpc", type="topic", durable=True)


class RemoteFailure(Exception):
    """A service raised something that is not one of our client errors (a bug)."""

    def __init__(self, exc_type: str, value: str) -> None:
        super().__init__(f"{exc_type}: {value}")
        self.exc_type = exc_type


class RpcClient:
    def __init__(self, amqp_uri: str, timeout: float = 10.0) -> None:
        self.amqp_uri = amqp_uri
        self.timeout = timeout
        self.connection: Connection | None = None
        self.reply_id = f"rpc.reply-gateway-{uuid.uuid4()}"
        self._replies: dict[str, dict[str, Any]] = {}

    def _connect(self) -> None:
        self.close()
        conn = Connection(self.amqp_uri, connect_timeout=3, heartbeat=0)
        conn.connect()
        reply_queue = Queue(
            self.reply_id,
            exchange=RPC_EXCHANGE,
            routing_key=self.reply_id,
            exclusive=True,
            auto_delete=True,
        )
        self.consumer = conn.Consumer(
            reply_queue, callbacks=[self._on_reply], accept=["json"]
        )
        self.consumer.consume()
        self.producer = conn.Producer(channel=conn.channel(), exchange=RPC_EXCHANGE)
        self.connection = conn

    def _on_reply(self, body: dict[str, Any], message: Any) -> None:
        self._replies[message.properties.get("correlation_id")] = body
        message.ack()

    def call(
        self,
        service: str,
        method: str,
        *args: Any,
        correlation_id: str | None = None,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> Any:
        try:
            if self.connection is None:
                self._connect()
            return self._call(
                service, method, args, kwargs, correlation_id, timeout or self.timeout
            )
        except amqp.exceptions.ChannelError as exc:
            if getattr(exc, "reply_code", None) == 312:  # NO_ROUTE: nobody consumes
                raise Unavailable(
                    f"Le service « {service} » n'est pas démarré.",
                    f"The '{service}' service is not running.",
                ) from exc
            self.close()
            raise Unavailable() from exc
        except (OperationalError, OSError, ConnectionError) as exc:
            self.close()
            raise Unavailable(
                "Le courtier de messages est injoignable.",
                "The message broker is unreachable.",
            ) from exc

    def _call(
        self,
        service: str,
        method: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        correlation_id: str | None,
        timeout: float,
    ) -> Any:
        assert self.connection is not None
        call_id = str(uuid.uuid4())
        headers: dict[str, Any] = {"nameko.call_id_stack": [f"gateway.{call_id}"]}
        if correlation_id:
            headers["nameko.correlation_id"] = correlation_id
        self.producer.publish(
            json.dumps({"args": list(args), "kwargs": kwargs}),
            routing_key=f"{service}.{method}",
            reply_to=self.reply_id,
            correlation_id=call_id,
            headers=headers,
            content_type="application/json",
            mandatory=True,
            retry=False,
        )
        deadline = time.monotonic() + timeout
        while call_id not in self._replies:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise Unavailable(
                    f"Le service « {service} » ne répond pas.",
                    f"The '{service}' service does not answer.",
                )
            try:
                self.connection.drain_events(timeout=min(remaining, 1.0))
            except TimeoutError:
                continue
        body = self._replies.pop(call_id)
        error = body.get("error")
        if error:
            raise _local_error(error)
        return body.get("result")

    def close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.release()
            except Exception:  # noqa: BLE001 - a dead connection closes with errors
                pass
        self.connection = None
        self._replies.clear()


# pymongo errors that mean "the store is away" rather than "a bug".
_STORE_DOWN = {
    "ServerSelectionTimeoutError",
    "AutoReconnect",
    "NetworkTimeout",
    "ConnectionFailure",
    "NotPrimaryError",
    "WaitQueueTimeoutError",
}


def _local_error(error: dict[str, Any]) -> Exception:
    exc_type = error.get("exc_type", "")
    local = from_remote(exc_type, error.get("exc_args"))
    if local is not None:
        return local
    if exc_type == "MethodNotFound":
        return NotFound("method", str(error.get("value")))
    if exc_type in ("UnknownService",):
        return Unavailable()
    if exc_type in _STORE_DOWN:
        return Unavailable(
            "Le magasin de données est injoignable.", "The data store is unreachable."
        )
    return RemoteFailure(exc_type, str(error.get("value")))


class RpcPool:
    """A small pool of :class:`RpcClient`; safe across gunicorn's threads."""

    def __init__(self, amqp_uri: str, size: int = 8, timeout: float = 10.0) -> None:
        self.amqp_uri = amqp_uri
        self.timeout = timeout
        self._idle: queue.LifoQueue[RpcClient] = queue.LifoQueue()
        self._lock = threading.Lock()
        self._created = 0
        self.size = size

    @contextmanager
    def client(self) -> Iterator[RpcClient]:
        try:
            client = self._idle.get_nowait()
        except queue.Empty:
            with self._lock:
                self._created += 1
            client = RpcClient(self.amqp_uri, self.timeout)
        try:
            yield client
        except MaillageError:
            raise
        except Exception:
            client.close()
            raise
        finally:
            if self._idle.qsize() < self.size:
                self._idle.put(client)
            else:
                client.close()

    def call(self, service: str, method: str, *args: Any, **kwargs: Any) -> Any:
        with self.client() as client:
            return client.call(service, method, *args, **kwargs)

    def close(self) -> None:
        while not self._idle.empty():
            self._idle.get_nowait().close()
