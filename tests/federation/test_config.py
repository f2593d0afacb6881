from __future__ import annotations

from datetime import UTC, datetime

import pytest
import yaml

from services.federation.schemas import ConfigError, load_config, parse_config
from tests.federation.helpers import agreement, config, config_dict, identity


def _errors(data, env=None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(yaml.safe_dump(data), "node.yaml", env=env or {})
    return info.value.errors


def test_valid_config_loads_peers_keys_and_agreements(tmp_path):
    me, region = identity(tmp_path, "mrc-66023"), identity(tmp_path, "region-06")
    cfg = config(config_dict(me, [(region, None)], [agreement("region-06", "out")]))
    assert cfg.node_id == "mrc-66023"
    assert cfg.peers["region-06"].key_id == region.key_id
    (out,) = cfg.agreements_for("out")
    assert out.rules["indicators.values_approved"].cell_fields == ("org_unit", "sex")
    assert out.is_valid_at(datetime(2027, 12, 31, 23, 59, tzinfo=UTC))
    assert not out.is_valid_at(datetime(2028, 1, 1, tzinfo=UTC))
    assert not out.is_valid_at(datetime(2025, 12, 31, tzinfo=UTC))


def test_bad_direction_is_named_in_french_then_english(tmp_path):
    me, region = identity(tmp_path, "mrc-66023"), identity(tmp_path, "region-06")
    data = config_dict(me, [(region, None)], [agreement("region-06", "sideways")])
    (error,) = _errors(data)
    assert error == (
        "champ « agreements[0].direction » : doit être in ou out / "
        'field "agreements[0].direction": must be in or out'
    )


def test_each_invalid_field_gets_its_own_line(tmp_path):
    me, region = identity(tmp_path, "mrc-66023"), identity(tmp_path, "region-06")
    bad = agreement("region-07", "out", threshold=-1)
    bad["event_types"][0]["type"] = "NotAType"
    bad["valid_until"] = "2025-01-01"
    del bad["event_types"][0]["fields"]
    data = config_dict(me, [(region, None)], [bad])
    data["peers"][0]["public_key"] = "too-short"
    errors = "\n".join(_errors(data))
    for path in (
        "agreements[0].suppression_threshold",
        "agreements[0].event_types[0].type",
        "agreements[0].event_types[0].fields",
        "peers[0].public_key",
    ):
        assert f"champ « {path} »" in errors
    assert "champ obligatoire / field" in errors


def test_agreement_with_a_peer_not_declared_is_refused(tmp_path):
    me, region = identity(tmp_path, "mrc-66023"), identity(tmp_path, "region-06")
    data = config_dict(me, [(region, None)], [agreement("region-07", "out")])
    assert any("agreements[0].peer" in e and "region-07" in e for e in _errors(data))


def test_period_ending_before_it_starts_is_refused(tmp_path):
    me, region = identity(tmp_path, "mrc-66023"), identity(tmp_path, "region-06")
    bad = agreement(
        "region-06", "in", valid_from="2027-01-01", valid_until="2026-01-01"
    )
    data = config_dict(me, [(region, None)], [bad])
    assert any("agreements[0].valid_until" in e for e in _errors(data))


def test_unknown_key_and_missing_env_var_are_reported(tmp_path):
    me, region = identity(tmp_path, "mrc-66023"), identity(tmp_path, "region-06")
    data = config_dict(me, [(region, None)], [])
    data["node"]["colour"] = "blue"
    assert any("node.colour" in e and "champ inconnu" in e for e in _errors(data))
    data = config_dict(me, [(region, "${REGION_URI}")], [])
    assert _errors(data) == [
        "variable d'environnement REGION_URI absente / "
        "environment variable REGION_URI not set"
    ]


def test_env_vars_are_expanded_and_relative_key_path_is_from_the_config(tmp_path):
    me, region = identity(tmp_path, "mrc-66023"), identity(tmp_path, "region-06")
    data = config_dict(me, [(region, "${REGION_URI:amqp://x/%2F}")], [])
    data["node"]["signing_key"] = "keys/mrc-66023.ed25519"
    path = tmp_path / "node.yaml"
    path.write_text(yaml.safe_dump(data))
    cfg = load_config(path, env={})
    assert cfg.peers["region-06"].upstream_uri == "amqp://x/%2F"
    assert cfg.key_path == str(me.key_path)
    cfg = load_config(path, env={"REGION_URI": "amqp://y/v"})
    assert cfg.peers["region-06"].upstream_uri == "amqp://y/v"
