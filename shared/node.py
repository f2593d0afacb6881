"""One node on one machine: the local store, the five services, the gateway.

``maillage node run`` (and so ``make run``):

1. checks that RabbitMQ answers, and stops with instructions if it does not;
2. starts the local store (SecantusDB, data under ``var/store``) unless
   ``MONGODB_URI`` names another one;
3. starts each service as its own ``nameko run`` process (metrics on
   ``9101``...``9105``) and the gateway under gunicorn on 127.0.0.1:8000;
4. restarts a process that dies (with a back-off), and stops everything on
   Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from shared.localstore import LocalStore

log = logging.getLogger("maillage.node")

ROOT = Path(__file__).resolve().parent.parent
SERVICES = ("boards", "participation", "offerings", "indicators", "federation")
METRICS_BASE_PORT = 9101
DEFAULT_STORE_PORT = 27117

RABBIT_HELP = """\
RabbitMQ ne répond pas sur {host}:{port}. / RabbitMQ does not answer on {host}:{port}.

Pour en démarrer un / To start one:
  - Debian/Ubuntu:  sudo apt-get install rabbitmq-server && sudo systemctl start rabbitmq-server
                    (or, without systemd: sudo rabbitmq-server -detached)
  - Docker:         docker compose up -d rabbitmq
Then run `make run` again. Set AMQP_URI if your broker is elsewhere.
"""


MANAGEMENT_HELP = """\
Fédération indisponible : l'API de gestion de RabbitMQ ne répond pas sur {url}.
Le nœud fonctionne seul ; il ne peut ni partager avec des pairs ni en recevoir.
Federation unavailable: RabbitMQ's management API does not answer on {url}.
The node runs on its own; it can neither share with peers nor receive from them.

Pour l'activer / To enable it:
  sudo rabbitmq-plugins enable rabbitmq_management rabbitmq_federation rabbitmq_federation_management
then set NODE_CONFIG (services/federation/README.md) and run `make run` again.
"""


def management_url(env: dict[str, str] | os._Environ[str]) -> str:
    """The management API federation would use: the node config's, else the
    broker's host on the plugin's default port 15672."""
    path = env.get("NODE_CONFIG")
    if path:
        try:
            from services.federation.schemas import load_config

            url = load_config(path).management_url
            if url:
                return url
        except Exception:  # noqa: BLE001 - the federation service reports it at start
            pass
    host = urlparse(env.get("AMQP_URI", "")).hostname or "127.0.0.1"
    return f"http://{host}:15672/api"


def federation_notice(env: dict[str, str] | os._Environ[str]) -> str | None:
    """What the node cannot do because the management plugin is off, or None."""
    import requests

    url = management_url(env)
    parsed = urlparse(url)
    shown = f"{parsed.hostname}:{parsed.port or 80}"
    try:
        requests.get(
            url.rstrip("/") + "/overview",
            auth=(parsed.username or "guest", parsed.password or "guest"),
            timeout=3,
        )
    except requests.RequestException:
        return MANAGEMENT_HELP.format(url=shown)
    return None


def local_secret(path: Path) -> str:
    """This node's token-signing secret: made once, kept readable by its owner only."""
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def service_class_name(module_name: str) -> str:
    """The nameko service class defined in ``module_name`` (not one it imports)."""
    module = importlib.import_module(module_name)
    for attr, value in vars(module).items():
        if (
            isinstance(value, type)
            and value.__module__ == module_name
            and isinstance(getattr(value, "name", None), str)
        ):
            return attr
    raise NodeError(f"no nameko service class in {module_name}")


def declare_node_queues(env: dict[str, str] | os._Environ[str]) -> list[str]:
    """Declare the event queues of every service of the node before any starts
    (see :func:`shared.consumer.declare_consumer_queues`), and the unroutable
    queue with its policy (:func:`shared.broker.declare_unroutable`); a broker
    that refuses is logged, and each service declares its own queues again when
    it starts."""
    from shared.broker import declare_unroutable
    from shared.config import queue_type
    from shared.consumer import declare_consumer_queues

    amqp_uri = env.get("AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/")
    classes = []
    for name in SERVICES:
        module = f"services.{name}.service"
        classes.append(
            getattr(importlib.import_module(module), service_class_name(module))
        )
    exchange = env.get("EVENTS_EXCHANGE") or "maillage.events"
    kind = queue_type(env)  # a wrong QUEUE_TYPE stops the node here
    try:
        declare_unroutable(amqp_uri, management_url(env), exchange, kind)
        return declare_consumer_queues(amqp_uri, classes, exchange, kind)
    except Exception as exc:  # noqa: BLE001 - the services declare them at start too
        log.warning("event queues not declared ahead of the services: %s", exc)
        return []


def gateway_command(python: str = sys.executable) -> list[str]:
    """The gateway under gunicorn with the project's settings (gthread workers,
    shared rate-limit buckets, Prometheus multiprocess), as the node runs it."""
    conf = str(ROOT / "gateway" / "gunicorn_conf.py")
    return [python, "-m", "gunicorn", "-c", conf, "gateway.wsgi:app"]


class NodeError(Exception):
    """A condition that stops the node with a message for a person."""


def broker_reachable(amqp_uri: str, timeout: float = 3.0) -> tuple[bool, str, int]:
    parsed = urlparse(amqp_uri)
    host = parsed.hostname or "127.0.0.1"
    port = parsed.port or 5672
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True, host, port
    except OSError:
        return False, host, port


