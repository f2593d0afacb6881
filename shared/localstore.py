"""The zero-setup local document store: a SecantusDB server in its own process.

Production uses real MongoDB (docker-compose); tests and ``make run`` use the
``secantusdb`` package's MongoDB-wire-compatible server on 127.0.0.1. The code
that talks to it is the same: a ``mongodb://`` URI handed to pymongo.

The server runs with ``--sync-on-commit`` so that an acknowledged write is on
disk before the client hears about it: it survives ``kill -9`` of the server
(and of the machine), which is what a board's register needs.

    with LocalStore("var/store") as store:
        client = pymongo.MongoClient(store.uri)
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

log = logging.getLogger(__name__)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:
    """In the child, before exec: get SIGKILL when the process that started us dies,
    so a killed test run or node runner never leaves a store behind (Linux only).

    SIGKILL, not SIGTERM: the server's own SIGTERM handler stops it gracefully but
    was seen to hang now and then on a loaded machine, leaving the orphan running.
    Nothing acknowledged is lost by a kill (``--sync-on-commit``, and the store's
    recovery at the next start is what ``test_acknowledged_writes_survive_kill_9``
    checks)."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _server_command() -> list[str]:
    exe = Path(sys.executable).with_name("secantusd-py")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("secantusd-py")
    if found is None:
        raise RuntimeError(
            "secantusd-py not found: run `make install` (the secantusdb package "
            "provides the local store)"
        )
    return [found]


class LocalStore:
    """Start, wait for and stop one SecantusDB server bound to 127.0.0.1."""

    def __init__(
        self,
        storage_path: str | os.PathLike[str],
        port: int | None = None,
        sync_on_commit: bool = True,
        log_path: str | os.PathLike[str] | None = None,
    ) -> None:
        self.storage_path = Path(storage_path)
        self.port = port or free_port()
        self.sync_on_commit = sync_on_commit
        self.log_path = Path(log_path) if log_path else self.storage_path / "server.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    def start(self, timeout: float = 30.0) -> LocalStore:
        self.storage_path.mkdir(parents=True, exist_ok=True)
        args = _server_command() + [
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--storage-path",
            str(self.storage_path / "data"),
            "--log-level",
            "WARNING",
        ]
        if self.sync_on_commit:
            args.append("--sync-on-commit")
        logfile = open(self.log_path, "ab")  # noqa: SIM115 - kept for the child
        self.process = subprocess.Popen(
            args,
            stdout=logfile,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
        logfile.close()
        self._wait_ready(timeout)
        log.info("local store on %s (%s)", self.uri, self.storage_path)
        return self

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(
                    f"the local store exited with code {self.process.returncode}; "
                    f"see {self.log_path}"
                )
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"the local store did not answer on port {self.port}")

    def kill(self) -> None:
        """Stop abruptly (SIGKILL), as a crash would."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def __enter__(self) -> LocalStore:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
