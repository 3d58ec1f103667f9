"""Per-app state (no module globals) and the dependencies routes use to reach it."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session, sessionmaker

from backend_stub.auth import AuthError, Principal, decode_token
from backend_stub.config import BackendConfig
from backend_stub.queue import JobQueue
from backend_stub.store_base import ObjectStore


@dataclass(frozen=True)
class FetchCounts:
    counts: dict[str, int]  # per object served
    missing: int  # requests for objects that do not exist, all together
    untracked: int  # objects served after the counter was full


@dataclass
class FetchCounter:
    """How many times the origin served each object: the CDN tests' ground truth.

    Only objects that exist get a count of their own, and at most `capacity` of them, so
    made-up paths under one signed URL cannot grow it: they add to `missing`."""

    capacity: int = 100_000
    counts: Counter[str] = field(default_factory=Counter)
    missing: int = 0
    untracked: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def hit(self, key: str) -> None:
        with self.lock:
            if key in self.counts or len(self.counts) < self.capacity:
                self.counts[key] += 1
            else:
                self.untracked += 1

    def miss(self) -> None:
        with self.lock:
            self.missing += 1

    def snapshot(self) -> FetchCounts:
        with self.lock:
            return FetchCounts(dict(self.counts), self.missing, self.untracked)


@dataclass
class AppState:
    config: BackendConfig
    sessions: sessionmaker[Session]
    store: ObjectStore
    queue: JobQueue
    fetches: FetchCounter = field(default_factory=FetchCounter)


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.backend
    return state


_bearer = HTTPBearer(auto_error=False)


def require_user(
    request: Request,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    headers = {"WWW-Authenticate": "Bearer"}
    if creds is None or creds.scheme.lower() != "bearer":
        raise HTTPException(401, "missing Authorization: Bearer <token> header", headers=headers)
    try:
        return decode_token(get_state(request).config.jwt_secret, creds.credentials)
    except AuthError as exc:
        raise HTTPException(401, str(exc), headers=headers) from exc


# Annotated dependencies: routes write `state: StateDep`, `user: UserDep`.
StateDep = Annotated[AppState, Depends(get_state)]
UserDep = Annotated[Principal, Depends(require_user)]
