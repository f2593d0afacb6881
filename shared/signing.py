"""Ed25519 signatures over an envelope's canonical JSON form.

A federated event is signed by the node that lets it leave and verified by the
node that receives it, before anything else reads it. The signed bytes are the
envelope as it travels on the wire, *without* ``signature`` and ``key_id``,
serialised with sorted keys and no spaces, so both sides compute the same bytes
from the same JSON whatever the key order of the message::

    {"event_id":"01JD...","event_type":"indicators.values_approved",
     "occurred_at":"2026-11-23T14:02:11.123456+00:00","origin_node":"mrc-66023",
     "payload":{"cells":[...]},"schema_version":1,...}

Verification works on the received dict, not on a re-serialised ``Envelope``, so
a difference in date formatting or upcasting can never make a good signature
fail or a bad one pass. Only federation signs for now.

**Addressed signatures (``signature_version`` 2).** A federated event is signed
*for* one recipient under one agreement: :func:`sign_for` adds ``recipient``,
``agreement_id`` and ``signature_version`` to the signed fields, so a node that
received an event cannot pass it on to a third node (the recipient would not be
that node) nor have it counted under another agreement, without breaking the
signature::

    {"event_id":"01JD...", ..., "recipient":"region-06",
     "agreement_id":"indicateurs-vers-region","signature_version":2,
     "signature":"...","key_id":"mrc-66023:3f2a..."}

Version 1 (no such fields) is refused by receivers: no stored event needs to
verify again (the replay journal keeps local events unsigned and signs them anew).

Example::

    signed = sign_envelope(envelope, private_key, key_id="mrc-66023:3f2a...")
    verify_mapping(signed.to_dict(), public_key)  # True
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from shared.envelope import Envelope

UNSIGNED_FIELDS = ("signature", "key_id")
SIGNATURE_VERSION = 2  # 1: the envelope alone; 2: addressed (see sign_for)
ADDRESS_FIELDS = ("recipient", "agreement_id", "signature_version")


def canonical_bytes(data: Mapping[str, Any]) -> bytes:
    """The bytes that are signed: every field except the signature's own."""
    body = {k: v for k, v in data.items() if k not in UNSIGNED_FIELDS}
    return json.dumps(
        body, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


def public_key_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def public_key_b64(key: Ed25519PublicKey) -> str:
    """The form peers paste in their config: 44 characters of base64."""
    return base64.b64encode(public_key_bytes(key)).decode("ascii")


def public_key_from_b64(text: str) -> Ed25519PublicKey:
    """Raises ``ValueError`` for anything that is not a 32-byte Ed25519 key."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64") from exc
    if len(raw) != 32:
        raise ValueError("an Ed25519 public key has 32 bytes")
    return Ed25519PublicKey.from_public_bytes(raw)


def fingerprint(key: Ed25519PublicKey) -> str:
    """16 hex digits of SHA-256 of the raw key: short enough to read aloud."""
    return hashlib.sha256(public_key_bytes(key)).hexdigest()[:16]


def key_id_for(node_id: str, key: Ed25519PublicKey) -> str:
    return f"{node_id}:{fingerprint(key)}"


def sign_mapping(
    data: Mapping[str, Any], private_key: Ed25519PrivateKey, key_id: str
) -> dict[str, Any]:
    signature = private_key.sign(canonical_bytes(data))
    signed = dict(data)
    signed["signature"] = base64.b64encode(signature).decode("ascii")
    signed["key_id"] = key_id
    return signed


def sign_for(
    data: Mapping[str, Any],
    private_key: Ed25519PrivateKey,
    key_id: str,
    *,
    recipient: str,
    agreement_id: str,
) -> dict[str, Any]:
    """Sign ``data`` for ``recipient`` under ``agreement_id`` (version 2)."""
    addressed = dict(data)
    addressed.update(
        recipient=recipient,
        agreement_id=agreement_id,
        signature_version=SIGNATURE_VERSION,
    )
    return sign_mapping(addressed, private_key, key_id)


def without_address(data: Mapping[str, Any]) -> dict[str, Any]:
    """The envelope fields of an addressed message (for ``EnvelopeSchema``)."""
    return {k: v for k, v in data.items() if k not in ADDRESS_FIELDS}


def sign_envelope(
    envelope: Envelope, private_key: Ed25519PrivateKey, key_id: str
) -> Envelope:
    signed = sign_mapping(envelope.to_dict(), private_key, key_id)
    return envelope.with_signature(signed["signature"], key_id)


def verify_mapping(data: Mapping[str, Any], public_key: Ed25519PublicKey) -> bool:
    """True only for a well-formed signature made by this key over these bytes."""
    signature = data.get("signature")
    if not isinstance(signature, str):
        return False
    try:
        raw = base64.b64decode(signature, validate=True)
        public_key.verify(raw, canonical_bytes(data))
    except (binascii.Error, ValueError, InvalidSignature):
        return False
    return True
