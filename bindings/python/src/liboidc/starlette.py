"""ASGI middleware (Starlette or any ASGI app) and a FastAPI dependency, over ``authenticate``.

The library decides: status, WWW-Authenticate challenges and DPoP-Nonce come from the
``Decision``; nothing here adds policy. Needs no Starlette for the middleware (plain ASGI);
``require`` needs FastAPI.

::

    app.add_middleware(OidcMiddleware, validator=v)          # every HTTP request must be allowed
    request.state.oidc  /  scope["state"]["oidc"]             # the Decision (claims, token_type)

    # FastAPI: a validator per scope set (required scopes are the validator's policy)
    admin = liboidc.Validator(issuer=..., audiences=..., required_scopes=["admin"])
    @app.get("/admin")
    async def admin_page(claims: liboidc.Claims = Depends(require(admin))): ...
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Iterable, List, Optional, Tuple

from .validator import Claims, Decision, Validator

__all__ = ["OidcMiddleware", "require", "request_url", "deny_response_parts"]

Scope = dict
ASGIApp = Callable[[Scope, Callable[..., Awaitable[Any]], Callable[..., Awaitable[Any]]], Awaitable[None]]


def request_url(scope: Scope, trust_forwarded: bool = False) -> str:
    """The absolute URL the client addressed, from an ASGI scope (scheme, Host header or server,
    path, query). ``trust_forwarded``: take scheme and host from X-Forwarded-Proto/-Host (only
    behind a proxy that sets them)."""
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", ())}
    scheme = scope.get("scheme", "http")
    host = headers.get("host")
    if trust_forwarded:
        scheme = headers.get("x-forwarded-proto", scheme).split(",")[0].strip()
        host = headers.get("x-forwarded-host", host or "").split(",")[0].strip() or host
    if not host:
        server = scope.get("server") or ("localhost", None)
        host = server[0] if server[1] in (None, 80, 443) else f"{server[0]}:{server[1]}"
    path = scope.get("raw_path") or scope.get("path", "/").encode("utf-8")
    if isinstance(path, bytes):
        path = path.decode("latin-1")
    q = scope.get("query_string", b"")
    return f"{scheme}://{host}{path}" + (f"?{q.decode('latin-1')}" if q else "")


def _auth_headers(scope: Scope) -> List[Tuple[bytes, bytes]]:
    return [(k, v) for k, v in scope.get("headers", ()) if k.lower() in (b"authorization", b"dpop")]


def deny_response_parts(decision: Decision) -> Tuple[int, List[Tuple[bytes, bytes]], bytes]:
    """(status, headers, body) of the answer to a denied request, exactly as the library decided."""
    body = (f'{{"error":"{decision.error}"}}' if decision.error else '{"error":"unauthorized"}').encode()
    hdrs = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in decision.headers]
    hdrs += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    return decision.status, hdrs, body


class OidcMiddleware:
    """ASGI middleware: authenticates every HTTP request (``oidc_authenticate_async``, on the
    library's workers) and answers denials itself; allowed requests carry the Decision in
    ``scope["state"]["oidc"]`` (``request.state.oidc`` in Starlette). ``exclude``: path prefixes
    passed through unauthenticated (health checks). Websocket and lifespan scopes pass through."""

    def __init__(self, app: ASGIApp, validator: Validator, *, exclude: Iterable[str] = (),
                 trust_forwarded: bool = False) -> None:
        if not isinstance(validator, Validator):
            raise TypeError("validator must be a liboidc.Validator")
        self.app, self.validator = app, validator
        self.exclude = tuple(exclude)
        self.trust_forwarded = trust_forwarded

    async def __call__(self, scope: Scope, receive: Callable[..., Awaitable[Any]],
                       send: Callable[..., Awaitable[Any]]) -> None:
        if scope.get("type") != "http" or (self.exclude and scope.get("path", "").startswith(self.exclude)):
            await self.app(scope, receive, send)
            return
        decision = await self.validator.authenticate_async(
            scope["method"], request_url(scope, self.trust_forwarded), _auth_headers(scope))
        if not decision.allowed:
            status, headers, body = deny_response_parts(decision)
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        scope.setdefault("state", {})["oidc"] = decision
        if decision.dpop_nonce is None:
            await self.app(scope, receive, send)
            return
        nonce = decision.dpop_nonce.encode("latin-1")

        async def send_with_nonce(message: dict) -> None:
            if message["type"] == "http.response.start":
                message = dict(message, headers=list(message.get("headers", [])) + [(b"dpop-nonce", nonce)])
            await send(message)

        await self.app(scope, receive, send_with_nonce)


def require(validator: Validator, *, trust_forwarded: bool = False) -> Callable[..., Awaitable[Claims]]:
    """A FastAPI dependency: the request's ``Claims`` when the validator allows it, else an
    HTTPException with the library's status and WWW-Authenticate/DPoP-Nonce headers. Required
    scopes are the validator's (``required_scopes=``): build one validator per scope set."""
    from fastapi import HTTPException, Request

    if not isinstance(validator, Validator):
        raise TypeError("validator must be a liboidc.Validator")

    async def dependency(request: Request) -> Claims:
        decision = await validator.authenticate_async(
            request.method, request_url(request.scope, trust_forwarded), _auth_headers(request.scope))
        if not decision.allowed or decision.claims is None:
            headers = {}
            # several challenges: one header line each is the norm; HTTPException takes a dict,
            # so they are joined with ", " (RFC 9110 §11.6.1 allows a list in one field)
            if decision.challenges:
                headers["WWW-Authenticate"] = ", ".join(decision.challenges)
            if decision.dpop_nonce is not None:
                headers["DPoP-Nonce"] = decision.dpop_nonce
            raise HTTPException(status_code=decision.status, detail=decision.error or "unauthorized",
                                headers=headers)
        request.state.oidc = decision
        return decision.claims

    # the module's postponed annotations are strings; FastAPI needs the real Request class here
    dependency.__annotations__ = {"request": Request, "return": Claims}
    return dependency
