"""Accounts, sign-in, sign-out, revocation and the audit log; makes (for
``gateway.app.create_app``, which wires them) the authenticator, the authoriser
with the write rate limit, and the runtime the handlers share. Importing this
module installs nothing.

Sign in:

    POST /auth/token  {"username": "marie", "password": "..."}
    -> 200 {"token": "eyJ...", "token_type": "Bearer", "expires_at": 1795003600,
            "account": {"id": "...", "username": "marie", "role": "board_secretary",
                        "mrc": "2466", "display_name": "Marie", "active": true}}

then ``Authorization: Bearer eyJ...`` on every request. A browser signs in on the
page ``/connexion`` (:mod:`gateway.web.session`) and carries the same token in a
cookie; its writes then need the session's CSRF token
(:func:`gateway.auth.csrf_token`). The first node administrator is made on the
command line (``python -m gateway.cli create-account``); the administrator then
creates the other accounts.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import os
import time
from collections.abc import Callable
from typing import Any

import jwt
from marshmallow import RAISE, Schema, fields, validate

from gateway import audit
from gateway.api import Api, Context
from gateway.auth import (
    CSRF_FIELD,
    CSRF_HEADER,
    DEFAULT_TTL,
    SESSION_COOKIE,
    Tokens,
    bearer,
    csrf_valid,
    hash_password,
    needs_rehash,
    secret_key,
    verify_password,
)
from gateway.cache import RevocationCache, StorePoll
from gateway.permissions import ROLES, check
from gateway.ratelimit import RateLimiter, from_env
from gateway.routes.common import PageQuery, cached, page_schema, user
from gateway.store import GatewayStore
from shared.errors import (
    Forbidden,
    Invalid,
    NotFound,
    TooManyRequests,
    Unauthenticated,
)

MRC_CODE = r"^24\d\d$"  # Quebec census division (MRC) code, e.g. "2466"
USERNAME = r"^[a-z0-9][a-z0-9._-]{1,62}$"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})

api = Api()


class Strict(Schema):
    class Meta:
        unknown = RAISE


class SignIn(Strict):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=256))


class AccountOut(Schema):
    id = fields.String(attribute="_id", required=True)
    username = fields.String(required=True)
    role = fields.String(required=True)
    mrc = fields.String(required=True)
    display_name = fields.String()
    active = fields.Boolean()
    member_id = fields.String(allow_none=True)


class TokenOut(Schema):
    token = fields.String(required=True)
    token_type = fields.String(required=True)
    expires_at = fields.Integer(required=True)
    account = fields.Nested(AccountOut, required=True)


class NewAccount(Strict):
    username = fields.String(required=True, validate=validate.Regexp(USERNAME))
    password = fields.String(
        required=True, validate=validate.Length(min=12, max=256), load_only=True
    )
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    mrc = fields.String(required=True, validate=validate.Regexp(MRC_CODE))
    display_name = fields.String(load_default="", validate=validate.Length(max=200))
    member_id = fields.String(validate=validate.Length(min=1, max=120))


class AccountChange(Strict):
    role = fields.String(validate=validate.OneOf(ROLES))
    mrc = fields.String(validate=validate.Regexp(MRC_CODE))
    display_name = fields.String(validate=validate.Length(max=200))
    active = fields.Boolean()
    member_id = fields.String(validate=validate.Length(min=1, max=120))
    password = fields.String(validate=validate.Length(min=12, max=256), load_only=True)


class AccountsQuery(PageQuery):
    role = fields.String(validate=validate.OneOf(ROLES))
    mrc = fields.String(validate=validate.Regexp(MRC_CODE))


class AuditQuery(PageQuery):
    actor = fields.String(validate=validate.Length(max=64))
    action = fields.String(validate=validate.Length(max=100))


class Revoked(Schema):
    revoked = fields.Boolean(required=True)


class AuditEntry(Schema):
    id = fields.String(required=True)
    at = fields.String(required=True)
    actor = fields.Dict(allow_none=True)
    ip = fields.String(allow_none=True)
    method = fields.String(required=True)
    path = fields.String(required=True)
    action = fields.String(required=True)
    correlation_id = fields.String()
    outcome = fields.String(required=True)
    status = fields.Integer()
    params = fields.Raw()
    request = fields.Raw(allow_none=True)
    before = fields.Raw(allow_none=True)
    after = fields.Raw(allow_none=True)


AccountPage = page_schema(AccountOut, "AccountPage")
AuditPage = page_schema(AuditEntry, "AuditPage")


@dataclasses.dataclass
class Runtime:
    """Per-application state the handlers reach through the request context."""

    tokens: Tokens
    store: GatewayStore
    limits: dict[str, RateLimiter]
    config: dict[str, Any]
    poll: StorePoll
    revocations: RevocationCache


def runtime(ctx: Context) -> Runtime:
    return ctx.runtime  # type: ignore[attr-defined, no-any-return]


def public_account(doc: dict[str, Any]) -> dict[str, Any]:
    return AccountOut().dump(doc)


# --- sign-in and the signed-in account ----------------------------------------------


@api.route(
    "/auth/token",
    ("POST",),
    action="auth.sign_in",
    body=SignIn,
    response=TokenOut,
    public=True,
    tags=("accounts",),
    summary="Sign in with a password; returns a signed token",
)
def sign_in(ctx: Context) -> dict[str, Any]:
    rt = runtime(ctx)
    account = password_sign_in(
        rt, ctx.body["username"], ctx.body["password"], ctx.request.remote_addr
    )
    issued = rt.tokens.issue(account)
    ctx.user = account_claims(account)
    return dict(issued, account=public_account(account))


def password_sign_in(
    rt: Runtime, username: str, password: str, remote_addr: str | None
) -> dict[str, Any]:
    """The account of a right user name and password, else 401; the API and the
    sign-in page share it, so they share the rate limits too.

    The limits slow a guesser without letting anyone lock the owner out (no
    per-account bucket that refuses everybody once a stranger has emptied it):

    - per client address (``signin:ip:<addr>``, every attempt): one address
      guesses at most ``MAILLAGE_SIGNIN_BURST`` times, then
      ``MAILLAGE_SIGNIN_PER_MINUTE``;
    - per (account, client address) (``signin:pair:<user>|<addr>``, failures):
      the same budget for one address on one account;
    - per account (``signin:user:<user>``, failures from every address,
      ``MAILLAGE_SIGNIN_ACCOUNT_BURST`` then ``..._PER_MINUTE``): once spent,
      the account is under attack and an address that has failed on it lately
      (its pair bucket not full) gets 429 without its password being tried.
      An address that has not failed on it is still heard, so the owner,
      signing in from their own address, gets in with the right password.

    ``remote_addr`` is the client's address, from a trusted proxy's
    ``X-Forwarded-For`` when the node is behind one (``TRUSTED_PROXIES``,
    :func:`gateway.http.forwarded`). Residual risk: an attacker with many
    addresses still gets one guess per fresh address while the account is
    under attack; the owner who mistypes during an attack waits until their
    address's failure is forgotten (10 s per failure with the defaults).
    """
    username = username.strip().lower()
    per_client, per_account = rt.limits["signin"], rt.limits["signin_account"]
    per_client.take(f"signin:ip:{remote_addr}")
    pair, key = f"signin:pair:{username}|{remote_addr}", f"signin:user:{username}"
    pair_tokens = per_client.level(pair)
    if pair_tokens < 1.0:
        raise TooManyRequests(per_client.wait(pair_tokens))
    if pair_tokens < per_client.burst:  # this address failed on it lately
        account_tokens = per_account.level(key)
        if account_tokens < 1.0:
            raise TooManyRequests(
                min(
                    per_account.wait(account_tokens),
                    per_client.wait(pair_tokens, per_client.burst),
                )
            )
    account = rt.store.account_by_username(username)
    stored = account.get("password_hash") if account else None
    if not verify_password(stored, password) or not account:
        per_client.charge(pair)
        per_account.charge(key)
        raise Unauthenticated(
            "Nom d'utilisateur ou mot de passe incorrect.",
            "Wrong user name or password.",
        )
    if not account.get("active", True):
        raise Unauthenticated("Compte désactivé.", "Account disabled.")
    if stored and needs_rehash(stored):
        rt.store.update_account(
            account["_id"], {"password_hash": hash_password(password)}
        )
    return account


def account_claims(account: dict[str, Any]) -> dict[str, Any]:
    """What the audit records of the account that just signed in."""
    return {
        "sub": account["_id"],
        "role": account["role"],
        "mrc": account["mrc"],
        "name": account.get("display_name", ""),
        "member_id": account.get("member_id"),
    }


@api.route(
    "/auth/sign-out",
    ("POST",),
    action="accounts.sign_out",
    response=Revoked,
    tags=("accounts",),
    summary="Revoke the token of this request",
)
def sign_out(ctx: Context) -> dict[str, Any]:
    claims = user(ctx)
    runtime(ctx).store.revoke_token(claims["jti"], claims["exp"])
    return {"revoked": True}


@api.route(
    "/accounts/me",
    action="accounts.me",
    response=AccountOut,
    tags=("accounts",),
    summary="The signed-in account",
)
def me(ctx: Context) -> Any:
    return cached(ctx, public_account(runtime(ctx).store.account(user(ctx)["sub"])))


# --- administration ----------------------------------------------------------------


@api.route(
    "/accounts",
    ("POST",),
    action="accounts.create",
    body=NewAccount,
    response=AccountOut,
    status=201,
    tags=("accounts",),
    summary="Create an account (node administrator)",
)
def create_account(ctx: Context) -> dict[str, Any]:
    data = dict(ctx.body)
    data["password_hash"] = hash_password(data.pop("password"))
    return public_account(runtime(ctx).store.add_account(data))


@api.route(
    "/accounts",
    action="accounts.list",
    query=AccountsQuery,
    response=AccountPage,
    tags=("accounts",),
    summary="List accounts (node administrator)",
)
def list_accounts(ctx: Context) -> Any:
    q = ctx.query
    rows, total = runtime(ctx).store.accounts(
        {"role": q.get("role"), "mrc": q.get("mrc")}, q["offset"], q["limit"]
    )
    page = {
        "items": [public_account(r) for r in rows],
        "total": total,
        "offset": q["offset"],
        "limit": q["limit"],
    }
    return cached(ctx, page)


@api.route(
    "/accounts/<account_id>",
    action="accounts.read",
    response=AccountOut,
    tags=("accounts",),
    summary="One account (node administrator)",
)
def read_account(ctx: Context, account_id: str) -> Any:
    return cached(ctx, public_account(runtime(ctx).store.account(account_id)))


@api.route(
    "/accounts/<account_id>",
    ("PATCH",),
    action="accounts.update",
    body=AccountChange,
    response=AccountOut,
    tags=("accounts",),
    summary="Change an account's role, MRC, name, password or activity",
)
def update_account(ctx: Context, account_id: str) -> dict[str, Any]:
    rt = runtime(ctx)
    before = public_account(rt.store.account(account_id))
    audit.record_before(ctx, before)
    changes = dict(ctx.body)
    if "password" in changes:
        changes["password_hash"] = hash_password(changes.pop("password"))
    if not changes:
        return before
    after = rt.store.update_account(account_id, changes)
    if {"role", "mrc", "active", "password_hash", "member_id"} & set(changes):
        # Tokens carry the role and MRC: old ones must not outlive the change.
        rt.store.revoke_account(account_id, int(time.time()))
    return public_account(after)


@api.route(
    "/accounts/<account_id>/revoke",
    ("POST",),
    action="accounts.revoke",
    response=Revoked,
    tags=("accounts",),
    summary="Revoke every token issued so far to an account",
)
def revoke_account(ctx: Context, account_id: str) -> dict[str, Any]:
    rt = runtime(ctx)
    rt.store.account(account_id)  # 404 for an unknown account
    rt.store.revoke_account(account_id, int(time.time()))
    return {"revoked": True}


@api.route(
    "/audit",
    action="audit.read",
    query=AuditQuery,
    response=AuditPage,
    tags=("accounts",),
    summary="The audit log of writes, newest first (node administrator)",
)
def read_audit(ctx: Context) -> Any:
    q = ctx.query
    filters: dict[str, Any] = {}
    if q.get("actor"):
        filters["actor.sub"] = q["actor"]
    if q.get("action"):
        filters["action"] = q["action"]
    rows, total = runtime(ctx).store.audit_entries(filters, q["offset"], q["limit"])
    items = []
    for row in rows:
        row["id"] = str(row.pop("_id"))
        for key in ("at", "finished_at"):
            if key in row:
                row[key] = row[key].isoformat()
        items.append(row)
    return cached(
        ctx,
        {"items": items, "total": total, "offset": q["offset"], "limit": q["limit"]},
    )


# --- passwords: one-time reset links and one's own change ---------------------------

RESET_TTL = 24 * 3600
RESET_PURPOSE = "password_reset"


class ResetOut(Schema):
    token = fields.String(required=True)
    expires_at = fields.Integer(required=True)


class PasswordReset(Strict):
    token = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    password = fields.String(
        required=True, validate=validate.Length(min=12, max=256), load_only=True
    )


class PasswordChange(Strict):
    current_password = fields.String(
        required=True, validate=validate.Length(min=1, max=256), load_only=True
    )
    password = fields.String(
        required=True, validate=validate.Length(min=12, max=256), load_only=True
    )


def _reset_key(secret: str) -> str:
    """A key of its own (derived from the node's secret), so a reset token is
    never read as a session token, nor a session token as a reset token."""
    return hmac.new(secret.encode(), b"password-reset", hashlib.sha256).hexdigest()


def _fingerprint(account: dict[str, Any]) -> str:
    """Changes whenever the password does: a used link no longer matches."""
    stored = str(account.get("password_hash") or "")
    return hashlib.sha256(stored.encode()).hexdigest()[:32]


def reset_token(rt: Runtime, account: dict[str, Any]) -> dict[str, Any]:
    """A one-time password-reset token for ``account``, valid ``RESET_TTL``.

    It holds no password and none is ever shown: the person opens the link
    (``/mot-de-passe/nouveau?jeton=...``) and chooses one. It is one-time by
    construction: it carries a fingerprint of the current password hash, which
    the new password replaces (argon2 salts every hash)::

        {"token": "eyJ...", "expires_at": 1795003600}
    """
    issued = int(time.time())
    claims = {
        "sub": account["_id"],
        "purpose": RESET_PURPOSE,
        "fp": _fingerprint(account),
        "iat": issued,
        "exp": issued + RESET_TTL,
    }
    token = jwt.encode(claims, _reset_key(rt.tokens.secret), algorithm="HS256")
    return {"token": token, "expires_at": claims["exp"]}


def _bad_link() -> Unauthenticated:
    return Unauthenticated(
        "Lien de réinitialisation invalide, expiré ou déjà utilisé : demandez-en "
        "un nouveau à l'administration du nœud.",
        "Password reset link invalid, expired or already used: ask the node "
        "administrator for a new one.",
        details={"field": "token"},
    )


def redeem_reset(rt: Runtime, token: str, password: str) -> dict[str, Any]:
    """Set the password of a valid link's account; the link is then spent and
    every session of the account is revoked."""
    try:
        claims = jwt.decode(
            token,
            _reset_key(rt.tokens.secret),
            algorithms=["HS256"],
            options={"require": ["sub", "purpose", "fp", "exp"]},
        )
    except jwt.InvalidTokenError as exc:
        raise _bad_link() from exc
    if claims.get("purpose") != RESET_PURPOSE:
        raise _bad_link()
    try:
        account = rt.store.account(str(claims["sub"]))
    except NotFound as exc:
        raise _bad_link() from exc
    if not hmac.compare_digest(_fingerprint(account), str(claims["fp"])):
        raise _bad_link()
    return _set_password(rt, account, password)


def _set_password(rt: Runtime, account: dict[str, Any], password: str) -> Any:
    after = rt.store.update_account(
        account["_id"], {"password_hash": hash_password(password)}
    )
    rt.store.revoke_account(account["_id"], int(time.time()))
    return after


def change_own_password(
    rt: Runtime, claims: dict[str, Any], current: str, password: str
) -> dict[str, Any]:
    """One's own password, given the current one (a stolen session alone cannot
    change it); the other sessions of the account are revoked."""
    account = rt.store.account(str(claims["sub"]))
    if not verify_password(account.get("password_hash"), current):
        raise Invalid(
            {
                "current_password": [
                    "Mot de passe actuel incorrect. / Wrong current password."
                ]
            }
        )
    return _set_password(rt, account, password)


@api.route(
    "/accounts/<account_id>/password-reset",
    ("POST",),
    action="accounts.update",
    response=ResetOut,
    status=201,
    tags=("accounts",),
    summary="A one-time link for the account to choose a new password",
)
def issue_reset(ctx: Context, account_id: str) -> dict[str, Any]:
    rt = runtime(ctx)
    return reset_token(rt, rt.store.account(account_id))


@api.route(
    "/auth/password-reset",
    ("POST",),
    action="auth.password_reset",
    body=PasswordReset,
    response=AccountOut,
    public=True,
    tags=("accounts",),
    summary="Choose a new password with a one-time reset link's token",
)
def password_reset(ctx: Context) -> dict[str, Any]:
    rt = runtime(ctx)
    rt.limits["signin"].take(f"reset:ip:{ctx.request.remote_addr}")
    return public_account(redeem_reset(rt, ctx.body["token"], ctx.body["password"]))


@api.route(
    "/accounts/me/password",
    ("POST",),
    action="accounts.me",  # one's own account: every role
    body=PasswordChange,
    response=AccountOut,
    tags=("accounts",),
    summary="Change one's own password (the current one is asked)",
)
def change_password(ctx: Context) -> dict[str, Any]:
    rt = runtime(ctx)
    return public_account(
        change_own_password(
            rt, user(ctx), ctx.body["current_password"], ctx.body["password"]
        )
    )


# --- what create_app wires ---------------------------------------------------------


def _limit_env(config: dict[str, Any]) -> dict[str, str]:
    env = dict(os.environ)
    env.update({k: str(v) for k, v in config.items() if k.startswith("MAILLAGE_")})
    return env


def build_runtime(config: dict[str, Any], store_client: Any) -> Runtime:
    """The signing keys (start-up stops without a secret), the gateway's store
    and the rate limits, from the node's settings."""
    ttl = int(config.get("TOKEN_TTL") or os.environ.get("MAILLAGE_TOKEN_TTL") or 0)
    store = GatewayStore(store_client, f"{config['DB_PREFIX']}gateway")
    env = _limit_env(config)
    # a revocation is refused everywhere within the poll interval; past
    # ``trust`` without an answer from the store, tokens are refused (503)
    poll = StorePoll(store, float(env.get("MAILLAGE_REVOCATION_POLL_MS", 250)) / 1000)
    trust = float(env.get("MAILLAGE_REVOCATION_TRUST_MS", 5000)) / 1000
    return Runtime(
        tokens=Tokens(secret_key(config), ttl or DEFAULT_TTL),
        store=store,
        limits=from_env(env),
        config=config,
        poll=poll,
        revocations=RevocationCache(poll, trust),
    )


