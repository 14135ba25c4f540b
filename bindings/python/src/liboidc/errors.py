"""Exceptions mapped from liboidc's result codes.

::

    OidcError                 every failure liboidc reports (and the binding's own: ClosedError)
      UsageError      1-99    API misuse and call control (QueueFullError, DeadlineExceededError,
                              OidcCancelledError, ...)
      ConfigError     100s    configuration and discovery (InvalidConfigError, CAFileError, ...)
      NetworkError    200s    network and HTTP (NetworkTimeoutError, TLSError, KeysUnavailableError, ...)
      TokenError      300s    token validation (TokenExpiredError, SignatureInvalidError, ...)
        RequestError  320-339 request authentication (TokenMissingError, DPoPReplayError, ...)
      OAuthError      400s    OAuth error responses (InvalidGrantError, ...); code 400 is OAuthError itself
      ProtocolError   500s    protocol checks on responses (StateMismatchError, ...)

The class of every code is generated from codes.in into ``_codes.py`` (scripts/gen-codes.py); a
code a newer library adds still lands in its range's class.
"""

from __future__ import annotations

import json
from typing import Any, Dict, Mapping, Optional, Type, Union

__all__ = [
    "OidcError", "UsageError", "ConfigError", "NetworkError", "TokenError", "RequestError", "OAuthError",
    "ProtocolError", "ClosedError", "error_class",
]


class OidcError(Exception):
    """A liboidc failure.

    Attributes: ``code`` (the numeric oidc_result, None for the binding's own errors), ``code_name``
    ("TOKEN_EXPIRED"), ``message`` (English, never secrets), ``http_status`` (what a resource server
    answers its caller: 401, 503 or 500), ``www_authenticate`` (a ready RFC 6750 challenge, e.g.
    ``Bearer error="invalid_token", ...``), ``oauth_error`` (the RFC 6750 error for the caller,
    "invalid_token", or None), ``details`` (the library's details JSON as a dict), and the identity
    provider's OAuth error fields ``error``, ``error_description``, ``error_uri`` when the failure
    is its answer (else None).
    """

    CODE: Optional[int] = None
    NAME: Optional[str] = None

    def __init__(
        self,
        message: Optional[str] = None,
        *,
        code: Optional[int] = None,
        code_name: Optional[str] = None,
        http_status: int = 500,
        www_authenticate: str = "Bearer",
        oauth_error: Optional[str] = None,
        details: Optional[Mapping[str, Any]] = None,
        error: Optional[str] = None,
        error_description: Optional[str] = None,
        error_uri: Optional[str] = None,
    ) -> None:
        self.code: Optional[int] = code if code is not None else type(self).CODE
        self.code_name: Optional[str] = code_name or type(self).NAME
        self.message: str = message if message is not None else (self.code_name or type(self).__name__)
        self.http_status: int = http_status
        self.www_authenticate: str = www_authenticate
        self.oauth_error: Optional[str] = oauth_error
        self.details: Dict[str, Any] = dict(details or {})
        self.error: Optional[str] = error
        self.error_description: Optional[str] = error_description
        self.error_uri: Optional[str] = error_uri
        super().__init__(self.message)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code_name or '-'}({self.code if self.code is not None else '-'}): {self.message!r})"

    def __reduce__(self) -> Any:  # picklable (multiprocessing, logging handlers)
        kw = dict(code=self.code, code_name=self.code_name, http_status=self.http_status,
                  www_authenticate=self.www_authenticate, oauth_error=self.oauth_error, details=self.details,
                  error=self.error, error_description=self.error_description, error_uri=self.error_uri)
        return (_rebuild, (type(self), self.message, kw))


def _rebuild(cls: Type[OidcError], message: str, kw: Dict[str, Any]) -> OidcError:
    return cls(message, **kw)


class UsageError(OidcError):
    """API misuse (1-6) and call control (7-9)."""


class ConfigError(OidcError):
    """Configuration and discovery (100-199)."""


class NetworkError(OidcError):
    """Network and HTTP (200-299); code 200 (NETWORK) itself."""

    CODE = 200
    NAME = "NETWORK"


class TokenError(OidcError):
    """Token validation (300-319)."""


class RequestError(TokenError):
    """Request authentication (320-339): the codes of a denying decision."""


class OAuthError(OidcError):
    """OAuth error responses (400-499); code 400 (an ``error`` liboidc has no name for) itself."""

    CODE = 400
    NAME = "OAUTH_ERROR"


class ProtocolError(OidcError):
    """Protocol checks on responses (500-599)."""


class ClosedError(UsageError):
    """A method was called on a validator or client after ``close()`` (raised by the binding)."""

    NAME = "CLOSED"

    def __init__(self, message: str = "the object is closed", **kw: Any) -> None:
        super().__init__(message, **kw)


from ._codes import *  # noqa: E402,F401,F403  (the per-code classes; needs the bases above)
from ._codes import CODES, RANGES  # noqa: E402
from ._codes import __all__ as _code_classes  # noqa: E402

__all__ += list(_code_classes)


