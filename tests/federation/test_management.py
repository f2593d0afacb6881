from __future__ import annotations

import json
import time

import pytest
import requests
import yaml

from services.federation.management import Management, apply, status
from services.federation.topology import INBOX, incoming_exchange
from shared.cli import main
from tests.conftest import AMQP_HOST, MGMT, MGMT_AUTH
from tests.federation.helpers import agreement, config, config_dict, identity

pytestmark = pytest.mark.integration


def _get(path: str):
    return requests.get(f"{MGMT}/{path}", auth=MGMT_AUTH, timeout=10).json()


def test_apply_sets_upstream_policy_and_inbox_then_removes_what_is_no_longer_agreed(
    tmp_path, vhost
):
    region, mrc = identity(tmp_path, "region-06"), identity(tmp_path, "mrc-66023")
    upstream_uri = f"amqp://guest:guest@{AMQP_HOST}/{vhost}"
    data = config_dict(
        region,
        [(mrc, upstream_uri)],
        [agreement("mrc-66023", "in")],
        role="coordinator",
        vhost=vhost,
    )
    apply(config(data))
    apply(config(data))  # idempotent
    (upstream,) = _get(f"parameters/federation-upstream/{vhost}")
    assert upstream["name"] == "mrc-66023"
    assert upstream["value"]["ack-mode"] == "on-confirm"
    assert upstream["value"]["exchange"] == "maillage.federation.to.region-06"
    (policy,) = _get(f"policies/{vhost}")
    assert policy["definition"] == {"federation-upstream": "mrc-66023"}
    assert policy["pattern"] == r"^maillage\.federation\.from\.mrc\-66023$"
    queue = _get(f"queues/{vhost}/{INBOX}")
    assert queue["durable"] is True
    bindings = _get(f"queues/{vhost}/{INBOX}/bindings")
    assert incoming_exchange("mrc-66023") in {b["source"] for b in bindings}
    (row,) = status(config(data), Management(f"http://guest:guest@{MGMT[7:]}"))
    assert row["peer"] == "mrc-66023" and row["direction"] == "in"

    data["agreements"] = []
    apply(config(data))
    assert _get(f"parameters/federation-upstream/{vhost}") == []
    assert _get(f"policies/{vhost}") == []


def test_cli_apply_then_status_shows_the_link_running(tmp_path, vhost, capsys):
    region, mrc = identity(tmp_path, "region-06"), identity(tmp_path, "mrc-66023")
    data = config_dict(
        region,
        [(mrc, f"amqp://guest:guest@{AMQP_HOST}/{vhost}")],
        [agreement("mrc-66023", "in")],
        role="coordinator",
        vhost=vhost,
    )
    path = tmp_path / "node.yaml"
    path.write_text(yaml.safe_dump(data))
    # the sending side's exchange, as its own apply would declare it
    requests.put(
        f"{MGMT}/exchanges/{vhost}/maillage.federation.to.region-06",
        json={"type": "topic", "durable": True},
        auth=MGMT_AUTH,
        timeout=10,
    ).raise_for_status()
    assert main(["federation", "apply", "--config", str(path)]) == 0
    assert "1 amonts / upstreams, 1 politiques / policies" in capsys.readouterr().out
    deadline = time.monotonic() + 30
    while True:  # a new link reports "starting" before "running"
        code = main(["federation", "status", "--config", str(path), "--json"])
        out = capsys.readouterr().out
        rows = json.loads(out) if code == 0 else []
        if rows and rows[0]["state"] == "running":
            break
        assert time.monotonic() < deadline, out
        time.sleep(0.3)
    (row,) = rows
    assert (row["peer"], row["direction"], row["state"]) == (
        "mrc-66023",
        "in",
        "running",
    )