def authenticator(rt: Runtime) -> Callable[[Context], None]:
    """The hook that reads the bearer header or the session cookie (with its
    CSRF token on writes) into ``ctx.user``; a bad token is 401 except on a
    public route."""

    def authenticate(ctx: Context) -> None:
        ctx.runtime = rt  # type: ignore[attr-defined]
        route = ctx.route
        request = ctx.request
        try:
            token = bearer(request.headers.get("Authorization"))
            from_cookie = token is None and bool(request.cookies.get(SESSION_COOKIE))
            if from_cookie:
                token = request.cookies[SESSION_COOKIE]
            if token is None:
                return
            claims = rt.tokens.read(token)
            if rt.revocations.is_revoked(claims):
                raise Unauthenticated(
                    "Jeton révoqué : reconnectez-vous.", "Token revoked: sign in again."
                )
        except Unauthenticated:
            if route is not None and route.public:
                return  # a stale token does not close public pages
            raise
        if from_cookie and request.method not in SAFE_METHODS:
            check_csrf(request, claims)
        ctx.user = claims

    def check_csrf(request: Any, claims: dict[str, Any]) -> None:
        given = request.headers.get(CSRF_HEADER)
        if not given and request.mimetype in FORM_TYPES:
            request.get_data(cache=True)  # the body stays readable after the form
            given = request.form.get(CSRF_FIELD)
        if not csrf_valid(rt.tokens.secret, claims, given):
            raise Forbidden(
                "Jeton anti-falsification (CSRF) manquant ou invalide : rechargez "
                "la page et recommencez.",
                "Missing or invalid anti-forgery (CSRF) token: reload the page and "
                "try again.",
            )

    return authenticate


