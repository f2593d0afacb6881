from __future__ import annotations

import stat

import yaml

from shared.cli import main
from tests.federation.helpers import agreement, config_dict, identity


def test_init_key_writes_a_private_key_for_the_owner_only_and_prints_the_public_key(
    tmp_path, capsys
):
    key = tmp_path / "keys" / "mrc-66023.ed25519"
    assert (
        main(["federation", "init-key", "--node-id", "mrc-66023", "--key", str(key)])
        == 0
    )
    out = capsys.readouterr().out
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    public = key.with_suffix(".pub").read_text().strip()
    assert f"public_key: {public}" in out
    assert main(["federation", "init-key", "--node-id", "x", "--key", str(key)]) == 1
    assert "la clé existe déjà" in capsys.readouterr().err


def test_show_key_and_check_read_the_node_config(tmp_path, capsys):
    me, region = identity(tmp_path, "mrc-66023"), identity(tmp_path, "region-06")
    path = tmp_path / "node.yaml"
    path.write_text(
        yaml.safe_dump(
            config_dict(me, [(region, None)], [agreement("region-06", "out")])
        )
    )
    assert main(["federation", "show-key", "--config", str(path)]) == 0
    assert me.public_key_b64 in capsys.readouterr().out
    assert main(["federation", "check", "--config", str(path)]) == 0
    assert "1 accords / agreements" in capsys.readouterr().out


def test_check_reports_each_bad_field_in_both_languages(tmp_path, capsys):
    me, region = identity(tmp_path, "mrc-66023"), identity(tmp_path, "region-06")
    bad = agreement("region-06", "both")
    path = tmp_path / "node.yaml"
    path.write_text(yaml.safe_dump(config_dict(me, [(region, None)], [bad])))
    assert main(["federation", "check", "--config", str(path)]) == 1
    err = capsys.readouterr().err
    assert "champ « agreements[0].direction » : doit être in ou out" in err
    assert 'field "agreements[0].direction": must be in or out' in err
