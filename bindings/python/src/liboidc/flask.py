"""Flask helpers over ``Validator.authenticate``: a decorator and an extension.

::

    oidc = OidcFlask(app, validator)           # or OidcFlask().init_app(app, validator)
    @app.get("/items")
    @oidc.required()                           # the app's validator
    def items(): return {"sub": g.oidc_claims.sub}

    @app.get("/admin")
    @oidc.required(admin_validator)            # a validator with required_scopes=["admin"]
    def admin(): ...

Denied requests are answered with the library's status, WWW-Authenticate lines and DPoP-Nonce.
"""

from __future__ import annotations

import functools
import json
from typing import Any, Callable, Optional, TypeVar

from .validator import Decision, Validator

__all__ = ["OidcFlask", "required"]

F = TypeVar("F", bound=Callable[..., Any])


def _deny(decision: Decision) -> Any:
    from flask import Response

    body = json.dumps({"error": decision.error or "unauthorized"})
    resp = Response(body, status=decision.status, mimetype="application/json")
    for name, value in decision.headers:
        resp.headers.add(name, value)
    return resp


def _authenticate(validator: Validator) -> Decision:
    from flask import request

    headers = [(k, v) for k, v in request.headers.items() if k.lower() in ("authorization", "dpop")]
    # request.url is the URL Flask reconstructs (host from the Host header; behind a proxy use
    # werkzeug's ProxyFix so it is the public one)
    return validator.authenticate(request.method, request.url, headers)


def required(validator: Validator) -> Callable[[F], F]:
    """Decorator: the view runs only for requests ``validator`` allows; ``flask.g.oidc`` is the
    Decision and ``flask.g.oidc_claims`` its Claims."""
    if not isinstance(validator, Validator):
        raise TypeError("validator must be a liboidc.Validator")

    def wrap(view: F) -> F:
        @functools.wraps(view)
        def inner(*args: Any, **kwargs: Any) -> Any:
            from flask import g

            decision = _authenticate(validator)
            if not decision.allowed:
                return _deny(decision)
            g.oidc, g.oidc_claims = decision, decision.claims
            resp = view(*args, **kwargs)
            if decision.dpop_nonce is not None:
                from flask import make_response

                resp = make_response(resp)
                resp.headers["DPoP-Nonce"] = decision.dpop_nonce
            return resp

        return inner  # type: ignore[return-value]

    return wrap


class OidcFlask:
    """Flask extension holding the app's default validator (``app.extensions["liboidc"]``)."""

    def __init__(self, app: Any = None, validator: Optional[Validator] = None) -> None:
        self.validator = validator
        if app is not None:
            self.init_app(app, validator)

    def init_app(self, app: Any, validator: Optional[Validator] = None) -> "OidcFlask":
        if validator is not None:
            self.validator = validator
        if self.validator is None:
            raise ValueError("OidcFlask needs a validator")
        app.extensions["liboidc"] = self
        return self

    def required(self, validator: Optional[Validator] = None) -> Callable[[F], F]:
        v = validator or self.validator
        if v is None:
            raise ValueError("no validator: pass one or init_app(app, validator)")
        return required(v)