def refuse_nul(ctx: Context) -> None:
    """Document stores refuse NUL in key names; refuse it here, named, not 5xx."""
    if ctx.request.method in audit.WRITE_METHODS:
        if ctx.request.mimetype == "multipart/form-data":
            # an uploaded file's bytes may hold NUL (images, PDFs); the fields not
            form, files = ctx.request.form, ctx.request.files
            said = [*form.keys(), *form.values(), *files.keys()]
            said += [f.filename or "" for f in files.values()]
            if any("\x00" in v or "\\u0000" in v for v in said):
                raise Invalid(
                    {"_body": ["Caractère NUL interdit. / NUL character not allowed."]}
                )
            return
        data = ctx.request.get_data(cache=True)
        if b"\\u0000" in data or b"\x00" in data:
            raise Invalid(
                {"_body": ["Caractère NUL interdit. / NUL character not allowed."]}
            )


def authorizer(rt: Runtime) -> Callable[[Context, Any], None]:
    """The gateway's one permission check: the table
    (:func:`gateway.permissions.check`), then the write limit per account."""

    def authorize(ctx: Context, route: Any) -> None:
        check(route.action, ctx.user)
        if audit.WRITE_METHODS & set(route.methods) and ctx.user is not None:
            rt.limits["write"].take(f"write:{ctx.user['sub']}")

    return authorize
