#!/usr/bin/env python3
"""Keycloak for liboidc's interop tests: the realm through the admin REST API, a scripted browser
(login, device approval, logout) and key rotation. Python standard library only.

  kc.py setup                 (re)create the realm, its keys, clients and user; print the
                              test environment as `export NAME=VALUE` lines
  kc.py login AUTH_URL        log in as the test user; print the redirect to the client
  kc.py device USER_CODE      log in and approve a device authorization (prints "approved")
  kc.py logout URL            follow an end-session URL; print where it ended
  kc.py rotate ALG            add a new active key for ALG, make the old ones passive; prints
                              the new key's kid
  kc.py drop-passive ALG      remove ALG's passive keys (the end of a rotation); prints their kids
  kc.py keys                  the realm's keys: "kid alg status provider" lines

Inputs (environment): KEYCLOAK_URL (https://127.0.0.1:PORT), KEYCLOAK_CA_FILE, KEYCLOAK_ADMIN_USER
and KEYCLOAK_ADMIN_PASSWORD (default admin/admin), KEYCLOAK_REALM (default liboidc),
KEYCLOAK_JAR (the browser's cookie file; default: none kept between calls).
Every failure prints what went wrong on stderr and exits 1.
"""
import html
import html.parser
import http.cookiejar
import json
import os
import ssl
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

URL = os.environ.get("KEYCLOAK_URL", "").rstrip("/")
CA = os.environ.get("KEYCLOAK_CA_FILE")
REALM = os.environ.get("KEYCLOAK_REALM", "liboidc")
ADMIN_USER = os.environ.get("KEYCLOAK_ADMIN_USER", "admin")
ADMIN_PASSWORD = os.environ.get("KEYCLOAK_ADMIN_PASSWORD", "admin")
USER, PASSWORD = "alice", "alice-password-1"
REDIRECT = "http://127.0.0.1/cb"
POST_LOGOUT = "http://127.0.0.1/logged-out"
API_AUDIENCE = "urn:liboidc:api"
# One confidential client per signing algorithm (access and ID tokens).
ALG_CLIENTS = {"RS256": "svc-rs256", "PS256": "svc-ps256", "ES256": "svc-es256", "ES512": "svc-es512",
               "EdDSA": "svc-eddsa"}
SECRET = "s3cret-%s"  # % client id: the test secrets (a loopback test realm)
TIMEOUT = 30


class Fail(Exception):
    pass


def ctx():
    if not CA:
        raise Fail("KEYCLOAK_CA_FILE is not set")
    return ssl.create_default_context(cafile=CA)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k):
        return None


class Browser:
    """A cookie-keeping client that does not follow redirects by itself."""

    def __init__(self):
        path = os.environ.get("KEYCLOAK_JAR")
        self.jar = http.cookiejar.MozillaCookieJar(path) if path else http.cookiejar.CookieJar()
        if path and os.path.exists(path):
            self.jar.load(ignore_discard=True, ignore_expires=True)
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=ctx()),
            urllib.request.HTTPCookieProcessor(self.jar),
            NoRedirect(),
        )

    def save(self):
        if isinstance(self.jar, http.cookiejar.MozillaCookieJar):
            self.jar.save(ignore_discard=True, ignore_expires=True)

    def go(self, url, form=None):
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        req = urllib.request.Request(url, data=data)
        try:
            with self.opener.open(req, timeout=TIMEOUT) as r:
                return r.status, r.headers, r.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read().decode("utf-8", "replace")


class Forms(html.parser.HTMLParser):
    """Every <form>: its action, method and inputs (buttons with a name included)."""

    def __init__(self):
        super().__init__()
        self.forms = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action") or "", "method": (a.get("method") or "get").lower(),
                               "id": a.get("id") or "", "inputs": [], "buttons": []})
        elif tag in ("input", "button") and self.forms and a.get("name"):
            kind = (a.get("type") or ("submit" if tag == "button" else "text")).lower()
            entry = (a["name"], a.get("value") or "")
            (self.forms[-1]["buttons"] if kind == "submit" else self.forms[-1]["inputs"]).append(entry)


