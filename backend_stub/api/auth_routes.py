"""POST /api/v1/auth/token: username + password → JWT."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from pydantic import Field

import api_paths as paths
from backend_stub.api.fields import Name, RequestModel
from backend_stub.api.state import StateDep
from backend_stub.auth import authenticate, issue_token

router = APIRouter()


class LoginRequest(RequestModel):
    username: Name
    # Hashing is the expensive part of a login (argon2id): bound what one request can ask for.
    password: str = Field(max_length=1024)


@router.post(paths.AUTH_TOKEN)
def login(body: LoginRequest, state: StateDep) -> dict[str, object]:
    principal = authenticate(state.sessions, body.username, body.password)
    if principal is None:
        raise HTTPException(
            401, "wrong username or password", headers={"WWW-Authenticate": "Bearer"}
        )
    ttl = state.config.jwt_ttl_seconds
    return {
        "access_token": issue_token(state.config.jwt_secret, principal, ttl),
        "token_type": "bearer",
        "expires_in": ttl,
    }
