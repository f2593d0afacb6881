from __future__ import annotations

import stat

import pytest

from services.federation.identity import KeyFileError, init_identity, load_identity
from shared.envelope import Envelope
from shared.signing import (
    canonical_bytes,
    public_key_from_b64,
    sign_envelope,
    sign_mapping,
    verify_mapping,
)


def test_private_key_file_is_readable_by_its_owner_only(tmp_path):
    identity = init_identity("mrc-66023", tmp_path / "keys" / "mrc-66023.ed25519")
    mode = stat.S_IMODE(identity.key_path.stat().st_mode)
    assert mode == 0o600
    public = (tmp_path / "keys" / "mrc-66023.pub").read_text().strip()
    assert public == identity.public_key_b64
    assert public_key_from_b64(public) is not None


def test_existing_key_is_never_overwritten_unless_asked(tmp_path):
    path = tmp_path / "k.ed25519"
    first = init_identity("n1", path)
    with pytest.raises(KeyFileError, match="already exists"):
        init_identity("n1", path)
    assert load_identity("n1", path).public_key_b64 == first.public_key_b64
    second = init_identity("n1", path, overwrite=True)
    assert second.public_key_b64 != first.public_key_b64


def test_key_readable_by_others_is_refused(tmp_path):
    path = tmp_path / "k.ed25519"
    init_identity("n1", path)
    path.chmod(0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        load_identity("n1", path)


def test_signed_envelope_verifies_whatever_the_key_order(tmp_path):
    identity = init_identity("n1", tmp_path / "k.ed25519")
    envelope = Envelope("indicators.values_approved", {"b": 1, "a": [2, 3]}, "n1")
    signed = sign_envelope(envelope, identity.private_key, identity.key_id)
    data = signed.to_dict()
    reordered = dict(reversed(list(data.items())))
    assert verify_mapping(reordered, identity.public_key)
    assert canonical_bytes(reordered) == canonical_bytes(data)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda d: d["payload"].__setitem__("b", 2),
        lambda d: d.__setitem__("origin_node", "n2"),
        lambda d: d.__setitem__("event_type", "indicators.other"),
        lambda d: d.__setitem__("signature", "AAAA" + d["signature"][4:]),
        lambda d: d.__setitem__("signature", "not base64!"),
        lambda d: d.__setitem__("signature", None),
    ],
)
def test_any_change_to_a_signed_event_breaks_the_signature(tmp_path, tamper):
    identity = init_identity("n1", tmp_path / "k.ed25519")
    envelope = Envelope("indicators.values_approved", {"b": 1}, "n1")
    data = sign_mapping(envelope.to_dict(), identity.private_key, identity.key_id)
    tamper(data)
    assert not verify_mapping(data, identity.public_key)


def test_signature_by_another_key_does_not_verify(tmp_path):
    mine = init_identity("n1", tmp_path / "a.ed25519")
    other = init_identity("n1", tmp_path / "b.ed25519")
    data = sign_mapping(
        Envelope("a.b", {}, "n1").to_dict(), other.private_key, mine.key_id
    )
    assert not verify_mapping(data, mine.public_key)
