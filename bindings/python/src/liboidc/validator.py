"""Token validation and request authentication: ``Validator``, ``Claims``, ``Decision``.

Thread safety: a ``Validator`` may be used from any number of threads at once (the library's
``oidc_validate`` / ``oidc_authenticate`` are safe to call concurrently on one validator, and the
GIL is released while they run). ``close()`` may be called at any time: calls already running
keep the native validator alive (it is freed when the last of them returns); later calls raise
``ClosedError``. ``Claims`` and ``Decision`` are immutable snapshots, safe to share.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
from typing import (Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple,
                    Union)

from . import _aio
from ._native import ffi, lib
from .issuer import Issuer, _build as _build_issuer
from .jose import DecryptionKey, Revocation, add_decryption_options
from .errors import (ClosedError, OidcError, _bytes, _cstr, _from_native, _new_err, _raise_for,
                     error_class, code_name as _code_name)

__all__ = ["Validator", "Claims", "Decision", "Headers"]

_NULL = ffi.NULL
_U32 = 0xFFFFFFFF
# ctypes resolved once: ffi.new(<ctype>) skips the type-string lookup on the hot path
_CHARPP, _SIZEP, _ERRPP = ffi.typeof("char **"), ffi.typeof("size_t *"), ffi.typeof("struct oidc_error **")
_new = ffi.new
_unpack = ffi.unpack
_validate_c, _validate_at_c, _string_free = lib.oidc_validate, lib.oidc_validate_at, lib.oidc_string_free

# The out-parameters of validate/validate_at (char **, size_t *, oidc_error **), reused per thread
# instead of three ffi.new per call (about 0.9 us of the 2.9 us a cached validate cost). Each
# thread keeps a free list: a call takes a set for its duration and returns it, so a call made
# on the same thread while one runs (e.g. from a logging handler the library's log callback
# reaches) gets a set of its own. err is NULL again whenever a set is returned (_raise_for takes
# the error object out; on OK the library leaves it NULL).
_tls = threading.local()


def _out_bufs() -> List[Any]:
    """This thread's free list of out-parameter sets."""
    try:
        return _tls.free  # type: ignore[no-any-return]
    except AttributeError:
        free: List[Any] = []
        _tls.free = free
        return free

Headers = Union[Mapping[str, Any], Iterable[Tuple[Any, Any]]]
StrOrBytes = Union[str, bytes]