def forms_of(body):
    p = Forms()
    p.feed(body)
    return p.forms


def interact(b, url, stop, device_code=None, max_steps=25):
    """Follow `url` through Keycloak's pages: log in, accept consent / device grants, confirm a
    logout; stop at the first redirect whose target starts with `stop` (returned) or at a page
    with nothing to submit (its text returned with a "page:" prefix)."""
    form = None
    for _ in range(max_steps):
        status, headers, body = b.go(url, form)
        form = None
        loc = headers.get("Location")
        if status in (301, 302, 303, 307) and loc:
            url = urllib.parse.urljoin(url, loc)
            if url.startswith(stop):
                return url
            continue
        if status >= 400:
            raise Fail("%s answered %d: %s" % (url.split("?")[0], status, text_of(body)[:300]))
        fs = [f for f in forms_of(body) if f["action"]]
        if not fs:
            return "page:" + text_of(body)
        f = fs[0]
        fields = dict(f["inputs"])
        if "username" in fields or "password" in fields or f["id"] == "kc-form-login":
            fields.update(username=USER, password=PASSWORD)
        elif "device_user_code" in fields:
            if not device_code:
                raise Fail("a device code form, but no user code")
            fields["device_user_code"] = device_code
        buttons = dict(f["buttons"])
        for accept in ("accept", "confirmLogout", "login"):
            if accept in buttons:
                fields[accept] = buttons[accept] or "yes"
                break
        url = urllib.parse.urljoin(url, html.unescape(f["action"]))
        form = fields
        if f["method"] == "get":
            url = url + ("&" if "?" in url else "?") + urllib.parse.urlencode(fields)
            form = None
    raise Fail("too many steps from %s" % url)


def text_of(body):
    class T(html.parser.HTMLParser):
        def __init__(self):
            super().__init__()
            self.parts, self.skip = [], 0

        def handle_starttag(self, tag, attrs):
            if tag in ("script", "style"):
                self.skip += 1

        def handle_endtag(self, tag):
            if tag in ("script", "style") and self.skip:
                self.skip -= 1

        def handle_data(self, d):
            if not self.skip and d.strip():
                self.parts.append(d.strip())

    t = T()
    t.feed(body)
    return " ".join(t.parts)


# ---- the admin REST API --------------------------------------------------------------------

class Admin:
    def __init__(self):
        if not URL:
            raise Fail("KEYCLOAK_URL is not set")
        self.ctx = ctx()
        tok = self.call("POST", "/realms/master/protocol/openid-connect/token",
                        form={"grant_type": "password", "client_id": "admin-cli",
                              "username": ADMIN_USER, "password": ADMIN_PASSWORD}, auth=False)
        self.token = tok["access_token"]

    def call(self, method, path, body=None, form=None, auth=True, ok=(200, 201, 204)):
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        elif form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if auth:
            headers["Authorization"] = "Bearer " + self.token
        req = urllib.request.Request(URL + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, context=self.ctx, timeout=TIMEOUT) as r:
                status, raw, loc = r.status, r.read(), r.headers.get("Location")
        except urllib.error.HTTPError as e:
            status, raw, loc = e.code, e.read(), None
        if status not in ok:
            raise Fail("%s %s: HTTP %d %s" % (method, path, status, raw[:400].decode("utf-8", "replace")))
        if loc and not raw:
            return {"location": loc, "id": loc.rstrip("/").rsplit("/", 1)[-1]}
        return json.loads(raw) if raw else None

    def realm(self, path=""):
        return "/admin/realms/" + REALM + path


def key_provider(a, name, provider, config):
    realm_id = a.call("GET", a.realm())["id"]
    cfg = {k: [str(v)] for k, v in config.items()}
    return a.call("POST", a.realm("/components"), body={
        "name": name, "providerId": provider, "providerType": "org.keycloak.keys.KeyProvider",
        "parentId": realm_id, "config": cfg})["id"]


