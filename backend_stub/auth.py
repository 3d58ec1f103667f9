"""Passwords (argon2id via argon2-cffi) and access tokens (HS256 JWT with expiry)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend_stub.models import User

_HASHER = PasswordHasher()
_ALGORITHM = "HS256"
# A positive id that fits the databases' 64-bit INTEGER.
_USER_ID = re.compile(r"[1-9][0-9]{0,17}")


class AuthError(Exception):
    """Missing, malformed, forged or expired credentials; the message says which."""


@dataclass(frozen=True)
class Principal:
    user_id: int
    username: str


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def create_user(sessions: sessionmaker[Session], username: str, password: str) -> int:
    """Create a user, or reset the password of an existing one (idempotent seeding)."""
    if not username or not password:
        raise ValueError("username and password must be non-empty")
    with sessions.begin() as s:
        user = s.scalar(select(User).where(User.username == username))
        if user is None:
            user = User(
                username=username, password_hash=hash_password(password), created_at=time.time()
            )
            s.add(user)
            s.flush()
        else:
            user.password_hash = hash_password(password)
        return user.id


def authenticate(sessions: sessionmaker[Session], username: str, password: str) -> Principal | None:
    with sessions() as s:
        user = s.scalar(select(User).where(User.username == username))
    if user is None:
        # Hash anyway so a missing user takes as long as a wrong password.
        verify_password(_DUMMY_HASH, password)
        return None
    if not verify_password(user.password_hash, password):
        return None
    return Principal(user.id, user.username)


_DUMMY_HASH = _HASHER.hash("streamlab-dummy-password")


def issue_token(
    secret: str, principal: Principal, ttl_seconds: int, now: float | None = None
) -> str:
    iat = int(now if now is not None else time.time())
    claims = {
        "sub": str(principal.user_id),
        "name": principal.username,
        "iat": iat,
        "exp": iat + ttl_seconds,
    }
    return jwt.encode(claims, secret, algorithm=_ALGORITHM)


def decode_token(secret: str, token: str) -> Principal:
    try:
        claims = jwt.decode(
            token, secret, algorithms=[_ALGORITHM], options={"require": ["exp", "sub"]}
        )
    except jwt.ExpiredSignatureError as exc:
        raise AuthError("access token expired") from exc
    except jwt.InvalidTokenError as exc:
        raise AuthError(f"invalid access token: {exc}") from exc
    subject = claims["sub"]
    # We only issue decimal user ids; anything else (a signed token from another issuer that
    # shares the secret, or a bug) is refused here, not by int() or the database as a 500.
    if not isinstance(subject, str) or not _USER_ID.fullmatch(subject):
        raise AuthError(f"invalid access token: subject {subject!r} is not a user id")
    return Principal(int(subject), str(claims.get("name", "")))
