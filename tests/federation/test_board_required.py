"""The board decides what leaves, always: an MRC's node names its board
(``node.board``) or does not start; a coordinator has no board."""

from __future__ import annotations

import pytest
import yaml
from nameko.containers import ServiceContainer

from services.federation.schemas import ConfigError
from services.federation.service import FederationService
from tests.federation.helpers import agreement, config, config_dict, identity


def _mrc(tmp_path):
    mrc, region = identity(tmp_path, "mrc-66023"), identity(tmp_path, "region-06")
    return config_dict(mrc, [(region, None)], [agreement("region-06", "out")])


def test_an_mrc_node_without_a_board_refuses_to_start_naming_node_board(
    tmp_path, amqp_uri, store_uri, db_prefix
):
    data = _mrc(tmp_path)
    del data["node"]["board"]
    path = tmp_path / "node.yaml"
    path.write_text(yaml.safe_dump(data))
    container = ServiceContainer(
        FederationService,
        {
            "AMQP_URI": amqp_uri,
            "MONGODB_URI": store_uri,
            "DB_PREFIX": db_prefix,
            "NODE_ID": "mrc-66023",
            "NODE_CONFIG": str(path),
        },
    )
    try:
        with pytest.raises(ConfigError) as info:
            container.start()
    finally:
        container.kill()
    (error,) = info.value.errors
    assert "champ « node.board »" in error and "obligatoire" in error
    assert 'field "node.board"' in error and "required" in error


@pytest.mark.parametrize("board", ["", "   ", None])
def test_a_blank_board_is_no_board(tmp_path, board):
    data = _mrc(tmp_path)
    data["node"]["board"] = board
    with pytest.raises(ConfigError) as info:
        config(data)
    assert any("node.board" in e for e in info.value.errors)


def test_a_coordinator_has_no_board_and_an_mrc_names_its_own(tmp_path):
    region, mrc = identity(tmp_path, "region-06"), identity(tmp_path, "mrc-66023")
    coordinator = config(
        config_dict(
            region,
            [(mrc, None)],
            [agreement("mrc-66023", "in")],
            role="coordinator",
        )
    )
    assert coordinator.board is None
    assert config(_mrc(tmp_path / "mrc")).board == "mrc-66023"