def provider_for(alg):
    if alg in ("RS256", "PS256"):
        return "rsa-generated", {"algorithm": alg, "keySize": 2048}
    if alg == "ES256":
        return "ecdsa-generated", {"ecdsaEllipticCurveKey": "P-256"}
    if alg == "ES512":  # Keycloak 26: ecdsaEllipticCurveKey is one of P-256, P-384, P-521
        return "ecdsa-generated", {"ecdsaEllipticCurveKey": "P-521"}
    if alg == "EdDSA":
        return "eddsa-generated", {"eddsaEllipticCurveKey": "Ed25519"}
    raise Fail("no key provider for %s" % alg)


def audience_mapper(name, audience=None, client=None):
    cfg = {"access.token.claim": "true", "id.token.claim": "false", "introspection.token.claim": "true"}
    if audience:
        cfg["included.custom.audience"] = audience
    if client:
        cfg["included.client.audience"] = client
    return {"name": name, "protocol": "openid-connect", "protocolMapper": "oidc-audience-mapper", "config": cfg}


def client(client_id, **kw):
    attrs = {"post.logout.redirect.uris": POST_LOGOUT, "use.refresh.tokens": "true"}
    attrs.update(kw.pop("attributes", {}))
    c = {"clientId": client_id, "protocol": "openid-connect", "enabled": True,
         "publicClient": False, "secret": SECRET % client_id, "clientAuthenticatorType": "client-secret",
         "standardFlowEnabled": False, "directAccessGrantsEnabled": False, "serviceAccountsEnabled": False,
         "redirectUris": [REDIRECT], "webOrigins": [], "attributes": attrs,
         "protocolMappers": [audience_mapper("api audience", audience=API_AUDIENCE)]}
    c.update(kw)
    return c


def setup():
    a = Admin()
    if any(r["realm"] == REALM for r in a.call("GET", "/admin/realms")):
        a.call("DELETE", a.realm())
    a.call("POST", "/admin/realms", body={
        "realm": REALM, "enabled": True, "sslRequired": "external",
        "accessTokenLifespan": 300, "ssoSessionIdleTimeout": 1800, "ssoSessionMaxLifespan": 36000,
        "oauth2DeviceCodeLifespan": 300, "oauth2DevicePollingInterval": 1,
        "revokeRefreshToken": False, "defaultSignatureAlgorithm": "RS256",
        "attributes": {"parRequestUriLifespan": "60"}})
    # keys: the realm's default RSA key (RS256) stays; one provider per other algorithm
    for alg in ("PS256", "ES256", "ES512", "EdDSA"):
        provider, cfg = provider_for(alg)
        key_provider(a, "%s-1" % alg.lower(), provider, dict(cfg, priority=100, active="true", enabled="true"))
    clients = []
    for alg, cid in ALG_CLIENTS.items():
        clients.append(client(cid, serviceAccountsEnabled=True, directAccessGrantsEnabled=True, attributes={
            "access.token.signed.response.alg": alg, "id.token.signed.response.alg": alg,
            "user.info.response.signature.alg": "unsigned"}))
    # svc: client credentials, introspection, standard token exchange (RFC 8693), revocation
    clients.append(client("svc", serviceAccountsEnabled=True,
                          attributes={"standard.token.exchange.enabled": "true",
                                      "access.token.header.type.rfc9068": "true"}))
    # web: authorization code with PKCE enforced (S256), PAR, device flow, RP-initiated logout;
    # its access tokens name svc too, so svc may exchange them
    web = client("web", standardFlowEnabled=True, attributes={
        "pkce.code.challenge.method": "S256", "oauth2.device.authorization.grant.enabled": "true",
        "backchannel.logout.session.required": "true"})
    web["protocolMappers"].append(audience_mapper("svc audience", client="svc"))
    clients.append(web)
    # web-es512: the code flow (PKCE enforced) with access and ID tokens signed ES512 (P-521)
    clients.append(client("web-es512", standardFlowEnabled=True, attributes={
        "pkce.code.challenge.method": "S256",
        "access.token.signed.response.alg": "ES512", "id.token.signed.response.alg": "ES512"}))
    # dpop: every token DPoP-bound (RFC 9449)
    clients.append(client("dpop-app", standardFlowEnabled=True, directAccessGrantsEnabled=True,
                          attributes={"dpop.bound.access.tokens": "true"}))
    for c in clients:
        a.call("POST", a.realm("/clients"), body=c)
    a.call("POST", a.realm("/users"), body={
        "username": USER, "enabled": True, "email": "alice@example.test", "emailVerified": True,
        "firstName": "Alice", "lastName": "Test", "requiredActions": [],
        "credentials": [{"type": "password", "value": PASSWORD, "temporary": False}]})
    issuer = "%s/realms/%s" % (URL, REALM)
    env = {"KEYCLOAK_ISSUER": issuer, "KEYCLOAK_CA_FILE": CA, "KEYCLOAK_URL": URL, "KEYCLOAK_REALM": REALM,
           "KEYCLOAK_USER": USER, "KEYCLOAK_PASSWORD": PASSWORD, "KEYCLOAK_REDIRECT_URI": REDIRECT,
           "KEYCLOAK_POST_LOGOUT_URI": POST_LOGOUT, "KEYCLOAK_API_AUDIENCE": API_AUDIENCE,
           "KEYCLOAK_ADMIN_USER": ADMIN_USER, "KEYCLOAK_ADMIN_PASSWORD": ADMIN_PASSWORD}
    for c in clients:
        env["KEYCLOAK_SECRET_" + c["clientId"].upper().replace("-", "_")] = c["secret"]
    for k, v in env.items():
        print("export %s=%s" % (k, shq(v)))


