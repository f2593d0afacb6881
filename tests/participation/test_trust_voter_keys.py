"""Voter keys cannot be reversed by whoever holds the store (issue 13, hole 6).

The attack: with the accounts database (every account id) and a copy of the
participation database, compute ``sha256(process_id + "\\0" + account_id)`` for
every account and match it against ``participations``, ``supports`` and
``registry``: that names who took part and who supported which proposal. Keys
are now HMAC-SHA256 under a node secret (``BALLOT_KEY``) that is kept outside
the store; without it the stored keys match nothing.

The secret comes from the service config. In production a missing secret stops
start-up with a message naming the setting; locally (and in tests) the service
makes one in the node's keys directory, readable by its owner only, and reuses
it on every start, so a voter keeps one key and one ballot across restarts.
"""

# ruff: noqa: F811 - ``env`` is the fixture imported from test_service
from __future__ import annotations

import hashlib
import hmac
import stat
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from nameko.containers import ServiceContainer

from services.participation.dependencies import load_ballot_key
from services.participation.service import ParticipationService
from shared.errors import ConfigError, Conflict
from tests.participation.test_service import (  # noqa: F401 - the fixture
    T0,
    _ballot_ready,
    _process,
    env,
)

pytestmark = pytest.mark.integration


def _unkeyed(process_id: str, person: str) -> str:
    """The old voter key, recomputable from the account id alone."""
    return hashlib.sha256(f"{process_id}\x00{person.lower()}".encode()).hexdigest()


def _stored_keys(db: Any) -> set[str]:
    keys: set[str] = set()
    for name in ("participations", "supports", "registry"):
        keys |= {d["person_key"] for d in db[name].find({}, {"person_key": 1})}
    return keys


def test_no_stored_voter_key_can_be_recomputed_from_account_ids(env):
    pid, ids = _ballot_ready(env)
    env["service"].cast_ballot(pid, {"ranking": ids}, person="p3@x.org")
    people = [f"p{i}@x.org" for i in range(10)]
    guesses = {_unkeyed(pid, p) for p in people}
    stored = _stored_keys(env["db"])
    assert len(stored) >= 10
    assert stored.isdisjoint(guesses)
    secret = env["secret"]
    keyed = {
        hmac.new(secret, f"{pid}\x00{p}".encode(), hashlib.sha256).hexdigest()
        for p in people
    }
    assert stored <= keyed  # only the holder of the node secret can match them


def test_a_process_from_before_keeps_its_unkeyed_keys_so_one_ballot_still_holds(env):
    """A process created before keyed voter keys has no ``voter_key`` scheme:
    its registry, supports and participations were written with the old hash,
    and it keeps that hash until it closes (a voter who voted before the change
    cannot vote again after it)."""
    service = env["service"]
    pid, ids = _ballot_ready(env)
    db = env["db"]
    db.processes.update_one({"_id": pid}, {"$unset": {"voter_key": ""}})
    db.registry.delete_many({"process_id": pid})
    db.registry.insert_many(
        [
            {"process_id": pid, "person_key": _unkeyed(pid, f"p{i}@x.org")}
            for i in range(10)
        ]
    )
    db.participations.insert_one(
        {"process_id": pid, "person_key": _unkeyed(pid, "p3@x.org")}
    )
    with pytest.raises(Conflict):
        service.cast_ballot(pid, {"ranking": ids}, person="p3@x.org")
    service.cast_ballot(pid, {"ranking": ids}, person="p4@x.org")
    assert _unkeyed(pid, "p4@x.org") in _stored_keys(db)
    # a process created now is keyed, whatever the older ones do
    new = _process(service, support_threshold=0)
    assert service.get_process(new)["id"] == new
    assert db.processes.find_one({"_id": new})["voter_key"] == "hmac-sha256"


def test_without_ballot_key_production_does_not_start_and_says_which_setting(
    amqp_uri: str, store_uri: str, db_prefix: str
) -> None:
    config = {
        "AMQP_URI": amqp_uri,
        "MONGODB_URI": store_uri,
        "DB_PREFIX": db_prefix,
        "MAILLAGE_ENV": "production",
        "BALLOT_KEY": "",
    }
    container = ServiceContainer(ParticipationService, config)
    with pytest.raises(ConfigError) as info:
        container.start()
    container.kill()
    assert "BALLOT_KEY" in info.value.message("fr")
    assert "BALLOT_KEY" in info.value.message("en")
    assert "manquant" in info.value.message("fr")
    assert "Missing" in info.value.message("en")


def test_a_short_ballot_key_is_refused_naming_the_setting() -> None:
    with pytest.raises(ConfigError) as info:
        load_ballot_key({"BALLOT_KEY": "court", "MAILLAGE_ENV": "production"})
    assert "BALLOT_KEY" in info.value.message("fr")
    assert "32" in info.value.message("en")


def test_the_local_default_makes_one_secret_in_the_keys_dir_and_keeps_it(
    tmp_path: Path,
) -> None:
    config = {"KEYS_DIR": str(tmp_path / "keys")}
    first = load_ballot_key(config)
    path = tmp_path / "keys" / "ballot_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_ballot_key(config) == first and len(first) >= 32
    assert load_ballot_key({"KEYS_DIR": str(tmp_path / "other")}) != first
    given = "k" * 40
    assert load_ballot_key({**config, "BALLOT_KEY": given}) == given.encode()
    path.chmod(0o644)
    with pytest.raises(ConfigError) as info:
        load_ballot_key(config)
    assert "chmod 600" in info.value.message("en")


def test_the_same_node_secret_gives_the_same_key_after_a_restart(env):
    """One ballot per person holds across restarts: the key is stable."""
    pid, ids = _ballot_ready(env)
    env["service"].cast_ballot(pid, {"ranking": ids}, person="p5@x.org")
    restarted = env["make"]()
    env["clock"].now = T0 + timedelta(days=22)
    with pytest.raises(Conflict):
        restarted.cast_ballot(pid, {"ranking": ids}, person="P5@x.org ")
