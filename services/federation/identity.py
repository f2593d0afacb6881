"""A node's signing identity: one Ed25519 key pair on disk.

The private key is a PKCS#8 PEM file created with mode 0600 (readable by its
owner only) and never overwritten by accident; the public key is exported as
base64 so that peers can paste it into their node config::

    peers:
      - id: mrc-66023
        public_key: "q2Jm0c3vYw0l8c3...="   # maillage federation show-key

``maillage node init`` calls :func:`init_identity`; the federation CLI offers
``init-key`` and ``show-key`` on top of the same functions.
"""

from __future__ import annotations

import logging
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from shared.signing import key_id_for, public_key_b64

log = logging.getLogger(__name__)

PRIVATE_MODE = 0o600


class KeyFileError(Exception):
    """A key file is missing, unsafe or not an Ed25519 key (message is bilingual)."""


@dataclass(frozen=True)
class NodeIdentity:
    node_id: str
    private_key: Ed25519PrivateKey
    key_path: Path

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    @property
    def public_key_b64(self) -> str:
        return public_key_b64(self.public_key)

    @property
    def key_id(self) -> str:
        return key_id_for(self.node_id, self.public_key)


def public_key_path(key_path: Path) -> Path:
    return key_path.with_suffix(".pub")


def init_identity(
    node_id: str, key_path: Path, *, overwrite: bool = False
) -> NodeIdentity:
    """Generate the node's key pair; refuse to replace an existing key unless asked.

    Writes ``key_path`` (0600) and ``key_path.with_suffix(".pub")`` (0644, base64).
    """
    key_path = Path(key_path)
    key_path.parent.mkdir(parents=True, exist_ok=True)
    if key_path.exists() and not overwrite:
        raise KeyFileError(
            f"la clé existe déjà : {key_path} / key already exists: {key_path}"
        )
    private_key = Ed25519PrivateKey.generate()
    pem = private_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    tmp = key_path.with_name(key_path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE)
    try:
        os.write(fd, pem)
        os.fchmod(fd, PRIVATE_MODE)  # whatever the umask
    finally:
        os.close(fd)
    os.replace(tmp, key_path)
    identity = NodeIdentity(node_id, private_key, key_path)
    public_key_path(key_path).write_text(identity.public_key_b64 + "\n")
    log.info("new signing key %s at %s", identity.key_id, key_path)
    return identity


def load_identity(node_id: str, key_path: Path) -> NodeIdentity:
    """Read the private key, refusing a file that others can read."""
    key_path = Path(key_path)
    try:
        mode = stat.S_IMODE(key_path.stat().st_mode)
    except FileNotFoundError:
        raise KeyFileError(
            f"clé introuvable : {key_path} / key not found: {key_path}"
        ) from None
    if mode & 0o077:
        raise KeyFileError(
            f"la clé {key_path} est lisible par d'autres (mode {mode:o}), "
            f"faites chmod 600 / key {key_path} is readable by others "
            f"(mode {mode:o}), run chmod 600"
        )
    try:
        key = load_pem_private_key(key_path.read_bytes(), password=None)
    except ValueError as exc:
        raise KeyFileError(
            f"clé illisible : {key_path} / unreadable key: {key_path}"
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(
            f"{key_path} n'est pas une clé Ed25519 / is not an Ed25519 key"
        )
    return NodeIdentity(node_id, key, key_path)
