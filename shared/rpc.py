"""nameko's ``@rpc``, re-running a call whose store transaction hit a transient conflict.

Two transactions that write the same documents (or, on SecantusDB, insert into
the same collection) conflict: the loser aborts with a ``TransientTransactionError``
and nothing it wrote is kept. Re-running the whole call is then safe and is what
a person would do by pressing the button again; this entrypoint does it (up to
``max_attempts`` times, with a random exponential back-off) before answering, so a
citizen supporting a proposal at the same moment as a neighbour does not see an
error. Handlers that use ``store.run_transaction`` already retry inside; this
covers ``with store.transaction()``.

Its request queue ``rpc-<service>`` is of the node's ``QUEUE_TYPE`` (quorum on a
cluster). Reply queues (``rpc.reply-...``, nameko's and the gateway's) stay
classic: each belongs to one client, is not durable and expires with it, which a
quorum queue cannot be; a lost reply is a timed-out call, retried by the caller.

    from shared.rpc import rpc

    class ParticipationService(ServiceBase):
        @rpc
        def support(self, proposal_id, person): ...
"""

from __future__ import annotations

import random
from functools import partial
from typing import Any

import eventlet
from nameko.exceptions import ContainerBeingKilled, MalformedRequest
from nameko.rpc import Rpc as NamekoRpc
from pymongo.errors import OperationFailure

from shared.config import queue_arguments, queue_type

WRITE_CONFLICT = 112


def is_transient(exc: BaseException | None) -> bool:
    if isinstance(exc, OperationFailure):
        return (
            exc.has_error_label("TransientTransactionError")
            or exc.code == WRITE_CONFLICT
        )
    cause = getattr(exc, "__cause__", None)
    return cause is not None and cause is not exc and is_transient(cause)


class Rpc(NamekoRpc):
    max_attempts = 12

    def setup(self) -> None:
        super().setup()
        # The service's one RpcConsumer (shared with any plain nameko ``@rpc``)
        # makes its queue now (idempotent), before anything declares it.
        consumer = self.rpc_consumer
        consumer.setup()
        consumer.queue.queue_arguments = {
            **(consumer.queue.queue_arguments or {}),
            **queue_arguments(queue_type(self.container.config)),
        }

    def handle_message(self, body: dict[str, Any], message: Any) -> None:
        try:
            args, kwargs = body["args"], body["kwargs"]
        except KeyError as exc:
            raise MalformedRequest("Message missing `args` or `kwargs`") from exc
        self.check_signature(args, kwargs)
        context_data = self.unpack_message_headers(message)
        self._spawn(message, args, kwargs, context_data, attempt=1)

    def _spawn(
        self, message: Any, args: Any, kwargs: Any, context_data: Any, attempt: int
    ) -> None:
        handle_result = partial(self._handle_result, message, args, kwargs, attempt)
        try:
            self.container.spawn_worker(
                self,
                args,
                kwargs,
                context_data=context_data,
                handle_result=handle_result,
            )
        except ContainerBeingKilled:
            self.rpc_consumer.requeue_message(message)

    def _handle_result(
        self,
        message: Any,
        args: Any,
        kwargs: Any,
        attempt: int,
        worker_ctx: Any,
        result: Any,
        exc_info: Any,
    ) -> tuple[Any, Any]:
        if (
            exc_info is not None
            and attempt < self.max_attempts
            and is_transient(exc_info[1])
        ):
            delay = random.uniform(0, min(0.5, 0.01 * 2**attempt))
            # Not from this worker's green thread: the pool may be full of retriers.
            eventlet.spawn_after(
                delay,
                self._spawn,
                message,
                args,
                kwargs,
                worker_ctx.context_data,
                attempt + 1,
            )
            return result, exc_info  # no reply yet: the next attempt answers
        return self.handle_result(message, worker_ctx, result, exc_info)


rpc = Rpc.decorator
