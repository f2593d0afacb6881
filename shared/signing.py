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

**Batches.** :func:`sign_batch` signs many addressed envelopes with one
signature: each envelope's canonical bytes are a leaf of a Merkle tree (SHA-256,
``0x00`` before a leaf, ``0x01`` before two children, an odd node promoted), and
the signature covers the root, the leaf count and the address (origin,
recipient, agreement, ``signature_version``), which every envelope of the batch
also carries in its own leaf. :func:`unpack_batch` gives each envelope its
``batch_proof`` (root, count, index, hash path, signature, key id), so one event
verifies alone, as stored or replayed, with :func:`verify_proof`::

    {"event_id":"01JD...", ..., "recipient":"region-06", ...,
     "batch_proof":{"root":"9f2c...","count":200,"index":17,
                    "path":[["r","1a0b..."],["l","77e3..."]],
                    "signature":"...","key_id":"mrc-66023:3f2a..."}}

Altering any envelope changes its leaf, so it no longer reaches the signed root.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from shared.envelope import Envelope

UNSIGNED_FIELDS = ("signature", "key_id", "batch_proof")
SIGNATURE_VERSION = 2  # 1: the envelope alone; 2: addressed (see sign_for)
ADDRESS_FIELDS = ("recipient", "agreement_id", "signature_version")
BATCH_FIELDS = ("origin_node", *ADDRESS_FIELDS)  # the address a batch is signed for
BATCH_TYPE = "federation.batch"  # routing key and event_type of a batch message


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
    return {
        k: v for k, v in data.items() if k not in ADDRESS_FIELDS and k != "batch_proof"
    }


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


# --- batches ---------------------------------------------------------------------


def leaf_hash(data: Mapping[str, Any]) -> bytes:
    return hashlib.sha256(b"\x00" + canonical_bytes(data)).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def merkle_levels(leaves: list[bytes]) -> list[list[bytes]]:
    """Every level of the tree, leaves first, the root alone last."""
    if not leaves:
        raise ValueError("a batch holds at least one envelope")
    levels = [list(leaves)]
    while len(levels[-1]) > 1:
        below = levels[-1]
        above = [_node(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)]
        if len(below) % 2:
            above.append(below[-1])  # the odd node is promoted, not duplicated
        levels.append(above)
    return levels


def merkle_path(levels: list[list[bytes]], index: int) -> list[list[str]]:
    """The siblings from leaf ``index`` up: ``["l"|"r", hex]`` (the sibling's side)."""
    path = []
    for level in levels[:-1]:
        sibling = index ^ 1
        if sibling < len(level):
            side = "l" if sibling < index else "r"
            path.append([side, level[sibling].hex()])
        index //= 2
    return path


def root_from_path(leaf: bytes, path: Any) -> bytes | None:
    """The root ``path`` leads to from ``leaf``; ``None`` for a malformed path."""
    if not isinstance(path, list) or len(path) > 64:
        return None
    here = leaf
    for step in path:
        if not (isinstance(step, list) and len(step) == 2):
            return None
        side, text = step
        try:
            other = bytes.fromhex(text) if isinstance(text, str) else b""
        except ValueError:
            return None
        if len(other) != 32 or side not in ("l", "r"):
            return None
        here = _node(other, here) if side == "l" else _node(here, other)
    return here


def batch_header(root: str, count: int, address: Mapping[str, Any]) -> bytes:
    """The bytes a batch signature covers."""
    body = {k: address.get(k) for k in BATCH_FIELDS}
    body.update(batch_root=root, batch_count=count)
    return canonical_bytes(body)


def sign_batch(
    items: Sequence[Mapping[str, Any]], private_key: Ed25519PrivateKey, key_id: str
) -> dict[str, Any]:
    """One message for addressed envelopes that share one address (see
    :func:`sign_for`, whose fields each item already holds), one signature."""
    address = {k: items[0].get(k) for k in BATCH_FIELDS}
    if any({k: it.get(k) for k in BATCH_FIELDS} != address for it in items):
        raise ValueError("every envelope of a batch has the same address")
    levels = merkle_levels([leaf_hash(it) for it in items])
    root = levels[-1][0].hex()
    signature = private_key.sign(batch_header(root, len(items), address))
    return {
        "event_id": f"batch-{root[:32]}",
        "event_type": BATCH_TYPE,
        **address,
        "batch_root": root,
        "batch_count": len(items),
        "signature": base64.b64encode(signature).decode("ascii"),
        "key_id": key_id,
        "envelopes": [dict(it) for it in items],
    }


def is_batch(data: Any) -> bool:
    return isinstance(data, Mapping) and isinstance(data.get("envelopes"), list)


def unpack_batch(message: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each envelope of a batch message with its ``batch_proof``, unverified.

    The proof is made from the envelopes as received: an altered envelope gets
    a path that does not reach the signed root, and :func:`verify_proof` fails.
    Raises ``ValueError`` for a message that is not a batch of JSON objects.
    """
    items = message.get("envelopes")
    if not isinstance(items, list) or not items:
        raise ValueError("envelopes: a non-empty list expected")
    if not all(isinstance(it, dict) for it in items):
        raise ValueError("envelopes: JSON objects expected")
    levels = merkle_levels([leaf_hash(it) for it in items])
    proof = {
        "root": message.get("batch_root"),
        "count": message.get("batch_count"),
        "signature": message.get("signature"),
        "key_id": message.get("key_id"),
    }
    return [
        dict(it, batch_proof=dict(proof, index=i, path=merkle_path(levels, i)))
        for i, it in enumerate(items)
    ]


def verify_proof(
    data: Mapping[str, Any],
    public_key: Ed25519PublicKey,
    verified: set[tuple[bytes, bytes]] | None = None,
) -> bool:
    """True only if ``data``'s ``batch_proof`` leads from its bytes to a root
    this key signed for ``data``'s own address. ``verified`` (header, signature)
    pairs already checked spare the Ed25519 verification for the rest of a batch.
    """
    proof = data.get("batch_proof")
    if not isinstance(proof, Mapping):
        return False
    root, count, signature = (
        proof.get("root"),
        proof.get("count"),
        proof.get("signature"),
    )
    if not (isinstance(root, str) and isinstance(signature, str)):
        return False
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        return False
    reached = root_from_path(leaf_hash(data), proof.get("path"))
    if reached is None or reached.hex() != root:
        return False
    header = batch_header(root, count, data)
    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        return False
    key = (header + public_key_bytes(public_key), raw)
    if verified is not None and key in verified:
        return True
    try:
        public_key.verify(raw, header)
    except (ValueError, InvalidSignature):
        return False
    if verified is not None:
        verified.add(key)
    return True
