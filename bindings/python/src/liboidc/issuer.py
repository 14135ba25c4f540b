"""Several issuers per validator: ``Issuer`` and ``TenantBounds`` (``Validator(issuers=[...])``).

An ``Issuer`` is plain data (a frozen dataclass): it holds one issuer's settings and nothing
native, so one instance may be passed to any number of validators. ``Validator`` turns each into
an ``oidc_issuer_builder`` (one setter per field) and hands it to
``oidc_validator_builder_add_issuer``, which consumes it; the binding decides nothing: which
issuer a token goes to, and what is valid, is the library's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, NamedTuple, Optional, Sequence, Tuple, Union

from ._native import ffi, lib
from .errors import ClosedError, OidcError, _bytes, _new_err, _take_error

__all__ = ["Issuer", "TenantBounds"]

_NULL = ffi.NULL
_U32 = 0xFFFFFFFF

StrOrBytes = Union[str, bytes]


class TenantBounds(NamedTuple):
    """The per-tenant state bounds of a template issuer (``oidc_issuer_builder_set_tenant_bounds``).

    At most ``max_tenants`` tenants kept (least recently used evicted), ``new_per_window`` new
    tenants per ``window_secs`` and ``max_in_flight`` first fetches at once; a new tenant beyond
    them is refused (``KeysUnavailableError``) without a request. 0 (the default of each field)
    keeps the library's default for that bound.
    """

    max_tenants: int = 0
    new_per_window: int = 0
    window_secs: int = 0
    max_in_flight: int = 0


def _str_tuple(value: Any, what: str) -> Tuple[StrOrBytes, ...]:
    """A str or an iterable of str/bytes as a tuple (a type check only; values are the library's)."""
    if isinstance(value, (str, bytes)):
        return (value,)
    try:
        items = tuple(value)
    except TypeError:
        raise TypeError(f"{what} must be a string or an iterable of strings, not {type(value).__name__}") from None
    for v in items:
        if not isinstance(v, (str, bytes)):
            raise TypeError(f"{what} must hold strings, not {type(v).__name__}")
    return items


def _opt_str(value: Any, what: str) -> None:
    if value is not None and not isinstance(value, (str, bytes)):
        raise TypeError(f"{what} must be str or bytes, not {type(value).__name__}")


def _flag(value: Any, what: str) -> None:
    if not isinstance(value, bool):
        raise TypeError(f"{what} must be a bool, not {type(value).__name__}")


@dataclass(frozen=True)
class Issuer:
    """One more issuer of a ``Validator``: its own keys, audiences, algorithms, ``typ`` and
    required claims; what is unset here is the validator's (``oidc_issuer_builder_*``).

    ``issuer``: the exact issuer, or a template with one ``{tenant}``
    (``"https://login.example.com/{tenant}/v2.0"``), which needs ``tenants=[...]`` (an
    allow-list) or ``any_tenant=True``; ``tenant_claim`` is the claim that must equal the tenant
    (library default ``tid``) and ``tenant_bounds`` a ``TenantBounds``. Keys: discovery (default),
    ``jwks_uri``, or ``jwks_json`` (str/bytes, or a dict). ``audiences`` (str or list; none:
    the validator's) or ``any_audience=True``; ``algorithms`` ("RS256,ES256" or a list);
    ``expected_typ``; ``required_claims`` (in addition to the validator's).

    Types are checked here (``TypeError``/``ValueError``); values are the library's to check when
    the validator is built: a refused setting (``algorithms="HS256"``) raises with
    ``issuers[i].<field>`` in the message, what it checks as a whole (a template without a tenant
    choice, a malformed tenant) raises from the build (``configuration: ...``).
    """

    issuer: StrOrBytes
    audiences: Union[StrOrBytes, Sequence[StrOrBytes]] = ()
    any_audience: bool = False
    algorithms: Union[StrOrBytes, Sequence[StrOrBytes], None] = None
    jwks_uri: Optional[StrOrBytes] = None
    jwks_json: Union[StrOrBytes, Mapping[str, Any], None] = None
    expected_typ: Optional[StrOrBytes] = None
    required_claims: Sequence[StrOrBytes] = ()
    tenants: Sequence[StrOrBytes] = ()
    any_tenant: bool = False
    tenant_claim: Optional[StrOrBytes] = None
    tenant_bounds: Optional[TenantBounds] = field(default=None)

    def __post_init__(self) -> None:
        if not isinstance(self.issuer, (str, bytes)):
            raise TypeError(f"issuer must be str or bytes, not {type(self.issuer).__name__}")
        # sequences become tuples: the instance is immutable and hashable
        set_ = object.__setattr__
        set_(self, "audiences", _str_tuple(self.audiences, "audiences"))
        set_(self, "required_claims", _str_tuple(self.required_claims, "required_claims"))
        set_(self, "tenants", _str_tuple(self.tenants, "tenants"))
        if self.algorithms is not None:
            set_(self, "algorithms", _str_tuple(self.algorithms, "algorithms"))
        for name in ("jwks_uri", "expected_typ", "tenant_claim"):
            _opt_str(getattr(self, name), name)
        if self.jwks_json is not None and not isinstance(self.jwks_json, (str, bytes, Mapping)):
            raise TypeError(f"jwks_json must be str, bytes or a mapping, not {type(self.jwks_json).__name__}")
        if isinstance(self.jwks_json, Mapping):
            set_(self, "jwks_json", json.dumps(dict(self.jwks_json)))  # frozen: a snapshot of the dict
        _flag(self.any_audience, "any_audience")
        _flag(self.any_tenant, "any_tenant")
        tb = self.tenant_bounds
        if tb is not None:
            if not isinstance(tb, tuple) or len(tb) != 4:
                raise TypeError("tenant_bounds must be a TenantBounds (max_tenants, new_per_window, window_secs, max_in_flight)")
            for name, v in zip(TenantBounds._fields, tb):
                if isinstance(v, bool) or not isinstance(v, int):
                    raise TypeError(f"tenant_bounds.{name} must be an int, not {type(v).__name__}")
                if not 0 <= v <= _U32:
                    raise ValueError(f"tenant_bounds.{name} = {v} is out of range (0 to {_U32})")
            set_(self, "tenant_bounds", TenantBounds(*tb))

    @classmethod
    def coerce(cls, value: Union["Issuer", Mapping[str, Any]]) -> "Issuer":
        """An ``Issuer`` as is, or one from a mapping of its fields (``{"issuer": ..., ...}``)."""
        if isinstance(value, Issuer):
            return value
        if isinstance(value, Mapping):
            return cls(**value)
        raise TypeError(f"an issuer must be a liboidc.Issuer or a mapping of its fields, not {type(value).__name__}")


class _IssuerBuilder:
    """An owned ``oidc_issuer_builder``: set up from an ``Issuer``, then consumed once by
    ``add_to`` (or freed by ``free``). Any use after that raises ``ClosedError``."""

    __slots__ = ("_p", "_consumed")

    def __init__(self, issuer: StrOrBytes) -> None:
        self._p: Any = None
        self._consumed = False
        v = _bytes(issuer, "issuer")
        out = ffi.new("struct oidc_issuer_builder **")
        err = _new_err()
        rc = lib.oidc_issuer_builder_new(v, len(v), out, err)
        if rc != 0:
            raise _take_error(rc, err[0])
        self._p = out[0]

    def _ptr(self) -> Any:
        if self._p is None:
            raise ClosedError("the issuer builder was consumed by add_issuer (or freed); make a new one"
                              if self._consumed else "the issuer builder was freed")
        return self._p

    def call(self, what: str, fn: Callable[..., int], *args: Any) -> None:
        """``fn(builder, *args, err)``; raises the library's error with ``what`` in front."""
        err = _new_err()
        rc = fn(self._ptr(), *args, err)
        if rc != 0:
            exc = _take_error(rc, err[0])
            exc.message = f"{what}: {exc.message}"
            exc.args = (exc.message,)
            raise exc

    def set_str(self, what: str, fn: Callable[..., int], value: Any) -> None:
        v = _bytes(value, what)
        self.call(what, fn, v, len(v))

    def add_to(self, validator_builder: Any, what: str) -> None:
        """``oidc_validator_builder_add_issuer``: consumes this builder whatever the outcome."""
        p = self._ptr()
        self._p, self._consumed = None, True
        err = _new_err()
        rc = lib.oidc_validator_builder_add_issuer(validator_builder, p, err)
        if rc != 0:
            exc = _take_error(rc, err[0])
            exc.message = f"{what}: {exc.message}"
            exc.args = (exc.message,)
            raise exc

    def free(self) -> None:
        p, self._p = self._p, None
        if p is not None:
            lib.oidc_issuer_builder_free(p)

    def __del__(self) -> None:  # an exception between new and add_to: nothing leaks
        try:
            self.free()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass


def _build(spec: Issuer, what: str) -> _IssuerBuilder:
    """A native issuer builder with every field of ``spec`` set (one setter each)."""
    try:
        ib = _IssuerBuilder(spec.issuer)
    except OidcError as e:
        e.message = f"{what}.issuer: {e.message}"
        e.args = (e.message,)
        raise
    try:
        w = what + "."
        if spec.jwks_uri is not None:
            ib.set_str(w + "jwks_uri", lib.oidc_issuer_builder_set_jwks_uri, spec.jwks_uri)
        if spec.jwks_json is not None:
            ib.set_str(w + "jwks_json", lib.oidc_issuer_builder_set_jwks_json, spec.jwks_json)
        for a in spec.audiences:
            ib.set_str(w + "audiences", lib.oidc_issuer_builder_add_audience, a)
        if spec.any_audience:
            ib.call(w + "any_audience", lib.oidc_issuer_builder_set_any_audience, 1)
        if spec.algorithms is not None:
            algs = b",".join(_bytes(a, w + "algorithms") for a in spec.algorithms)
            ib.call(w + "algorithms", lib.oidc_issuer_builder_set_algorithms, algs, len(algs))
        if spec.expected_typ is not None:
            ib.set_str(w + "expected_typ", lib.oidc_issuer_builder_set_expected_typ, spec.expected_typ)
        for c in spec.required_claims:
            ib.set_str(w + "required_claims", lib.oidc_issuer_builder_add_required_claim, c)
        for t in spec.tenants:
            ib.set_str(w + "tenants", lib.oidc_issuer_builder_add_tenant, t)
        if spec.any_tenant:
            ib.call(w + "any_tenant", lib.oidc_issuer_builder_set_any_tenant, 1)
        if spec.tenant_claim is not None:
            ib.set_str(w + "tenant_claim", lib.oidc_issuer_builder_set_tenant_claim, spec.tenant_claim)
        if spec.tenant_bounds is not None:
            ib.call(w + "tenant_bounds", lib.oidc_issuer_builder_set_tenant_bounds, *spec.tenant_bounds)
    except BaseException:
        ib.free()
        raise
    return ib
