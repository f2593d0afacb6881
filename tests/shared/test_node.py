"""`maillage node run` (what `make run` calls): a complete node, or a clear refusal."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from nameko.containers import ServiceContainer

from shared.errors import ConfigError
from shared.localstore import free_port
from tests.conftest import AMQP_HOST
from tests.shared.services import Counter

ROOT = Path(__file__).resolve().parents[2]


def test_node_refuses_to_start_without_rabbitmq_and_says_how_to_get_one(tmp_path):
    closed = free_port()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "shared.cli",
            "node",
            "run",
            "--data-dir",
            str(tmp_path),
        ],
        env=dict(os.environ, AMQP_URI=f"amqp://guest:guest@127.0.0.1:{closed}/"),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"127.0.0.1:{closed}" in result.stderr
    assert "apt-get install rabbitmq-server" in result.stderr
    assert "docker compose up -d rabbitmq" in result.stderr


@pytest.mark.parametrize(
    ("setting", "value", "expected"),
    [
        ("MONGODB_URI", "http://127.0.0.1:27017", "Malformed setting MONGODB_URI"),
        ("MONGODB_URI", "", "Missing setting: MONGODB_URI"),
    ],
)
def test_a_service_with_a_bad_setting_stops_at_start_naming_it(
    setting, value, expected
):
    config = {
        "AMQP_URI": "amqp://guest:guest@127.0.0.1:5672/",
        "MONGODB_URI": "mongodb://x",
    }
    config[setting] = value
    container = ServiceContainer(Counter, config)
    with pytest.raises(ConfigError) as err:
        container.start()
    assert expected in err.value.message_en
    assert setting in err.value.message_fr
    container.kill()


@pytest.mark.e2e
@pytest.mark.slow
def test_a_complete_node_starts_and_reports_every_part_healthy(tmp_path, vhost):
    port = free_port()
    env = dict(
        os.environ,
        AMQP_URI=f"amqp://guest:guest@{AMQP_HOST}/{vhost}",
        MAILLAGE_STORE_PORT=str(free_port()),
        MAILLAGE_GATEWAY_WORKERS="1",
        MAILLAGE_METRICS_BASE_PORT=str(free_port()),
    )
    env.pop("MONGODB_URI", None)
    env.pop("MAILLAGE_SECRET_KEY", None)
    node = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "shared.cli",
            "node",
            "run",
            "--data-dir",
            str(tmp_path),
            "--bind",
            f"127.0.0.1:{port}",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        report = None
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                answer = requests.get(f"http://127.0.0.1:{port}/health", timeout=15)
                report = answer.json()
                if answer.status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(1)
        assert report is not None, "the gateway never answered"
        assert report["status"] == "ok", report
        assert report["store"] == "ok" and report["broker"] == "ok"
        assert set(report["services"]) == {
            "boards",
            "participation",
            "offerings",
            "indicators",
            "federation",
        }
        metrics = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        assert 'maillage_http_requests_total{method="GET",route="/health"' in metrics
        secret = tmp_path / "secret_key"
        assert secret.stat().st_mode & 0o777 == 0o600
    finally:
        node.send_signal(signal.SIGINT)
        try:
            node.wait(timeout=60)
        except subprocess.TimeoutExpired:
            node.kill()


def test_node_init_writes_a_private_key_and_a_config_the_node_accepts(tmp_path):
    from services.federation.identity import load_identity
    from services.federation.schemas import NodeConfigSchema
    from shared.cli import main

    folder = tmp_path / "node"
    args = [
        "node",
        "init",
        "--node-id",
        "mrc-2466",
        "--territory",
        "2466",
        "--dir",
        str(folder),
    ]
    assert main(args) == 0
    key = folder / "signing_key"
    assert key.stat().st_mode & 0o777 == 0o600
    import yaml

    config = NodeConfigSchema().load(yaml.safe_load((folder / "node.yaml").read_text()))
    assert config.node_id == "mrc-2466"
    assert load_identity("mrc-2466", key).public_key_b64 == (
        (folder / "signing_key.pub").read_text().strip()
    )
    before = key.read_bytes()
    assert main(args) == 1  # an identity is never replaced by accident
    assert key.read_bytes() == before
