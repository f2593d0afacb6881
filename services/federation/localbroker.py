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
"""

from __future__ import annotations

import os
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
    def __init__(self, base: Path) -> None:
        self.base = base
        base.mkdir(parents=True, exist_ok=True)
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
