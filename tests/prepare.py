"""What `make test` needs beyond the Python packages, prepared before pytest runs.

The suite needs, on top of the virtualenv:

- ``rabbitmq-server`` installed (the suite starts its own private node from it,
  with the management and federation plugins, on free ports: the machine's
  broker and how it is configured do not matter);
- Debian's Chromium at ``/usr/bin/chromium`` for the browser tests;
- axe-core from npm (``package-lock.json``) for the accessibility checks.

What is missing is installed when this process can (root on Debian, with
``apt-get``; ``npm ci`` for axe-core); otherwise it stops before any test runs
with one message, in French and English, naming the command to run::

    python -m tests.prepare          # exit 0: ready; exit 1: a message on stderr
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RABBIT_SERVER = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")
CHROMIUM = Path(os.environ.get("MAILLAGE_CHROMIUM", "/usr/bin/chromium"))
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"


class NotReady(Exception):
    """Something the suite needs is missing and cannot be installed from here."""


def _can_apt() -> bool:
    return os.geteuid() == 0 and shutil.which("apt-get") is not None


def _apt_install(packages: list[str]) -> None:
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    print(f"make test: apt-get install {' '.join(packages)}", flush=True)
    subprocess.run(["apt-get", "update", "-qq"], env=env, check=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", *packages], env=env, check=True)


def missing_debian_packages() -> list[str]:
    """Debian packages the suite needs that are not installed (rabbitmq-server is
    a prerequisite the README names, never installed from here)."""
    missing = []
    if not CHROMIUM.exists():
        missing.append("chromium")
    if shutil.which("npm") is None and not AXE.exists():
        missing.append("npm")
    return missing


def prepare() -> None:
    if not RABBIT_SERVER.exists():
        raise NotReady(
            "rabbitmq-server n'est pas installé : les tests démarrent leur propre "
            "nœud RabbitMQ à partir de lui. / rabbitmq-server is not installed: "
            "the tests start their own RabbitMQ node from it.\n"
            "  sudo apt-get install rabbitmq-server"
        )
    missing = missing_debian_packages()
    if missing:
        if not _can_apt():
            raise NotReady(
                f"Il manque {', '.join(missing)} pour les tests. / The tests need "
                f"{', '.join(missing)}.\n  sudo apt-get install -y {' '.join(missing)}"
            )
        _apt_install(missing)
    if not AXE.exists():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--silent"], cwd=ROOT, check=True
        )


def main() -> int:
    try:
        prepare()
    except NotReady as exc:
        print(f"make test: {exc}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as exc:
        print(
            f"make test: « {' '.join(map(str, exc.cmd))} » a échoué / failed "
            f"(code {exc.returncode})",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