@dataclass
class Child:
    name: str
    args: list[str]
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    next_start: float = 0.0
    log_path: Path = field(default_factory=Path)

    def start(self) -> None:
        logfile = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child
        self.process = subprocess.Popen(
            self.args, env=self.env, cwd=ROOT, stdout=logfile, stderr=subprocess.STDOUT
        )
        logfile.close()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.alive():
            assert self.process is not None
            self.process.send_signal(sig)


class Node:
    def __init__(
        self,
        data_dir: Path,
        env: dict[str, str] | None = None,
        gateway_bind: str = "127.0.0.1:8000",
    ) -> None:
        self.data_dir = data_dir
        self.env = dict(os.environ if env is None else env)
        self.gateway_bind = gateway_bind
        self.store: LocalStore | None = None
        self.children: list[Child] = []
        self._stopping = False

    def prepare(self) -> None:
        amqp_uri = self.env.setdefault("AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/")
        ok, host, port = broker_reachable(amqp_uri)
        if not ok:
            raise NodeError(RABBIT_HELP.format(host=host, port=port))
        notice = federation_notice(self.env)
        if notice:
            print(notice, file=sys.stderr, flush=True)
        declare_node_queues(self.env)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "logs").mkdir(exist_ok=True)
        if not self.env.get("MONGODB_URI"):
            port = int(self.env.get("MAILLAGE_STORE_PORT", DEFAULT_STORE_PORT))
            self.store = LocalStore(self.data_dir / "store", port=port)
            self.store.start()
            self.env["MONGODB_URI"] = self.store.uri
        self.load_geography()
        if not self.env.get("MAILLAGE_SECRET_KEY"):
            self.env["MAILLAGE_SECRET_KEY"] = local_secret(self.data_dir / "secret_key")
        prom = self.data_dir / "prometheus"
        shutil.rmtree(prom, ignore_errors=True)
        prom.mkdir()
        self.env["PROMETHEUS_MULTIPROC_DIR"] = str(prom)
        # the offerings search index file (SQLite FTS5), kept across restarts
        self.env.setdefault("OFFERINGS_INDEX_DIR", str(self.data_dir / "search"))

    def load_geography(self) -> None:
        """Quebec's org-unit tree for the indicators service (idempotent, about a second)."""
        folder = Path(
            self.env.get("QUEBEC_GEO_DIR")
            or ROOT.parent / "shared" / "data" / "quebec_geo"
        )
        if not folder.is_dir():
            log.warning(
                "no Quebec geography at %s: run `maillage indicators load-geo --folder ...`",
                folder,
            )
            return
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "shared.cli",
                "indicators",
                "load-geo",
                "--folder",
                str(folder),
                "--store-uri",
                self.env["MONGODB_URI"],
                "--db-prefix",
                self.env.get("DB_PREFIX", "maillage_"),
            ],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode != 0:
            log.warning("geography not loaded: %s", result.stderr.strip()[-500:])

    def plan(self) -> list[Child]:
        python = sys.executable
        children = []
        for index, name in enumerate(SERVICES):
            module = f"services.{name}.service"
            if importlib.util.find_spec(module) is None:
                log.warning("service %s has no service module yet; not started", name)
                continue
            base = int(self.env.get("MAILLAGE_METRICS_BASE_PORT", METRICS_BASE_PORT))
            env = dict(self.env, METRICS_PORT=str(base + index))
            env.pop("PROMETHEUS_MULTIPROC_DIR", None)
            children.append(
                Child(
                    name,
                    # the same entry as docker compose: `maillage node service <name>`
                    [python, "-m", "shared.cli", "node", "service", name],
                    env,
                    log_path=self.data_dir / "logs" / f"{name}.log",
                )
            )
        gateway_env = dict(self.env, MAILLAGE_GATEWAY_BIND=self.gateway_bind)
        children.append(
            Child(
                "gateway",
                gateway_command(python),
                gateway_env,
                log_path=self.data_dir / "logs" / "gateway.log",
            )
        )
        return children

    def start(self) -> None:
        self.prepare()
        self.children = self.plan()
        for child in self.children:
            child.start()
            log.info(
                "started %s (pid %s)",
                child.name,
                child.process.pid if child.process else "?",
            )

    def supervise(self) -> None:
        while not self._stopping:
            now = time.monotonic()
            for child in self.children:
                if child.alive() or self._stopping:
                    continue
                if child.next_start == 0.0:
                    code = child.process.returncode if child.process else None
                    delay = min(30.0, 0.5 * 2 ** min(child.restarts, 6))
                    log.warning(
                        "%s exited (code %s); restart in %.1fs", child.name, code, delay
                    )
                    child.next_start = now + delay
                elif now >= child.next_start:
                    child.restarts += 1
                    child.next_start = 0.0
                    child.start()
            time.sleep(0.5)

    def stop(self) -> None:
        self._stopping = True
        for child in self.children:
            child.stop()
        deadline = time.monotonic() + 15
        for child in self.children:
            if child.process is None:
                continue
            try:
                child.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.stop(signal.SIGKILL)
        if self.store is not None:
            self.store.stop()


def run(data_dir: Path, gateway_bind: str) -> int:
    node = Node(data_dir, gateway_bind=gateway_bind)

    def _terminate(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)
    try:
        node.start()
        print(
            f"Maillage: nœud démarré / node started — http://{gateway_bind} "
            f"(journaux / logs: {data_dir / 'logs'}). Ctrl-C pour arrêter / to stop.",
            flush=True,
        )
        node.supervise()
    except NodeError as exc:
        print(str(exc), file=sys.stderr)
        node.stop()
        return 1
    except KeyboardInterrupt:
        pass
    finally:
        node.stop()
    return 0