def error_class(code: int) -> Type[OidcError]:
    """The exception class of a result code: its own, else its range's, else OidcError."""
    entry = CODES.get(code)
    if entry is not None:
        return entry[2]
    for lo, hi, cls in RANGES:
        if lo <= code <= hi:
            return cls
    return OidcError


def code_name(code: int) -> str:
    entry = CODES.get(code)
    return entry[0] if entry else f"UNKNOWN_{code}"


# ---- native plumbing (used by the rest of the package and by oauth.py) ------------------------

from ._native import ffi, lib  # noqa: E402

_NULL = ffi.NULL


def _cstr(p: Any) -> Optional[str]:
    """A borrowed NUL-terminated char* as str (None for NULL). Invalid UTF-8 is replaced, never raised."""
    if p == _NULL:
        return None
    return ffi.string(p).decode("utf-8", "replace")


def _from_native(rc: int, err: Any) -> OidcError:
    """The exception for a failure: reads a *borrowed* oidc_error* (may be NULL); frees nothing."""
    rc = int(rc)
    if err == _NULL:
        return error_class(rc)(None, code=rc, code_name=code_name(rc))
    code = int(lib.oidc_error_code(err)) or rc
    details_s = _cstr(lib.oidc_error_details_json(err)) or ""
    try:
        details = json.loads(details_s) if details_s else {}
        if not isinstance(details, dict):
            details = {}
    except ValueError:
        details = {}
    return error_class(code)(
        _cstr(lib.oidc_error_message(err)) or code_name(code),
        code=code,
        code_name=details.get("name") or code_name(code),
        http_status=int(lib.oidc_error_http_status(err)) or 500,
        www_authenticate=_cstr(lib.oidc_error_www_authenticate(err)) or "Bearer",
        oauth_error=_cstr(lib.oidc_error_oauth_error(err)),
        details=details,
        error=_cstr(lib.oidc_error_server_error(err, lib.OIDC_FIELD_ERROR)),
        error_description=_cstr(lib.oidc_error_server_error(err, lib.OIDC_FIELD_ERROR_DESCRIPTION)),
        error_uri=_cstr(lib.oidc_error_server_error(err, lib.OIDC_FIELD_ERROR_URI)),
    )


def _take_error(rc: int, err: Any) -> OidcError:
    """The exception for a failure whose *owned* oidc_error* (may be NULL) this frees."""
    try:
        return _from_native(rc, err)
    finally:
        if err != _NULL:
            lib.oidc_error_free(err)


def _raise_for(rc: int, err_ptr: Any) -> None:
    """Raise for a failed call (rc != 0) and free its error object.

    ``err_ptr`` is the ``struct oidc_error **`` passed as the call's ``err_out`` (or the
    ``struct oidc_error *`` itself, or NULL). Returns quietly on OK (freeing a stray error object).
    """
    err = _NULL
    if err_ptr is not None and err_ptr != _NULL:
        if ffi.typeof(err_ptr) is ffi.typeof("struct oidc_error **"):
            err, err_ptr[0] = err_ptr[0], _NULL
        else:
            err = err_ptr
    if rc == 0:
        if err != _NULL:
            lib.oidc_error_free(err)
        return
    raise _take_error(rc, err)


def _new_err() -> Any:
    """A fresh ``struct oidc_error **`` (NULL) for a call's err_out."""
    return ffi.new("struct oidc_error **")


BytesLike = Union[str, bytes, bytearray, memoryview]


def _bytes(value: Any, what: str = "value") -> bytes:
    """An input string argument as bytes: str is UTF-8 encoded, bytes-like is taken as is.

    Anything else (None, int, ...) is a TypeError naming the argument; a str that cannot be
    encoded (lone surrogates) is a ValueError. Invalid UTF-8 *bytes* pass through: the library
    answers them with a precise code (INVALID_UTF8, or TOKEN_MALFORMED for a token).
    """
    if isinstance(value, str):
        try:
            return value.encode("utf-8")
        except UnicodeEncodeError as e:
            raise ValueError(f"{what}: not encodable as UTF-8 ({e.reason} at {e.start})") from None
    if isinstance(value, bytes):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    raise TypeError(f"{what} must be str or bytes, not {type(value).__name__}")


def _cbytes(value: Any, what: str = "value") -> bytes:
    """Like ``_bytes`` for arguments the C side takes NUL-terminated: an embedded NUL is a ValueError."""
    b = _bytes(value, what)
    if b"\0" in b:
        raise ValueError(f"{what} contains a NUL character")
    return b


def _opt_bytes(value: Any, what: str = "value") -> Any:
    """``_cbytes`` for an optional argument: None -> ffi.NULL."""
    return _NULL if value is None else _cbytes(value, what)


def _take_string(p: Any, length: Optional[int] = None) -> str:
    """Copy an *owned* char* (oidc_string_free) into a str and free it."""
    try:
        if p == _NULL:
            return ""
        raw = ffi.buffer(p, length)[:] if length is not None else ffi.string(p)
        return raw.decode("utf-8")
    finally:
        if p != _NULL:
            lib.oidc_string_free(p)
