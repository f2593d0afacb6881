"""An extra RabbitMQ node on this machine, for tests, the demo and the bench.

Federation needs two brokers. The machine's broker (5672) plays one node;
:class:`LocalBroker` starts another RabbitMQ node on free ports, with its own
node name, Mnesia and log folders under ``base`` and the management and
federation plugins. It can be stopped and started again with its data kept, to
cut and restore a federation link::

    broker = LocalBroker(Path("/tmp/rabbit2"))
    broker.start()                      # ~7 s
    uri = broker.amqp_uri(broker.add_vhost())
    broker.stop()

:class:`LocalCluster` joins several such nodes into one RabbitMQ cluster (a
shared Erlang cookie, ``join_cluster``), for tests of quorum queues and of a
broker node lost with SIGKILL (:meth:`LocalBroker.kill`)::

    cluster = LocalCluster(Path("/tmp/rabbits"), size=3)
    cluster.start()
    uri = cluster.amqp_uri(cluster.add_vhost())   # "amqp://...:p1/v;amqp://...:p2/v;..."
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

import requests

from shared.rabbitadmin import BrokerAdmin

SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"
CTL = "/usr/lib/rabbitmq/bin/rabbitmqctl"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LocalBroker:
    def __init__(self, base: Path, cookie: str | None = None) -> None:
        """``cookie``: the Erlang cookie, the same for the nodes of one cluster."""
        self.base = base
        base.mkdir(parents=True, exist_ok=True)
        if cookie is not None:
            path = base / ".erlang.cookie"  # HOME is base: Erlang reads it there
            if path.exists():
                path.chmod(0o600)
            path.write_text(cookie)
            path.chmod(0o400)
        self.node = f"maillage2-{uuid.uuid4().hex[:6]}@localhost"
        self.amqp_port = _free_port()
        self.mgmt_port = _free_port()
        self.dist_port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None
        (base / "rabbitmq.conf").write_text(
            f"listeners.tcp.default = 127.0.0.1:{self.amqp_port}\n"
            f"management.tcp.ip = 127.0.0.1\n"
            f"management.tcp.port = {self.mgmt_port}\n"
            "loopback_users = none\n"
        )
        (base / "enabled_plugins").write_text(
            "[rabbitmq_management,rabbitmq_federation,"
            "rabbitmq_federation_management].\n"
        )
        (base / "rabbitmq-env.conf").write_text("ERL_EPMD_ADDRESS=127.0.0.1\n")

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.mgmt_port}/api"

    @property
    def mgmt_url(self) -> str:
        return f"http://guest:guest@127.0.0.1:{self.mgmt_port}/api"

    def amqp_uri(self, vhost: str) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.amqp_port}/{vhost}"

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            HOME=str(self.base),
            RABBITMQ_CONF_ENV_FILE=str(self.base / "rabbitmq-env.conf"),
            RABBITMQ_NODENAME=self.node,
            RABBITMQ_CONFIG_FILE=str(self.base / "rabbitmq.conf"),
            RABBITMQ_ENABLED_PLUGINS_FILE=str(self.base / "enabled_plugins"),
            RABBITMQ_MNESIA_BASE=str(self.base / "mnesia"),
            RABBITMQ_LOG_BASE=str(self.base / "log"),
            RABBITMQ_DIST_PORT=str(self.dist_port),
            ERL_FLAGS="-kernel inet_dist_use_interface {127,0,0,1}",
        )
        return env

    def start(self, timeout: float = 60.0) -> None:
        self.launch()
        self.wait_ready(timeout)

    def launch(self) -> None:
        """Start the node's process without waiting for it (see :meth:`wait_ready`)."""
        self._log = open(self.base / "server.out", "ab")  # noqa: SIM115
        self.process = subprocess.Popen(
            [SERVER],
            env=self._env(),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=self.base,
        )

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Block until the node's management API answers as this node."""
        assert self.process is not None, "launch() first"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    "extra RabbitMQ node exited:\n"
                    + (self.base / "server.out").read_text()[-3000:]
                )
            try:
                resp = requests.get(
                    f"{self.api}/overview", auth=("guest", "guest"), timeout=2
                )
                if resp.ok and resp.json().get("node") == self.node:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError("extra RabbitMQ node did not start in time")

    def stop(self) -> None:
        if self.process is None:
            return
        subprocess.run(
            [CTL, "-n", self.node, "shutdown"],
            env=self._env(),
            cwd=self.base,
            capture_output=True,
            timeout=60,
            check=False,
        )
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None
        self._log.close()

    def add_vhost(self, name: str | None = None) -> str:
        return BrokerAdmin(self.mgmt_url).add_vhost(name)

    def ctl(self, *args: str, timeout: float = 120.0) -> str:
        """Run ``rabbitmqctl -n <this node> args...``; raise with its output if it fails."""
        done = subprocess.run(
            [CTL, "-n", self.node, *args],
            env=self._env(),
            cwd=self.base,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"rabbitmqctl {' '.join(args)}: {done.stdout}{done.stderr}"
            )
        return done.stdout

    def kill(self) -> None:
        """SIGKILL the node's Erlang VM (a crash: no clean shutdown, nothing flushed)."""
        if self.process is None:
            return
        # rabbitmq-server is a shell script whose child is the VM (beam.smp).
        pid = self.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children")
        vm = [int(p) for p in children.read_text().split()] if children.exists() else []
        for target in [*vm, pid]:
            try:
                os.kill(target, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait(timeout=30)
        self.process = None
        self._log.close()


class LocalCluster:
    """``size`` :class:`LocalBroker` nodes on loopback ports joined into one cluster."""

    def __init__(self, base: Path, size: int = 3) -> None:
        cookie = uuid.uuid4().hex.upper()
        self.nodes = [
            LocalBroker(base / f"node{i}", cookie=cookie) for i in range(size)
        ]

    def start(self, timeout: float = 180.0) -> None:
        for node in self.nodes:
            node.launch()
        for node in self.nodes:
            node.wait_ready(timeout)
        first = self.nodes[0]
        for node in self.nodes[1:]:
            node.ctl("stop_app")
            node.ctl("join_cluster", first.node)
            node.ctl("start_app")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.running()) == len(self.nodes):
                return
            time.sleep(0.5)
        raise RuntimeError(f"cluster not formed: running {self.running()}")

    def alive(self) -> list[LocalBroker]:
        return [node for node in self.nodes if node.process is not None]

    def by_name(self, name: str) -> LocalBroker:
        return next(node for node in self.nodes if node.node == name)

    def admin(self) -> BrokerAdmin:
        """The management API of a node still running."""
        return BrokerAdmin(self.alive()[0].mgmt_url)

    def running(self) -> list[str]:
        try:
            return [n["name"] for n in self.admin().get("nodes") if n.get("running")]
        except Exception:  # noqa: BLE001 - not answering yet
            return []

    def add_vhost(self, name: str | None = None) -> str:
        return self.admin().add_vhost(name)

    def amqp_uri(self, vhost: str) -> str:
        """Every node's URI, ``;``-separated: kombu fails over to the next one."""
        return ";".join(node.amqp_uri(vhost) for node in self.nodes)

    def stop(self) -> None:
        for node in reversed(self.alive()):
            node.stop()
