"""Every error the API returns is JSON `{"error": CODE, "detail": TEXT}` with the right status;
a bad payload gets 422 with the offending field's location in the detail."""

from __future__ import annotations

from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.body_limit import MAX_BODY_SIZE_SCOPE_KEY

from backend_stub.errors import StoreError

# What Starlette's body limit (FastAPI(max_body_size=...)) says; we add the limit and the path.
_BODY_LIMIT_DETAIL = "Content Too Large"


def _code(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "error"


def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail
    limit = request.scope.get(MAX_BODY_SIZE_SCOPE_KEY)
    if exc.status_code == 413 and limit is not None and detail == _BODY_LIMIT_DETAIL:
        detail = f"request body larger than the {limit} bytes {request.url.path} accepts"
    return JSONResponse(
        {"error": _code(exc.status_code), "detail": detail},
        status_code=exc.status_code,
        headers=exc.headers,
    )


def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = []
    for err in exc.errors():
        where = ".".join(str(part) for part in err.get("loc", ()))
        problems.append(f"{where}: {err.get('msg', 'invalid')}")
    return JSONResponse(
        {"error": "invalid_request", "detail": "; ".join(problems) or "invalid request"},
        status_code=422,
    )


def _store_error(_request: Request, exc: Exception) -> JSONResponse:
    # The object store is down or misconfigured: the client may retry later.
    return JSONResponse({"error": "store_unavailable", "detail": str(exc)}, status_code=503)


def install(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StoreError, _store_error)