class Claims(Mapping[str, Any]):
    """A validated token's claims, a read-only mapping (``claims["sub"]``, ``dict(claims)``).

    The library hands over the claims as JSON; it is parsed on first access (a caller that only
    needs the yes/no pays no parse), once. Common claims are attributes (None when absent):
    ``sub, iss, aud (list), exp, iat, nbf, jti, scope (str), scopes (list), client_id, azp``.
    ``json`` is the exact JSON text.
    """

    __slots__ = ("_raw", "_data")

    def __init__(self, raw: bytes) -> None:
        self._raw = raw
        self._data: Optional[Dict[str, Any]] = None

    @property
    def _d(self) -> Dict[str, Any]:
        d = self._data
        if d is None:
            d = json.loads(self._raw)
            if not isinstance(d, dict):  # pragma: no cover - the library returns an object
                raise ValueError("claims are not a JSON object")
            self._data = d
        return d

    @property
    def json(self) -> str:
        return self._raw.decode("utf-8")

    def __getitem__(self, key: str) -> Any:
        d = self._data  # parsed already: skip the property (the mapping hot path)
        return (d if d is not None else self._d)[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._d)

    def __len__(self) -> int:
        return len(self._d)

    def __contains__(self, key: object) -> bool:
        return key in self._d

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Claims):
            return self._d == other._d
        if isinstance(other, Mapping):
            return self._d == dict(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Claims(sub={self.sub!r}, iss={self.iss!r})"

    def to_dict(self) -> Dict[str, Any]:
        return dict(self._d)

    def _s(self, k: str) -> Optional[str]:
        v = self._d.get(k)
        return v if isinstance(v, str) else None

    def _i(self, k: str) -> Optional[int]:
        v = self._d.get(k)
        return v if isinstance(v, int) and not isinstance(v, bool) else None

    sub = property(lambda self: self._s("sub"), doc="The subject (sub).")
    iss = property(lambda self: self._s("iss"), doc="The issuer (iss).")
    jti = property(lambda self: self._s("jti"), doc="The token id (jti).")
    client_id = property(lambda self: self._s("client_id"), doc="client_id (RFC 9068).")
    azp = property(lambda self: self._s("azp"), doc="The authorized party (azp).")
    exp = property(lambda self: self._i("exp"), doc="Expiry, seconds since the epoch.")
    iat = property(lambda self: self._i("iat"), doc="Issued at, seconds since the epoch.")
    nbf = property(lambda self: self._i("nbf"), doc="Not before, seconds since the epoch.")

    @property
    def aud(self) -> List[str]:
        """The audiences as a list (a single string audience is a one-element list)."""
        v = self._d.get("aud")
        if isinstance(v, str):
            return [v]
        return [a for a in v if isinstance(a, str)] if isinstance(v, list) else []

    @property
    def scope(self) -> Optional[str]:
        """The scope claim as a space-separated string (from ``scope`` or ``scp``)."""
        s = self.scopes
        return " ".join(s) if s or "scope" in self._d or "scp" in self._d else None

    @property
    def scopes(self) -> List[str]:
        """The scopes as a list (``scope`` string or array, else ``scp``)."""
        for k in ("scope", "scp"):
            v = self._d.get(k)
            if isinstance(v, str):
                return v.split()
            if isinstance(v, list):
                return [s for s in v if isinstance(s, str)]
        return []


class Decision:
    """The outcome of ``Validator.authenticate``: allowed, or denied with the status and challenges
    to answer with (all decided by the library).

    ``allowed``, ``status`` (200, or 400/401/403/503/500), ``code`` and ``code_name`` (0/"OK" when
    allowed), ``error`` (RFC 6750/9449 error code or None), ``message``, ``claims`` (``Claims``
    when allowed), ``token_type`` ("Bearer"/"DPoP"), ``challenges`` (the WWW-Authenticate values, one
    header line each), ``dpop_nonce`` (a DPoP-Nonce to send, or None); ``headers`` gives the
    response headers as (name, value) pairs; ``exception()`` the denial as an OidcError.
    """

    __slots__ = ("allowed", "status", "code", "code_name", "error", "message", "claims", "token_type",
                 "challenges", "dpop_nonce")

    def __init__(self, allowed: bool, status: int, code: int, error: Optional[str], message: str,
                 claims: Optional[Claims], token_type: Optional[str], challenges: Tuple[str, ...],
                 dpop_nonce: Optional[str]) -> None:
        self.allowed, self.status, self.code = allowed, status, code
        self.code_name = "OK" if code == 0 else _code_name(code)
        self.error, self.message, self.claims, self.token_type = error, message, claims, token_type
        self.challenges, self.dpop_nonce = challenges, dpop_nonce

    @property
    def www_authenticate(self) -> Tuple[str, ...]:
        return self.challenges

    @property
    def headers(self) -> List[Tuple[str, str]]:
        """The response headers of this decision: one WWW-Authenticate per challenge, DPoP-Nonce."""
        h = [("WWW-Authenticate", c) for c in self.challenges]
        if self.dpop_nonce is not None:
            h.append(("DPoP-Nonce", self.dpop_nonce))
        return h

    def exception(self) -> Optional[OidcError]:
        """The denial as an exception of the code's class (None when allowed)."""
        if self.allowed:
            return None
        return error_class(self.code)(self.message, code=self.code, code_name=self.code_name,
                                      http_status=self.status,
                                      www_authenticate=self.challenges[0] if self.challenges else "",
                                      oauth_error=self.error)

    def __bool__(self) -> bool:
        return self.allowed

    def __repr__(self) -> str:
        return f"Decision(allowed={self.allowed}, status={self.status}, code_name={self.code_name!r})"


def _sized(p: Any, n: Any) -> Optional[str]:
    if p == _NULL:
        return None
    return ffi.buffer(p, n[0])[:].decode("utf-8", "replace")


def _read_decision(d: Any) -> Decision:
    """Copy a (borrowed) oidc_decision into a Decision."""
    n = ffi.new("size_t *")
    claims_p = lib.oidc_decision_claims(d, n)
    claims = Claims(ffi.buffer(claims_p, n[0])[:]) if claims_p != _NULL else None
    count = lib.oidc_decision_challenge_count(d)
    challenges = []
    for i in range(count):
        c = _sized(lib.oidc_decision_challenge(d, i, n), n)
        if c is not None:
            challenges.append(c)
    return Decision(
        allowed=bool(lib.oidc_decision_allowed(d)),
        status=int(lib.oidc_decision_http_status(d)),
        code=int(lib.oidc_decision_code(d)),
        error=_sized(lib.oidc_decision_error(d, n), n),
        message=_sized(lib.oidc_decision_message(d, n), n) or "",
        claims=claims,
        token_type=_cstr(lib.oidc_decision_token_type(d)),
        challenges=tuple(challenges),
        dpop_nonce=_sized(lib.oidc_decision_dpop_nonce(d, n), n),
    )


def _strs(value: Any, what: str) -> List[bytes]:
    """A str or an iterable of str as a list of UTF-8 bytes."""
    if isinstance(value, (str, bytes)):
        return [_bytes(value, what)]
    try:
        items = list(value)
    except TypeError:
        raise TypeError(f"{what} must be a string or an iterable of strings, not {type(value).__name__}") from None
    return [_bytes(v, what) for v in items]


def _uint(value: Any, what: str, hi: int = _U32) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, not {type(value).__name__}")
    if not 0 <= value <= hi:
        raise ValueError(f"{what} = {value} is out of range (0 to {hi})")
    return value


def _ms(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{what} must be a number of seconds, not {type(value).__name__}")
    ms = int(round(value * 1000))
    if not 0 <= ms <= _U32:
        raise ValueError(f"{what} = {value} s is out of range")
    return ms


_DPOP_MODES = {"allowed": 0, "required": 1, "disabled": 2}
_PREFETCH = {"none": 0, "fail_fast": 1, "background": 2}

# Replay-store callbacks must outlive every validator built with them: kept here for the process.
_replay_keepalive: List[Any] = []


class Validator:
    """Validates access tokens and authenticates requests under one policy (one ``oidc_validator``).

    Keyword arguments (each maps to one ``oidc_validator_builder_*`` setter; an invalid value
    raises at construction, with the argument named; anything unset keeps the library's default):

    ``issuer`` (required), ``audiences`` (str or list; or ``any_audience=True``), ``algorithms``
    (str "RS256,ES256" or list), ``jwks_uri``, ``jwks_json`` (str/bytes, or a dict), ``leeway``
    (seconds), ``required_claims``, ``required_scopes``, ``allowed_claim_values`` ({claim: [values]}),
    ``expected_typ`` ("at+jwt"), ``max_token_bytes``, ``max_response_bytes``, ``ca_file``,
    ``connect_timeout`` and ``timeout`` (seconds, give both), ``cache_policy`` ((ttl_min, ttl_max,
    refresh_cooldown, stale_if_error) seconds), ``token_cache_size``, ``prefetch``
    ("none"/"fail_fast"/"background"), ``realm``, ``dpop_mode`` ("allowed"/"required"/"disabled"),
    ``dpop_algorithms``, ``dpop_proof_window`` (seconds), ``dpop_nonce_secret`` (bytes) with
    ``dpop_nonce_lifetime`` (seconds, 0 = default), ``dpop_replay_store`` (a callable
    ``(key: str, ttl_secs: int) -> bool``: True when the key was new; an exception or None means
    the store could not answer, which denies with 503), ``require_mtls``, ``allow_http_loopback``,
    ``proxy`` (``http://[user[:password]@]host:port``: discovery and JWKS through an HTTP CONNECT
    proxy; the credentials never appear in a message) and ``proxy_from_env`` (opt in to
    ``https_proxy``/``no_proxy``; an explicit ``proxy`` wins). A proxy that refuses or cannot be
    reached raises ``ProxyError`` at the fetch.

    Encrypted tokens (JWE): ``decryption_keys`` (a ``liboidc.DecryptionKey``, a private JWK as
    text or mapping, or a PEM private key; or a list of them, at most 32, selected by ``kid``),
    ``decryption_algorithms`` ("RSA-OAEP-256 A256GCM ..." or a list; default every supported
    one but RSA1_5 and dir) and ``accept_encrypted=True`` (decrypt encrypted access tokens; needs
    a key). Keys are never shown in a message or ``repr``. Revocation lists: ``revocation`` (a
    ``liboidc.Revocation``, or a policy name "fail_closed" / "fail_open": there is no default
    policy): a token whose ``kid`` or ``jti`` the issuer's signed list names raises
    ``RevokedError``. ``drop_keys()`` drops cached keys at once.

    Several issuers: ``issuers`` is a list of ``Issuer`` (or mappings of its fields), each added
    with its own keys and token rules (``oidc_validator_builder_add_issuer``); ``issuer`` is then
    optional (when given it is the first entry). Policy documents: ``policy`` (the JSON text as
    str/bytes, or a dict) and ``policy_file`` (a path) are loaded first, the file before the text
    (``oidc_validator_builder_load_policy[_file]``): every member a document holds replaces the
    setting, and the keyword arguments given explicitly are applied after them (so they win).
    A malformed document raises ``InvalidConfigError`` whose message names the JSON path
    (``$.issuers[1].audiences[0]: ...``). ``policy_json()`` exports a built validator's document;
    ``explain()`` / ``explain_request()`` say why a token or request is allowed or denied.
    """

    def __init__(
        self,
        *,
        issuer: Optional[StrOrBytes] = None,
        issuers: Optional[Sequence[Union[Issuer, Mapping[str, Any]]]] = None,
        policy: Union[StrOrBytes, Mapping[str, Any], None] = None,
        policy_file: Union[StrOrBytes, "os.PathLike[str]", "os.PathLike[bytes]", None] = None,
        audiences: Union[StrOrBytes, Sequence[StrOrBytes], None] = None,
        any_audience: bool = False,
        algorithms: Union[StrOrBytes, Sequence[StrOrBytes], None] = None,
        jwks_uri: Optional[StrOrBytes] = None,
        jwks_json: Union[StrOrBytes, Mapping[str, Any], None] = None,
        leeway: Optional[int] = None,
        required_claims: Optional[Sequence[StrOrBytes]] = None,
        required_scopes: Optional[Sequence[StrOrBytes]] = None,
        allowed_claim_values: Optional[Mapping[str, Sequence[StrOrBytes]]] = None,
        expected_typ: Optional[StrOrBytes] = None,
        max_token_bytes: Optional[int] = None,
        max_response_bytes: Optional[int] = None,
        ca_file: Optional[StrOrBytes] = None,
        connect_timeout: Optional[float] = None,
        timeout: Optional[float] = None,
        cache_policy: Optional[Tuple[int, int, int, int]] = None,
        token_cache_size: Optional[int] = None,
        prefetch: Optional[str] = None,
        realm: Optional[StrOrBytes] = None,
        dpop_mode: Optional[str] = None,
        dpop_algorithms: Union[StrOrBytes, Sequence[StrOrBytes], None] = None,
        dpop_proof_window: Optional[int] = None,
        dpop_nonce_secret: Optional[bytes] = None,
        dpop_nonce_lifetime: int = 0,
        dpop_replay_store: Optional[Callable[[str, int], Optional[bool]]] = None,
        require_mtls: bool = False,
        allow_http_loopback: bool = False,
        proxy: Optional[StrOrBytes] = None,
        proxy_from_env: bool = False,
        decryption_keys: Union[DecryptionKey, StrOrBytes, Mapping[str, Any],
                               Iterable[Union[DecryptionKey, StrOrBytes, Mapping[str, Any]]], None] = None,
        decryption_algorithms: Union[StrOrBytes, Sequence[StrOrBytes], None] = None,
        accept_encrypted: bool = False,
        revocation: Union[Revocation, str, Mapping[str, Any], None] = None,
    ) -> None:
        self._p: Any = None
        if not isinstance(proxy_from_env, bool):
            raise TypeError(f"proxy_from_env must be a bool, not {type(proxy_from_env).__name__}")
        if not isinstance(accept_encrypted, bool):
            raise TypeError(f"accept_encrypted must be a bool, not {type(accept_encrypted).__name__}")
        revo = None if revocation is None else Revocation.coerce(revocation)
        # argument types first (before anything native exists)
        specs: List[Issuer] = []
        if issuers is not None:
            if isinstance(issuers, (str, bytes, Mapping, Issuer)) or not isinstance(issuers, Iterable):
                raise TypeError(f"issuers must be a list of liboidc.Issuer, not {type(issuers).__name__}")
            specs = [Issuer.coerce(i) for i in issuers]
        policy_doc: Optional[bytes] = None
        if policy is not None:
            policy_doc = _bytes(json.dumps(dict(policy)) if isinstance(policy, Mapping) else policy, "policy")
        policy_path: Optional[bytes] = None
        if policy_file is not None:
            if not isinstance(policy_file, (str, bytes, os.PathLike)):
                raise TypeError(f"policy_file must be a path (str, bytes or os.PathLike), not {type(policy_file).__name__}")
            policy_path = _bytes(os.fspath(policy_file), "policy_file")
        out = ffi.new("struct oidc_validator_builder **")
        err = _new_err()
        _raise_for(lib.oidc_validator_builder_new(out, err), err)
        b = out[0]
        built = False

        def call(what: str, rc: int) -> None:
            if rc != 0:
                e = err[0]
                err[0] = _NULL
                try:
                    exc = _from_native(rc, e)
                finally:
                    if e != _NULL:
                        lib.oidc_error_free(e)
                if what:
                    exc.message = f"{what}: {exc.message}"
                exc.args = (exc.message,)
                raise exc

        def s(what: str, fn: Any, value: Any) -> None:
            v = _bytes(value, what)
            call(what, fn(b, v, len(v), err))

        try:
            if policy_path is not None:
                call(f"policy_file {os.fsdecode(policy_path)!r}",
                     lib.oidc_validator_builder_load_policy_file(b, policy_path, len(policy_path), err))
            if policy_doc is not None:  # the library's message names the document ("policy $.x: ...")
                call("", lib.oidc_validator_builder_load_policy(b, policy_doc, len(policy_doc), err))
            if issuer is not None:
                s("issuer", lib.oidc_validator_builder_set_issuer, issuer)
            if audiences is not None:
                for a in _strs(audiences, "audiences"):
                    call("audiences", lib.oidc_validator_builder_add_audience(b, a, len(a), err))
            if any_audience:
                call("any_audience", lib.oidc_validator_builder_set_any_audience(b, 1, err))
            if algorithms is not None:
                algs = b",".join(_strs(algorithms, "algorithms"))
                call("algorithms", lib.oidc_validator_builder_set_algorithms(b, algs, len(algs), err))
            if jwks_uri is not None:
                s("jwks_uri", lib.oidc_validator_builder_set_jwks_uri, jwks_uri)
            if jwks_json is not None:
                doc = json.dumps(jwks_json) if isinstance(jwks_json, Mapping) else jwks_json
                s("jwks_json", lib.oidc_validator_builder_set_jwks_json, doc)
            if leeway is not None:
                call("leeway", lib.oidc_validator_builder_set_leeway_secs(b, _uint(leeway, "leeway"), err))
            for c in _strs(required_claims or (), "required_claims"):
                call("required_claims", lib.oidc_validator_builder_add_required_claim(b, c, len(c), err))
            for c in _strs(required_scopes or (), "required_scopes"):
                call("required_scopes", lib.oidc_validator_builder_add_required_scope(b, c, len(c), err))
            if allowed_claim_values is not None:
                if not isinstance(allowed_claim_values, Mapping):
                    raise TypeError("allowed_claim_values must be a mapping {claim: [values]}")
                for claim, values in allowed_claim_values.items():
                    cb_ = _bytes(claim, "allowed_claim_values")
                    for v in _strs(values, f"allowed_claim_values[{claim!r}]"):
                        call("allowed_claim_values",
                             lib.oidc_validator_builder_add_allowed_claim_value(b, cb_, len(cb_), v, len(v), err))
            if expected_typ is not None:
                s("expected_typ", lib.oidc_validator_builder_set_expected_typ, expected_typ)
            if max_token_bytes is not None:
                call("max_token_bytes", lib.oidc_validator_builder_set_max_token_bytes(
                    b, _uint(max_token_bytes, "max_token_bytes", 2**64 - 1), err))
            if max_response_bytes is not None:
                call("max_response_bytes", lib.oidc_validator_builder_set_max_response_bytes(
                    b, _uint(max_response_bytes, "max_response_bytes", 2**64 - 1), err))
            if ca_file is not None:
                s("ca_file", lib.oidc_validator_builder_set_ca_file, ca_file)
            if (connect_timeout is None) != (timeout is None):
                raise ValueError("connect_timeout and timeout: give both (seconds) or neither")
            if timeout is not None:
                call("timeout", lib.oidc_validator_builder_set_timeouts_ms(
                    b, _ms(connect_timeout, "connect_timeout"), _ms(timeout, "timeout"), err))
            if cache_policy is not None:
                cp = tuple(cache_policy)
                if len(cp) != 4:
                    raise ValueError("cache_policy must be (ttl_min, ttl_max, refresh_cooldown, stale_if_error) seconds")
                call("cache_policy", lib.oidc_validator_builder_set_cache_policy_secs(
                    b, *[_uint(x, "cache_policy") for x in cp], err))
            if token_cache_size is not None:
                call("token_cache_size", lib.oidc_validator_builder_set_token_cache_size(
                    b, _uint(token_cache_size, "token_cache_size", 2**64 - 1), err))
            if prefetch is not None:
                if prefetch not in _PREFETCH:
                    raise ValueError(f"prefetch must be one of {sorted(_PREFETCH)}, not {prefetch!r}")
                call("prefetch", lib.oidc_validator_builder_set_prefetch(b, _PREFETCH[prefetch], err))
            if realm is not None:
                s("realm", lib.oidc_validator_builder_set_realm, realm)
            if dpop_mode is not None:
                if dpop_mode not in _DPOP_MODES:
                    raise ValueError(f"dpop_mode must be one of {sorted(_DPOP_MODES)}, not {dpop_mode!r}")
                call("dpop_mode", lib.oidc_validator_builder_set_dpop_mode(b, _DPOP_MODES[dpop_mode], err))
            if dpop_algorithms is not None:
                algs = b",".join(_strs(dpop_algorithms, "dpop_algorithms"))
                call("dpop_algorithms", lib.oidc_validator_builder_set_dpop_algorithms(b, algs, len(algs), err))
            if dpop_proof_window is not None:
                call("dpop_proof_window", lib.oidc_validator_builder_set_dpop_proof_window_secs(
                    b, _uint(dpop_proof_window, "dpop_proof_window"), err))
            if dpop_nonce_secret is not None:
                if not isinstance(dpop_nonce_secret, (bytes, bytearray)):
                    raise TypeError("dpop_nonce_secret must be bytes")
                sec = bytes(dpop_nonce_secret)
                call("dpop_nonce_secret", lib.oidc_validator_builder_set_dpop_nonce_secret(
                    b, sec, len(sec), _uint(dpop_nonce_lifetime, "dpop_nonce_lifetime"), err))
            if dpop_replay_store is not None:
                if not callable(dpop_replay_store):
                    raise TypeError("dpop_replay_store must be callable (key: str, ttl_secs: int) -> bool")
                cb = ffi.callback("oidc_replay_store_cb", _replay_adapter(dpop_replay_store), error=-1)
                _replay_keepalive.append(cb)
                call("dpop_replay_store", lib.oidc_validator_builder_set_dpop_replay_store(b, cb, _NULL, err))
            if require_mtls:
                call("require_mtls", lib.oidc_validator_builder_set_require_mtls(b, 1, err))
            if allow_http_loopback:
                call("allow_http_loopback", lib.oidc_validator_builder_set_allow_http_loopback(b, 1, err))
            if proxy is not None:
                s("proxy", lib.oidc_validator_builder_set_proxy, proxy)
            if proxy_from_env:
                call("proxy_from_env", lib.oidc_validator_builder_set_proxy_from_env(b, 1, err))
            add_decryption_options(b, decryption_keys, decryption_algorithms, err, call,
                                   lib.oidc_validator_builder_add_decryption_key,
                                   lib.oidc_validator_builder_set_decryption_algorithms)
            if accept_encrypted:
                call("accept_encrypted", lib.oidc_validator_builder_set_accept_encrypted(b, 1, err))
            if revo is not None:
                revo.apply(b, err, call)
            for i, spec in enumerate(specs):
                _build_issuer(spec, f"issuers[{i}]").add_to(b, f"issuers[{i}]")
            vout = ffi.new("struct oidc_validator **")
            built = True  # build consumes the builder in every case
            call("configuration", lib.oidc_validator_builder_build(b, vout, err))
            self._p = ffi.gc(vout[0], lib.oidc_validator_free)
        finally:
            if not built:
                lib.oidc_validator_builder_free(b)

    # ---- lifetime ----

    def _ptr(self) -> Any:
        p = self._p
        if p is None:
            raise ClosedError("the validator is closed")
        return p

    def close(self) -> None:
        """Release the validator. Calls running on other threads finish first (they hold it)."""
        self._p = None

    @property
    def closed(self) -> bool:
        return self._p is None

    def __enter__(self) -> "Validator":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ---- validation ----

    def validate(self, token: StrOrBytes) -> Claims:
        """Validate a bearer token; returns its ``Claims`` or raises the code's ``TokenError`` subclass."""
        p = self._p  # the hot path: self._ptr() inlined
        if p is None:
            raise ClosedError("the validator is closed")
        if type(token) is str:  # the hot path: skip _bytes' checks for the common case
            try:
                t = token.encode()
            except UnicodeEncodeError:
                t = _bytes(token, "token")  # raises the ValueError naming the argument
        else:
            t = _bytes(token, "token")
        try:
            free = _tls.free
        except AttributeError:
            free = _out_bufs()
        bufs = free.pop() if free else (_new(_CHARPP), _new(_SIZEP), _new(_ERRPP))
        out, n, err = bufs
        rc = _validate_c(p, t, len(t), out, n, err)
        if rc != 0:
            try:
                _raise_for(rc, err)
            finally:
                free.append(bufs)
        c, size = out[0], n[0]
        free.append(bufs)
        try:
            return Claims(_unpack(c, size))
        finally:
            _string_free(c)

    def validate_at(self, token: StrOrBytes, now: int) -> Claims:
        """Like ``validate`` with exp/nbf/iat checked as of ``now`` (seconds since the epoch)."""
        p = self._ptr()
        t = _bytes(token, "token")
        now = _int64(now, "now")
        free = _out_bufs()
        bufs = free.pop() if free else (_new(_CHARPP), _new(_SIZEP), _new(_ERRPP))
        out, n, err = bufs
        rc = _validate_at_c(p, t, len(t), now, out, n, err)
        if rc != 0:
            try:
                _raise_for(rc, err)
            finally:
                free.append(bufs)
        c, size = out[0], n[0]
        free.append(bufs)
        try:
            return Claims(_unpack(c, size))
        finally:
            _string_free(c)

    def prefetch(self) -> None:
        """Fetch discovery and the key set now (warm start), and the revocation list when
        ``revocation=`` is set; raises when they cannot be had."""
        p = self._ptr()
        err = _new_err()
        _raise_for(lib.oidc_validator_prefetch(p, err), err)

    def drop_keys(self, issuer: Optional[StrOrBytes] = None) -> None:
        """Drop the cached keys (and verified tokens) of ``issuer`` (``None``: every issuer of
        this validator) at once: the next validation fetches them again (after a key
        compromise). An issuer this validator does not serve raises ``InvalidArgumentError``; a
        static-key validator has nothing to drop. Waits for a key fetch in flight (bounded by the
        timeouts); no network of its own (``oidc_validator_drop_keys``)."""
        p = self._ptr()
        iss = b"" if issuer is None else _bytes(issuer, "issuer")
        err = _new_err()
        _raise_for(lib.oidc_validator_drop_keys(p, iss, len(iss), err), err)

    # ---- request authentication ----

    def authenticate(self, method: StrOrBytes, url: StrOrBytes, headers: Headers, *,
                     client_cert: Optional[bytes] = None, now: Optional[int] = None) -> Decision:
        """Authenticate one HTTP request: the library reads the Authorization and DPoP headers of
        ``headers`` (a mapping, a multi-dict with ``getlist``/``get_all``, or (name, value) pairs;
        every other header is ignored), checks the token, its binding, the proof and the required
        scopes, and decides. A denial is a ``Decision`` (not an exception): answer with its
        ``status`` and ``headers``. ``client_cert``: the mTLS client certificate (DER).
        """
        p = self._ptr()
        req = _build_request(method, url, headers, client_cert, now)
        try:
            out = ffi.new("struct oidc_decision **")
            err = _new_err()
            _raise_for(lib.oidc_authenticate(p, req, out, err), err)
            d = out[0]
            try:
                return _read_decision(d)
            finally:
                lib.oidc_decision_free(d)
        finally:
            lib.oidc_http_request_free(req)

    # ---- policy document, explain mode ----

    def policy_json(self) -> str:
        """This validator's configuration as a policy document (JSON text, every member written,
        defaults included; ``oidc_validator_policy_json``). ``Validator(policy=v.policy_json())``
        builds a validator deciding the same. Not in it: the DPoP nonce secret, a replay store,
        the prefetch mode and the decryption keys (secrets: give them again as keywords). The
        decryption algorithms, ``accept_encrypted`` and the revocation list are in it (members
        ``decryption`` and ``revocation``)."""
        p = self._ptr()
        out, n, err = ffi.new("char **"), ffi.new("size_t *"), _new_err()
        _raise_for(lib.oidc_validator_policy_json(p, out, n, err), err)
        return _take_text(out[0], n[0])

    def explain(self, token: StrOrBytes, now: Optional[int] = None) -> Dict[str, Any]:
        """Every check of validating ``token`` with its outcome, as the parsed JSON document of
        ``oidc_validate_explain``: ``decision`` ("allow"/"deny"), ``code``, ``issuer`` (which issuer
        was chosen and why: ``chosen``, ``index``, ``iss``), ``header``, ``checks`` (a list of
        ``{"check", "outcome", ...}``), ... A refused token is not an exception here: its
        explanation says ``"decision": "deny"``. It never holds the token text or its signature.
        ``now``: seconds since the epoch to check exp/nbf/iat at (None, like the library's 0: now). Blocks like
        ``validate`` (may fetch keys); never uses the verified-token cache."""
        p = self._ptr()
        t = _bytes(token, "token")
        at = 0 if now is None else _int64(now, "now")
        out, n, err = ffi.new("char **"), ffi.new("size_t *"), _new_err()
        _raise_for(lib.oidc_validate_explain(p, t, len(t), at, out, n, err), err)
        return _json_object(_take_text(out[0], n[0]))

    def explain_request(self, method: StrOrBytes, url: StrOrBytes, headers: Headers, *,
                        client_cert: Optional[bytes] = None, now: Optional[int] = None) -> Dict[str, Any]:
        """Every rule of ``authenticate`` for this request with its outcome, as the parsed JSON
        document of ``oidc_authenticate_explain`` (the credentials, the DPoP proof, the token's own
        explanation under ``token``, the binding, each required scope and claim-value rule;
        ``decision`` "allow"/"deny"). Same arguments as ``authenticate``; no side effect (a
        proof's ``jti`` is not recorded); never the token or proof text."""
        p = self._ptr()
        req = _build_request(method, url, headers, client_cert, now)
        try:
            out, n, err = ffi.new("char **"), ffi.new("size_t *"), _new_err()
            _raise_for(lib.oidc_authenticate_explain(p, req, out, n, err), err)
            return _json_object(_take_text(out[0], n[0]))
        finally:
            lib.oidc_http_request_free(req)

    # ---- asyncio ----

    async def validate_async(self, token: StrOrBytes, *, timeout: Optional[float] = None,
                             cancel: Optional[_aio.Cancel] = None) -> Claims:
        """``validate`` on the library's worker pool (no Python thread): cancelling the task cancels it."""
        p = self._ptr()
        t = _bytes(token, "token")
        return await _aio.start(
            "oidc_validate_cb",
            lambda cb, ud, c, err: lib.oidc_validate_async(p, t, len(t), cb, ud, c, err),
            _claims_from_cb, timeout=timeout, cancel=cancel)

    async def validate_at_async(self, token: StrOrBytes, now: int, *, timeout: Optional[float] = None,
                                cancel: Optional[_aio.Cancel] = None) -> Claims:
        p = self._ptr()
        t = _bytes(token, "token")
        now = _int64(now, "now")
        return await _aio.start(
            "oidc_validate_cb",
            lambda cb, ud, c, err: lib.oidc_validate_at_async(p, t, len(t), now, cb, ud, c, err),
            _claims_from_cb, timeout=timeout, cancel=cancel)

    async def authenticate_async(self, method: StrOrBytes, url: StrOrBytes, headers: Headers, *,
                                 client_cert: Optional[bytes] = None, now: Optional[int] = None,
                                 timeout: Optional[float] = None,
                                 cancel: Optional[_aio.Cancel] = None) -> Decision:
        p = self._ptr()
        req = _build_request(method, url, headers, client_cert, now)
        try:
            fut = _aio.start(
                "oidc_decision_cb",
                lambda cb, ud, c, err: lib.oidc_authenticate_async(p, req, cb, ud, c, err),
                lambda d, err: _read_decision(d), timeout=timeout, cancel=cancel)
        finally:
            lib.oidc_http_request_free(req)  # the library copied it
        return await fut

    async def prefetch_async(self, *, timeout: Optional[float] = None,
                             cancel: Optional[_aio.Cancel] = None) -> None:
        p = self._ptr()
        await _aio.start(
            "oidc_done_cb",
            lambda cb, ud, c, err: lib.oidc_validator_prefetch_async(p, cb, ud, c, err),
            lambda err: None, timeout=timeout, cancel=cancel)

    # ---- warm start ----

    def export_snapshot(self) -> str:
        """This validator's key cache as a JSON snapshot (see ``liboidc.export_snapshot``)."""
        from .process import export_snapshot

        return export_snapshot(self)

    def import_snapshot(self, snapshot: StrOrBytes) -> int:
        from .process import import_snapshot

        return import_snapshot(snapshot, self)


def _take_text(p: Any, n: int) -> str:
    """Copy an owned (char *, length) from the library into a str and free it."""
    try:
        raw: bytes = ffi.buffer(p, n)[:]
        return raw.decode("utf-8")
    finally:
        _string_free(p)


def _json_object(text: str) -> Dict[str, Any]:
    d = json.loads(text)
    if not isinstance(d, dict):  # pragma: no cover - the library returns an object
        raise ValueError("the explanation is not a JSON object")
    return d


def _claims_from_cb(claims: Any, n: int, err: Any) -> Claims:
    return Claims(ffi.buffer(claims, n)[:])


def _int64(v: Any, what: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise TypeError(f"{what} must be an int (seconds since the epoch), not {type(v).__name__}")
    if not -(2**63) <= v < 2**63:
        raise ValueError(f"{what} is out of the 64-bit range")
    return v


def _header_items(headers: Headers) -> Iterator[Tuple[Any, Any]]:
    if isinstance(headers, Mapping):
        getlist = getattr(headers, "getlist", None) or getattr(headers, "get_all", None)
        if getlist is not None:  # a multi-dict (Starlette/Werkzeug Headers): every line
            for name in ("authorization", "dpop"):
                for v in getlist(name) or ():
                    yield name, v
            return
        yield from headers.items()
        return
    if headers is None or isinstance(headers, (str, bytes)):
        raise TypeError("headers must be a mapping or an iterable of (name, value) pairs")
    for item in headers:
        try:
            name, value = item
        except (TypeError, ValueError):
            raise TypeError("headers must be a mapping or an iterable of (name, value) pairs") from None
        yield name, value


def _build_request(method: Any, url: Any, headers: Headers, client_cert: Optional[bytes],
                   now: Optional[int]) -> Any:
    m = _bytes(method, "method")
    u = _bytes(url, "url")
    lines = []
    for name, value in _header_items(headers):
        n = _bytes(name, "header name")
        ln = n.lower()
        if ln == b"authorization" or ln == b"dpop":
            v = value.encode("latin-1", "replace") if isinstance(value, str) else _bytes(value, "header value")
            lines.append((n, v))
    if client_cert is not None and not isinstance(client_cert, (bytes, bytearray, memoryview)):
        raise TypeError("client_cert must be DER bytes or None")
    if now is not None:
        now = _int64(now, "now")
    out = ffi.new("struct oidc_http_request **")
    err = _new_err()
    _raise_for(lib.oidc_http_request_new(out, err), err)
    req = out[0]
    try:
        _raise_for(lib.oidc_http_request_set_method(req, m, len(m), err), err)
        _raise_for(lib.oidc_http_request_set_url(req, u, len(u), err), err)
        for n, v in lines:
            _raise_for(lib.oidc_http_request_add_header(req, n, len(n), v, len(v), err), err)
        if client_cert is not None:
            der = bytes(client_cert)
            _raise_for(lib.oidc_http_request_set_client_cert(req, der, len(der), err), err)
        if now is not None:
            _raise_for(lib.oidc_http_request_set_now(req, now, err), err)
    except BaseException:
        lib.oidc_http_request_free(req)
        raise
    return req


def _replay_adapter(store: Callable[[str, int], Optional[bool]]) -> Callable[..., int]:
    def cb(user_data: Any, key: Any, key_len: int, ttl: int) -> int:
        try:
            r = store(ffi.buffer(key, key_len)[:].decode("ascii"), int(ttl))
        except Exception:
            return -1
        if r is None:
            return -1
        return 1 if r else 0

    return cb
