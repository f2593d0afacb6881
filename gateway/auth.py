"""Accounts' secrets: argon2id password hashes, signed expiring tokens, revocation.

A token is a JWT signed with HS256 by the node's secret (``MAILLAGE_SECRET_KEY``,
at least 32 characters). Its claims are what the permission check needs, so a
request costs no account lookup:

    {"sub": "01J...", "role": "board_member", "mrc": "66023",
     "jti": "2b6f...", "iat": 1795000000, "exp": 1795003600}

Revocation: signing out puts the token's ``jti`` on a deny-list in the gateway's
own database (``<DB_PREFIX>gateway.revoked``, kept until the token would have
expired anyway); revoking an account writes ``account:<id>`` with a cut-off so
every token issued before it is refused. A request reads neither: each gateway
process keeps the list in memory (:class:`gateway.cache.RevocationCache`),
reloaded when the store's revocation counter moves (polled at most every
250 ms), and refuses tokens with 503 when the store has not answered for 5 s.

Browsers carry the same token in an HttpOnly cookie (:data:`SESSION_COOKIE`, set by
the sign-in page). A state-changing request authenticated by that cookie must also
carry :func:`csrf_token` of the session (form field ``csrf`` or header
``X-CSRF-Token``): an HMAC of the token's ``jti``, so it dies with the token and a
page of another site cannot know it.

Without a secret the gateway does not start, except with ``MAILLAGE_ENV=dev``
where a fixed development secret is used (and said in the logs).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import time
import uuid
from collections.abc import Mapping
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from shared.errors import ConfigError, Unauthenticated

log = logging.getLogger(__name__)

ALGORITHM = "HS256"
DEV_SECRET = "maillage-dev-secret-not-for-production-0123456789"
DEFAULT_TTL = 3600
SESSION_COOKIE = "maillage_session"
CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"
_HASHER = PasswordHasher()  # argon2id with the library's current parameters
# A hash to verify against when the account does not exist, so that a wrong
# user name costs the same time as a wrong password.
_DUMMY_HASH = _HASHER.hash("no-such-account")


def secret_key(config: Mapping[str, Any], env: Mapping[str, str] | None = None) -> str:
    """The signing secret, or a :class:`ConfigError` that stops start-up."""
    env = os.environ if env is None else env
    secret = str(config.get("SECRET_KEY") or env.get("MAILLAGE_SECRET_KEY") or "")
    mode = str(config.get("ENV") or env.get("MAILLAGE_ENV") or "")
    if not secret:
        if mode == "dev":
            log.warning("MAILLAGE_ENV=dev: using the development signing secret")
            return DEV_SECRET
        raise ConfigError(
            "Secret de signature manquant : définissez MAILLAGE_SECRET_KEY (au moins "
            "32 caractères, p. ex. `python -c 'import secrets; "
            "print(secrets.token_urlsafe(48))'`), ou MAILLAGE_ENV=dev en "
            "développement.",
            "Missing signing secret: set MAILLAGE_SECRET_KEY (at least 32 "
            "characters, e.g. `python -c 'import secrets; "
            "print(secrets.token_urlsafe(48))'`), or MAILLAGE_ENV=dev for "
            "development.",
        )
    if len(secret) < 32:
        raise ConfigError(
            "MAILLAGE_SECRET_KEY est trop court : au moins 32 caractères.",
            "MAILLAGE_SECRET_KEY is too short: at least 32 characters.",
        )
    return secret


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    try:
        return _HASHER.verify(stored_hash or _DUMMY_HASH, password) and bool(
            stored_hash
        )
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _HASHER.check_needs_rehash(stored_hash)


class Tokens:
    """Issue and read the node's tokens."""

    def __init__(self, secret: str, ttl: int = DEFAULT_TTL) -> None:
        self.secret = secret
        self.ttl = ttl

    def issue(
        self, account: Mapping[str, Any], now: float | None = None
    ) -> dict[str, Any]:
        issued = int(time.time() if now is None else now)
        claims = {
            "sub": account["_id"],
            "role": account["role"],
            "mrc": account["mrc"],
            "name": account.get("display_name", ""),
            "member_id": account.get("member_id"),
            "jti": uuid.uuid4().hex,
            "iat": issued,
            "exp": issued + self.ttl,
        }
        token = jwt.encode(claims, self.secret, algorithm=ALGORITHM)
        return {"token": token, "token_type": "Bearer", "expires_at": claims["exp"]}

    def read(self, token: str) -> dict[str, Any]:
        """The claims of a valid token, else 401 saying why (expired, bad signature)."""
        try:
            claims = jwt.decode(
                token,
                self.secret,
                algorithms=[ALGORITHM],
                options={"require": ["sub", "role", "mrc", "jti", "iat", "exp"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated(
                "Jeton expiré : reconnectez-vous.", "Token expired: sign in again."
            ) from exc
        except jwt.InvalidTokenError as exc:
            raise Unauthenticated("Jeton invalide.", "Invalid token.") from exc
        return dict(claims)


def bearer(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, if any."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthenticated(
            "En-tête Authorization attendu : « Bearer <jeton> ».",
            "Authorization header expected: 'Bearer <token>'.",
        )
    return value.strip()


def csrf_token(secret: str, claims: Mapping[str, Any]) -> str:
    """The CSRF token bound to one session (its token's ``jti``)."""
    message = f"csrf:{claims['jti']}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def csrf_valid(secret: str, claims: Mapping[str, Any], given: str | None) -> bool:
    """Whether ``given`` is this session's CSRF token (constant-time comparison)."""
    if not given:
        return False
    return hmac.compare_digest(csrf_token(secret, claims), given.strip())
