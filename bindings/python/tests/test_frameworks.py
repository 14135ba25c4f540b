"""FastAPI (dependency, via its TestClient), Starlette (ASGI middleware) and Flask helpers: the
status and WWW-Authenticate lines come from the library's decision."""

from __future__ import annotations

import pytest

import liboidc


@pytest.fixture(scope="module")
def validators(fixture):
    base = liboidc.Validator(**fixture.validator_kwargs(realm="api"))
    admin = liboidc.Validator(**fixture.validator_kwargs(realm="api", required_scopes=["admin"]))
    yield base, admin
    base.close()
    admin.close()


def _check_denials(client, fixture, path_admin="/admin"):
    r = client.get("/items")
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith('Bearer realm="api"')
    r = client.get("/items", headers={"Authorization": "Bearer " + fixture.token("RS256", exp_in=-3600)})
    assert r.status_code == 401 and 'error="invalid_token"' in r.headers["www-authenticate"]
    r = client.get(path_admin, headers={"Authorization": "Bearer " + fixture.token("ES256", scope="read")})
    assert r.status_code == 403 and 'error="insufficient_scope"' in r.headers["www-authenticate"]
    assert 'scope="admin"' in r.headers["www-authenticate"]
    r = client.get(path_admin, headers={"Authorization": "Bearer " + fixture.token("ES256", sub="root", scope="admin")})
    assert r.status_code == 200 and r.json()["sub"] == "root"


def test_fastapi_dependency(validators, fixture):
    from fastapi import Depends, FastAPI
    from fastapi.testclient import TestClient

    from liboidc.starlette import require

    base, admin = validators
    app = FastAPI()

    @app.get("/items")
    async def items(claims: liboidc.Claims = Depends(require(base))):
        return {"sub": claims.sub}

    @app.get("/admin")
    async def admin_page(claims: liboidc.Claims = Depends(require(admin))):
        return {"sub": claims.sub}

    with TestClient(app) as client:
        _check_denials(client, fixture)
        r = client.get("/items", headers={"Authorization": "Bearer " + fixture.token("EdDSA", sub="dana")})
        assert r.status_code == 200 and r.json() == {"sub": "dana"}


def test_starlette_middleware(validators, fixture):
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.responses import JSONResponse
    from starlette.routing import Route
    from starlette.testclient import TestClient

    from liboidc.starlette import OidcMiddleware

    base, admin = validators

    async def items(request):
        return JSONResponse({"sub": request.state.oidc.claims.sub, "type": request.state.oidc.token_type})

    async def health(request):
        return JSONResponse({"ok": True})

    inner = Starlette(routes=[Route("/items", items), Route("/admin", items), Route("/health", health)])
    # /admin is a second app with the admin validator: one policy per middleware
    app = Starlette(routes=[Route("/items", items), Route("/health", health)],
                    middleware=[Middleware(OidcMiddleware, validator=base, exclude=["/health"])])
    admin_app = OidcMiddleware(inner, admin)
    with TestClient(app) as client:
        assert client.get("/health").json() == {"ok": True}
        r = client.get("/items")
        assert r.status_code == 401 and r.headers["www-authenticate"].startswith('Bearer realm="api"')
        assert len(r.headers.get_list("www-authenticate")) == 2  # Bearer and DPoP, one line each
        r = client.get("/items", headers={"Authorization": "Bearer " + fixture.token("RS256", sub="erin")})
        assert r.status_code == 200 and r.json() == {"sub": "erin", "type": "Bearer"}
    with TestClient(admin_app) as client:
        _check_denials_admin_only(client, fixture)
    with pytest.raises(TypeError):
        OidcMiddleware(inner, "not a validator")  # type: ignore[arg-type]


def _check_denials_admin_only(client, fixture):
    r = client.get("/admin", headers={"Authorization": "Bearer " + fixture.token("ES256", scope="read")})
    assert r.status_code == 403 and 'scope="admin"' in r.headers["www-authenticate"]
    r = client.get("/admin", headers={"Authorization": "Bearer " + fixture.token("ES256", sub="root", scope="admin")})
    assert r.status_code == 200 and r.json()["sub"] == "root"


def test_flask_extension_and_decorator(validators, fixture):
    from flask import Flask, g

    from liboidc.flask import OidcFlask, required

    base, admin = validators
    app = Flask(__name__)
    oidc = OidcFlask(app, base)

    @app.get("/items")
    @oidc.required()
    def items():
        return {"sub": g.oidc_claims.sub}

    @app.get("/admin")
    @required(admin)
    def admin_page():
        return {"sub": g.oidc_claims.sub}

    assert app.extensions["liboidc"] is oidc
    with app.test_client() as client:
        r = client.get("/items")
        assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith('Bearer realm="api"')
        assert len(r.headers.getlist("WWW-Authenticate")) == 2
        r = client.get("/items", headers={"Authorization": "Bearer " + fixture.token("RS256", exp_in=-3600)})
        assert r.status_code == 401 and 'error="invalid_token"' in r.headers["WWW-Authenticate"]
        r = client.get("/admin", headers={"Authorization": "Bearer " + fixture.token("ES256", scope="read")})
        assert r.status_code == 403 and 'scope="admin"' in r.headers["WWW-Authenticate"]
        r = client.get("/admin", headers={"Authorization": "Bearer " + fixture.token("ES256", sub="root", scope="admin")})
        assert r.status_code == 200 and r.get_json() == {"sub": "root"}
    with pytest.raises(TypeError):
        required("nope")  # type: ignore[arg-type]