def shq(v):
    return "'" + str(v).replace("'", "'\\''") + "'"


def keys(a):
    """The realm's keys with their provider ids: [(kid, alg, status, providerId)]."""
    out = []
    for k in a.call("GET", a.realm("/keys"))["keys"]:
        out.append((k.get("kid", ""), k.get("algorithm", ""), k.get("status", ""), k.get("providerId", "")))
    return out


def component(a, cid):
    return a.call("GET", a.realm("/components/" + cid))


def rotate(alg):
    a = Admin()
    old = [k for k in keys(a) if k[1] == alg and k[2] == "ACTIVE"]
    if not old:
        raise Fail("no active %s key" % alg)
    prio = max(int((component(a, k[3])["config"].get("priority") or ["0"])[0]) for k in old)
    provider, cfg = provider_for(alg)
    new_id = key_provider(a, "%s-%d" % (alg.lower(), int(time.time() * 1000)), provider,
                          dict(cfg, priority=prio + 10, active="true", enabled="true"))
    for k in old:
        c = component(a, k[3])
        c["config"]["active"] = ["false"]
        a.call("PUT", a.realm("/components/" + k[3]), body=c)
    new = [k for k in keys(a) if k[3] == new_id]
    if not new:
        raise Fail("the new %s key is not in the realm's keys" % alg)
    print(new[0][0])


def drop_passive(alg):
    a = Admin()
    gone = [k for k in keys(a) if k[1] == alg and k[2] == "PASSIVE"]
    for k in gone:
        a.call("DELETE", a.realm("/components/" + k[3]))
    print(" ".join(k[0] for k in gone))


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    if cmd == "setup":
        setup()
    elif cmd == "login" and len(argv) == 3:
        b = Browser()
        print(interact(b, argv[2], REDIRECT))
        b.save()
    elif cmd == "device" and len(argv) == 3:
        b = Browser()
        end = interact(b, "%s/realms/%s/device?%s" % (URL, REALM, urllib.parse.urlencode({"user_code": argv[2]})), REDIRECT)
        b.save()
        if not end.startswith("page:") or "success" not in end.lower():
            raise Fail("device approval ended at: %s" % end[:300])
        print("approved")
    elif cmd == "logout" and len(argv) == 3:
        b = Browser()
        print(interact(b, argv[2], "http://127.0.0.1/"))
        b.save()
    elif cmd == "rotate" and len(argv) == 3:
        rotate(argv[2])
    elif cmd == "drop-passive" and len(argv) == 3:
        drop_passive(argv[2])
    elif cmd == "keys":
        for k in keys(Admin()):
            print(" ".join(k))
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except (Fail, OSError, KeyError, ValueError) as e:
        sys.stderr.write("kc.py %s: %s\n" % (" ".join(sys.argv[1:2]), e))
        sys.exit(1)
