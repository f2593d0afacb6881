"""`make run` says what a node cannot do when RabbitMQ's management plugin is off."""

from __future__ import annotations

import yaml

from services.federation.identity import init_identity
from shared.localstore import free_port
from shared.node import federation_notice
from tests.conftest import MGMT
from tests.federation.helpers import config_dict


def _node_config(tmp_path, management_url: str) -> str:
    me = init_identity("mrc-66023", tmp_path / "keys")
    path = tmp_path / "node.yaml"
    path.write_text(
        yaml.safe_dump(config_dict(me, [], [], management_url=management_url))
    )
    return str(path)


def test_a_node_without_the_management_api_says_federation_is_off_and_how_to_enable_it(
    tmp_path,
):
    url = f"http://guest:guest@127.0.0.1:{free_port()}/api"
    notice = federation_notice({"NODE_CONFIG": _node_config(tmp_path, url)})
    assert notice is not None
    assert "Fédération indisponible" in notice
    assert "Federation unavailable" in notice
    assert (
        "rabbitmq-plugins enable rabbitmq_management rabbitmq_federation "
        "rabbitmq_federation_management" in notice
    )


def test_a_node_whose_management_api_answers_prints_no_federation_notice(tmp_path):
    url = f"http://guest:guest@{MGMT.split('://', 1)[1]}"
    assert federation_notice({"NODE_CONFIG": _node_config(tmp_path, url)}) is None
