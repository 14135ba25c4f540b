"""Proxy and mTLS options over liboidc's setters: a proxy that refuses gives ProxyError (its
credentials never in the message); a client key that does not match its certificate gives
ClientCertError at construction; a matching pair builds."""

from __future__ import annotations

import datetime
import socket

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

import liboidc
from liboidc.oauth import OAuthClient

SECRET = "pr0xy-s3cret"


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def refused_proxy() -> str:
    return f"http://svc:{SECRET}@127.0.0.1:{closed_port()}"


def assert_proxy_error(e: BaseException) -> None:
    assert isinstance(e, liboidc.ProxyError) and e.code_name == "PROXY", repr(e)
    for text in (str(e), repr(e), repr(e.details)):
        assert SECRET not in text, text


def test_validator_refused_proxy(fixture):
    v = liboidc.Validator(**fixture.validator_kwargs(proxy=refused_proxy()))
    with pytest.raises(liboidc.OidcError) as ei:
        v.validate(fixture.token("RS256"))
    assert_proxy_error(ei.value)


def test_validator_proxy_arguments(fixture):
    with pytest.raises(liboidc.ConfigError):
        liboidc.Validator(**fixture.validator_kwargs(proxy="not a url"))
    with pytest.raises(TypeError):
        liboidc.Validator(**fixture.validator_kwargs(proxy=3128))
    with pytest.raises(TypeError):
        liboidc.Validator(**fixture.validator_kwargs(proxy_from_env="yes"))
    # opted in with no proxy variable set (servers.sh unsets them): direct, and it validates
    v = liboidc.Validator(**fixture.validator_kwargs(proxy_from_env=True))
    assert v.validate(fixture.token("RS256", sub="env-user")).sub == "env-user"


def test_oauth_refused_proxy(fixture):
    with OAuthClient(fixture.issuer, client_id="c", client_secret="s", ca_file=fixture.ca_file,
                     proxy=refused_proxy(), timeouts=(2, 5)) as c:
        with pytest.raises(liboidc.OidcError) as ei:
            c.client_credentials()
        assert_proxy_error(ei.value)
    with pytest.raises(TypeError):
        OAuthClient(fixture.issuer, client_id="c", proxy_from_env=1)


def _cert_and_key(cn: str) -> tuple:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return cert.public_bytes(serialization.Encoding.PEM).decode(), key_pem


def test_oauth_client_cert(fixture):
    cert_a, key_a = _cert_and_key("client-a")
    _, key_b = _cert_and_key("client-b")
    kw = dict(client_id="c", ca_file=fixture.ca_file, auth_method="self_signed_tls_client_auth")
    # a key that does not match the certificate: refused at construction
    with pytest.raises(liboidc.ClientCertError) as ei:
        OAuthClient(fixture.issuer, client_cert_pem=cert_a, client_key_pem=key_b, **kw)
    assert ei.value.code_name == "CLIENT_CERT"
    assert "PRIVATE KEY" not in str(ei.value) and key_b.splitlines()[1] not in str(ei.value)
    with pytest.raises(liboidc.ClientCertError):
        OAuthClient(fixture.issuer, client_cert_pem="not pem", client_key_pem=key_a, **kw)
    with pytest.raises(ValueError):
        OAuthClient(fixture.issuer, client_cert_pem=cert_a, **kw)
    # the matching pair builds
    with OAuthClient(fixture.issuer, client_cert_pem=cert_a, client_key_pem=key_a, **kw) as c:
        assert not c.closed
