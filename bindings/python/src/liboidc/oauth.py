"""The OAuth 2.0 / OpenID Connect protocol client over liboidc's request object.

Every protocol operation is one ``oidc_oauth_request``: ``OAuthClient.request(Operation.X)``
gives it as an :class:`OAuthRequest` (typed setters, ``send`` blocking with the GIL released by
cffi, ``await send_async`` over ``oidc_oauth_send_async``). The per-operation methods of
:class:`OAuthClient` (``client_credentials``, ``refresh``, ``device_authorization``, ...) are each
written once, as a *plan* (operation, parameters, how to read the answer); the blocking method
and its ``_async`` twin are the same plan sent two ways.

Which parameter applies to which operation, which are required and what values they may take is
liboidc's rule: a wrong one raises ``liboidc.InvalidArgumentError`` with liboidc's
message. The binding only converts Python values (``str``/``bytes`` as UTF-8, lists item by
item, ``bool`` as 0/1, seconds as milliseconds).
"""

from __future__ import annotations

import asyncio
import base64
import builtins
import json
import threading
import time
import weakref
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import (
    Any,
    Callable,
    Coroutine,
    Dict,
    List,
    Set,
    Tuple,
    Generic,
    Iterable,
    Iterator,
    Mapping,
    Optional,
    TypeVar,
    Union,
    cast,
    overload,
)

from typing import Concatenate, ParamSpec  # Python >= 3.10 (pyproject: requires-python)

from . import _aio, errors
from ._aio import Cancel
from ._native import ffi, lib
from .jose import DecryptionKey, add_decryption_options
from .oauth_enums import Field, Operation, Param
from .validator import Claims, _replay_adapter, _replay_keepalive, _strs

__all__ = [
    "Operation",
    "Param",
    "Field",
    "Cancel",
    "OAuthClient",
    "OAuthRequest",
    "OAuthResponse",
    "Token",
    "PendingAuthorization",
    "DeviceAuthorization",
    "CibaRequest",
    "AuthorizationRequest",
    "PushedAuthorizationRequest",
    "AuthorizationResponse",
    "Registration",
    "ResourceResponse",
    "LogoutToken",
    "Payload",
    "DecryptionKey",
    "TOKEN_TYPE_ACCESS_TOKEN",
]

TOKEN_TYPE_ACCESS_TOKEN = "urn:ietf:params:oauth:token-type:access_token"

T = TypeVar("T")
P = ParamSpec("P")

StrLike = Union[str, bytes]
Items = Union[StrLike, Iterable[StrLike]]
Params = Mapping[str, Union[StrLike, int, Iterable[StrLike], None]]

_MAX_MS = 0xFFFFFFFF


# ---------------------------------------------------------------------------------------------
# conversion helpers (plumbing only)


def _closed_error(what: str) -> Exception:
    cls = getattr(errors, "ClosedError", None)
    if cls is not None:
        try:
            return cast(Exception, cls(f"{what} is closed"))
        except TypeError:  # pragma: no cover - a ClosedError with another signature
            pass
    return ValueError(f"{what} is closed")


_arg = errors._bytes  # str as UTF-8, bytes as they are, anything else a TypeError


def _seconds_ms(seconds: Any, name: str) -> int:
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise TypeError(f"{name}: expected seconds as int or float, got {type(seconds).__name__}")
    if seconds != seconds or seconds <= 0:  # NaN or not positive
        raise ValueError(f"{name} must be > 0 seconds, got {seconds!r}")
    ms = int(-(-seconds * 1000 // 1))  # ceil: any positive value is at least 1 ms
    if ms > _MAX_MS:
        raise ValueError(f"{name} must be at most {_MAX_MS // 1000} seconds, got {seconds!r}")
    return ms


def _cstr(p: Any) -> Optional[str]:
    if p == ffi.NULL:
        return None
    return cast(bytes, ffi.string(p)).decode("utf-8", "replace")


def _check(rc: int, err: Any) -> None:
    if rc != 0:
        errors._raise_for(rc, err[0])


def _param(p: Union[Param, int, str]) -> Param:
    if isinstance(p, Param):
        return p
    if isinstance(p, str):
        try:
            return Param[p.upper()]
        except KeyError:
            raise ValueError(f"unknown parameter {p!r} (one of {', '.join(m.name.lower() for m in Param)})") from None
    if isinstance(p, int) and not isinstance(p, bool):
        try:
            return Param(p)
        except ValueError:
            raise ValueError(f"unknown parameter number {p}") from None
    raise TypeError(f"parameter: expected Param, str or int, got {type(p).__name__}")


def _field(f: Union[Field, int, str]) -> Field:
    if isinstance(f, Field):
        return f
    if isinstance(f, str):
        try:
            return Field[f.upper()]
        except KeyError:
            raise ValueError(f"unknown field {f!r} (one of {', '.join(m.name.lower() for m in Field)})") from None
    if isinstance(f, int) and not isinstance(f, bool):
        try:
            return Field(f)
        except ValueError:
            raise ValueError(f"unknown field number {f}") from None
    raise TypeError(f"field: expected Field, str or int, got {type(f).__name__}")


def _operation(op: Union[Operation, int, str]) -> Operation:
    if isinstance(op, Operation):
        return op
    if isinstance(op, str):
        try:
            return Operation[op.upper()]
        except KeyError:
            raise ValueError(f"unknown operation {op!r} (one of {', '.join(m.name.lower() for m in Operation)})") from None
    if isinstance(op, int) and not isinstance(op, bool):
        try:
            return Operation(op)
        except ValueError:
            raise ValueError(f"unknown operation number {op}") from None
    raise TypeError(f"operation: expected Operation, str or int, got {type(op).__name__}")


def _param_kind(p: Param) -> str:
    """The header's numbering: strings below 100, lists 100-199, integers from 200."""
    return "string" if p < 100 else ("list" if p < 200 else "int")


# ---------------------------------------------------------------------------------------------
# native handles


class _Handle:
    """An owned native pointer shared by threads: ``use()`` for calls that only read it (any
    number at once, the lock not held during the call), ``exclusive()`` for calls that change
    it (waits for the readers), ``close()`` frees it at once or, when calls are running, when
    the last of them returns. A forgotten handle is freed by the garbage collector."""

    __slots__ = ("_ptr", "_users", "_closed", "_cond", "_fin", "_what", "__weakref__")

    def __init__(self, ptr: Any, free: Callable[[Any], None], what: str) -> None:
        self._ptr = ptr
        self._users = 0
        self._closed = False
        self._cond = threading.Condition(threading.Lock())
        self._what = what
        self._fin = weakref.finalize(self, free, ptr)

    @contextmanager
    def use(self) -> Iterator[Any]:
        with self._cond:
            if self._closed:
                raise _closed_error(self._what)
            self._users += 1
        try:
            yield self._ptr
        finally:
            with self._cond:
                self._users -= 1
                last = self._users == 0
                if last:
                    self._cond.notify_all()
            if last and self._closed:
                self._fin()

    @contextmanager
    def exclusive(self) -> Iterator[Any]:
        with self._cond:
            while self._users and not self._closed:
                self._cond.wait()
            if self._closed:
                raise _closed_error(self._what)
            yield self._ptr

    def close(self) -> None:
        with self._cond:
            if self._closed:
                return
            self._closed = True
            free_now = self._users == 0
        if free_now:
            self._fin()

    @property
    def closed(self) -> bool:
        return self._closed


# ---------------------------------------------------------------------------------------------
# cancel handle


@contextmanager
def _cancel_for(cancel: Optional[Cancel], deadline: Optional[float]) -> Iterator[Any]:
    """The native cancel pointer of a send: the caller's handle, or an own one for ``deadline``
    seconds, or NULL."""
    _check_cancel(cancel, deadline)
    if deadline is not None:
        own = Cancel(timeout=deadline)
        try:
            yield own.ptr
        finally:
            own.close()
    elif cancel is not None:
        with cancel.use() as cp:  # a close() meanwhile frees it after this send
            yield cp
    else:
        yield ffi.NULL


def _check_cancel(cancel: Optional[Cancel], deadline: Optional[float]) -> None:
    if cancel is not None:
        if not isinstance(cancel, Cancel):
            raise TypeError(f"cancel: expected a liboidc.Cancel, got {type(cancel).__name__}")
        if cancel.ptr == ffi.NULL:
            raise _closed_error("Cancel")
    if deadline is not None:
        if cancel is not None:
            raise ValueError("give either cancel= or deadline= (Cancel(timeout=...) has both)")
        _seconds_ms(deadline, "deadline")


# ---------------------------------------------------------------------------------------------
# response


class _StrField:
    """A string field of an :class:`OAuthResponse` (``None`` when absent)."""

    def __init__(self, f: Field) -> None:
        self.f = f

    @overload
    def __get__(self, obj: None, owner: type) -> "_StrField": ...
    @overload
    def __get__(self, obj: "OAuthResponse", owner: type) -> Optional[str]: ...
    def __get__(self, obj: Any, owner: type) -> Any:
        if obj is None:
            return self
        return obj.string(self.f)


class _IntField:
    """An integer field of an :class:`OAuthResponse` (``None`` when absent)."""

    def __init__(self, f: Field) -> None:
        self.f = f

    @overload
    def __get__(self, obj: None, owner: type) -> "_IntField": ...
    @overload
    def __get__(self, obj: "OAuthResponse", owner: type) -> Optional[int]: ...
    def __get__(self, obj: Any, owner: type) -> Any:
        if obj is None:
            return self
        return obj.int(self.f)


class OAuthResponse:
    """The answer to a request (``oidc_oauth_response``): typed fields as attributes
    (``access_token``, ``expires_in``, ``device_code``, ``url``, ``http_status``, ...; ``None``
    when absent), :meth:`string` / :meth:`int` by :class:`Field`, and :attr:`json` (the server's
    body, or the object liboidc made for a local operation).

    It holds secrets (tokens, codes): ``repr`` shows none of them. Owns the native response:
    :meth:`close` (or ``with``) frees it now, the garbage collector otherwise.
    """

    access_token = _StrField(Field.ACCESS_TOKEN)
    token_type = _StrField(Field.TOKEN_TYPE)
    refresh_token = _StrField(Field.REFRESH_TOKEN)
    id_token = _StrField(Field.ID_TOKEN)
    scope = _StrField(Field.SCOPE)
    issued_token_type = _StrField(Field.ISSUED_TOKEN_TYPE)
    device_code = _StrField(Field.DEVICE_CODE)
    user_code = _StrField(Field.USER_CODE)
    verification_uri = _StrField(Field.VERIFICATION_URI)
    verification_uri_complete = _StrField(Field.VERIFICATION_URI_COMPLETE)
    auth_req_id = _StrField(Field.AUTH_REQ_ID)
    request_uri = _StrField(Field.REQUEST_URI)
    url = _StrField(Field.URL)
    code = _StrField(Field.CODE)
    state = _StrField(Field.STATE)
    nonce = _StrField(Field.NONCE)
    code_verifier = _StrField(Field.CODE_VERIFIER)
    code_challenge = _StrField(Field.CODE_CHALLENGE)
    iss = _StrField(Field.ISS)
    sub = _StrField(Field.SUB)
    client_id = _StrField(Field.CLIENT_ID)
    client_secret = _StrField(Field.CLIENT_SECRET)
    registration_access_token = _StrField(Field.REGISTRATION_ACCESS_TOKEN)
    registration_client_uri = _StrField(Field.REGISTRATION_CLIENT_URI)
    error = _StrField(Field.ERROR)
    error_description = _StrField(Field.ERROR_DESCRIPTION)
    error_uri = _StrField(Field.ERROR_URI)
    content_type = _StrField(Field.CONTENT_TYPE)
    www_authenticate = _StrField(Field.WWW_AUTHENTICATE)
    sid = _StrField(Field.SID)
    jti = _StrField(Field.JTI)
    payload = _StrField(Field.PAYLOAD)
    protected_header = _StrField(Field.PROTECTED_HEADER)
    expires_in = _IntField(Field.EXPIRES_IN)
    interval = _IntField(Field.INTERVAL)
    http_status = _IntField(Field.HTTP_STATUS)
    active = _IntField(Field.ACTIVE)

    def __init__(self, ptr: Any) -> None:
        """For the binding: takes ownership of an ``oidc_oauth_response *``."""
        if ptr == ffi.NULL:
            raise ValueError("no response")
        self._h = _Handle(ptr, lib.oidc_oauth_response_free, "OAuthResponse")
        op = lib.oidc_oauth_response_operation(ptr)
        try:
            self._op: Union[Operation, builtins.int] = Operation(op)
        except ValueError:  # an operation of a newer liboidc
            self._op = op

    @property
    def operation(self) -> Union[Operation, int]:
        """The operation this response answers."""
        return self._op

    def string(self, f: Union[Field, int, str]) -> Optional[str]:
        """A string field (``oidc_oauth_response_string``), ``None`` when absent."""
        fid = _field(f)
        with self._h.use() as p:
            return _cstr(lib.oidc_oauth_response_string(p, fid))

    def int(self, f: Union[Field, int, str]) -> Optional[int]:
        """An integer field (``oidc_oauth_response_int``), ``None`` when absent."""
        fid = _field(f)
        with self._h.use() as p:
            v = int(lib.oidc_oauth_response_int(p, fid))
        return None if v == -1 else v

    def __getitem__(self, f: Union[Field, str]) -> Union[str, builtins.int, None]:
        """A field by :class:`Field` or name, ``str`` or ``int`` by its kind."""
        fid = _field(f)
        return self.string(fid) if fid < 100 else self.int(fid)

    @property
    def json(self) -> str:
        """The response's JSON text (holds secrets: never log it)."""
        return self.json_bytes.decode("utf-8", "replace")

    @property
    def json_bytes(self) -> bytes:
        """:attr:`json` as the bytes liboidc holds."""
        with self._h.use() as p:
            n = ffi.new("size_t *")
            s = lib.oidc_oauth_response_json(p, n)
            return b"" if s == ffi.NULL else cast(bytes, ffi.unpack(s, n[0]))

    def to_dict(self) -> Any:
        """:attr:`json` parsed."""
        text = self.json
        return json.loads(text) if text else {}

    def close(self) -> None:
        self._h.close()

    @property
    def closed(self) -> bool:
        return self._h.closed

    def __enter__(self) -> "OAuthResponse":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        op = self._op.name.lower() if isinstance(self._op, Operation) else self._op
        return f"<liboidc.oauth.OAuthResponse {op}{' closed' if self.closed else ''}>"


# ---------------------------------------------------------------------------------------------
# asyncio plumbing: C callback -> loop.call_soon_threadsafe -> future


# The async worker pool is stopped at exit by liboidc.process (one handler for every async call
# of the package, validator and protocol client alike).


# ---------------------------------------------------------------------------------------------
# request


def _set_value(rp: Any, p: Param, value: Any, err: Any) -> None:
    """Set parameter ``p`` by its kind: a string; the items of a list (one ``str``/``bytes``, or
    an iterable of them, each added in order); an integer (``bool`` as 1/0). JSON parameters
    (``METADATA``) also take a mapping, encoded with ``json.dumps``."""
    kind = _param_kind(p)
    if kind == "string":
        if isinstance(value, Mapping):
            value = json.dumps(value)
        _set_string(rp, p, value, err)
    elif kind == "list":
        if isinstance(value, (str, bytes, bytearray, memoryview)):
            _add_string(rp, p, value, err)
        else:
            try:
                items = list(value)
            except TypeError:
                raise TypeError(f"{p.name.lower()}: expected str, bytes or an iterable of them, "
                                f"got {type(value).__name__}") from None
            for item in items:
                _add_string(rp, p, item, err)
    else:
        _set_int(rp, p, value, err)


def _set_string(rp: Any, p: Param, value: Any, err: Any) -> None:
    b = _arg(value, p.name.lower())
    _check(lib.oidc_oauth_request_set_string(rp, p, b, len(b), err), err)


def _add_string(rp: Any, p: Param, value: Any, err: Any) -> None:
    b = _arg(value, p.name.lower())
    _check(lib.oidc_oauth_request_add_string(rp, p, b, len(b), err), err)


def _set_int(rp: Any, p: Param, value: Any, err: Any) -> None:
    if isinstance(value, bool):
        value = int(value)
    if not isinstance(value, int):
        raise TypeError(f"{p.name.lower()}: expected int, got {type(value).__name__}")
    if not -(2**63) <= value < 2**63:
        raise OverflowError(f"{p.name.lower()}: {value} does not fit in 64 bits")
    _check(lib.oidc_oauth_request_set_int(rp, p, value, err), err)


def _add_param(rp: Any, name: Any, value: Any, err: Any) -> None:
    if not isinstance(name, (str, bytes)):
        raise TypeError(f"parameter name: expected str or bytes, got {type(name).__name__}")
    if isinstance(value, bool):
        value = "true" if value else "false"
    elif isinstance(value, int):
        value = str(value)
    n = _arg(name, "parameter name")
    v = _arg(value, f"parameter {name!r}")
    _check(lib.oidc_oauth_request_add_param(rp, n, len(n), v, len(v), err), err)


def _add_params(rp: Any, params: Params, err: Any) -> None:
    if not isinstance(params, Mapping):
        raise TypeError(f"params: expected a mapping, got {type(params).__name__}")
    for name, value in params.items():
        if value is None:
            continue
        if isinstance(value, (str, bytes, int)):
            _add_param(rp, name, value, err)
        else:
            for v in value:  # an iterable repeats the parameter
                _add_param(rp, name, v, err)


def _pending_handle(started: Any) -> _Handle:
    if isinstance(started, PendingAuthorization):
        return started.response._h
    if isinstance(started, OAuthResponse):
        return started._h
    raise TypeError("pending: expected a DeviceAuthorization, CibaRequest or their OAuthResponse, "
                    f"got {type(started).__name__}")


def _set_pending(rp: Any, started: Any, err: Any) -> None:
    with _pending_handle(started).use() as sp:
        _check(lib.oidc_oauth_request_set_pending(rp, sp, err), err)


def _send_blocking(rp: Any, cp: Any) -> OAuthResponse:
    out = ffi.new("oidc_oauth_response **")
    err = ffi.new("oidc_error **")
    _check(lib.oidc_oauth_send(rp, cp, out, err), err)  # cffi releases the GIL for the call
    return OAuthResponse(out[0])


def _adopt_response(resp: Any, err: Any) -> OAuthResponse:
    """On the worker thread: own the response the completion hands over."""
    return OAuthResponse(resp)


def _drop_response(resp: OAuthResponse) -> None:
    """A response nobody awaits any more (the task was cancelled, the loop closed)."""
    resp.close()


def _start(rh: _Handle, client_h: _Handle, cancel: Optional[Cancel],
           deadline: Optional[float]) -> "asyncio.Future[OAuthResponse]":
    """Start ``oidc_oauth_send_async`` for the request behind ``rh`` through the package's asyncio
    plumbing (liboidc._aio: the completion settles the future via the loop's thread-safe hand-off;
    cancelling the awaiting task triggers the call's cancel handle). liboidc copies the request:
    it may be freed as soon as this returns."""
    _check_cancel(cancel, deadline)
    with client_h.use(), rh.use() as rp:
        return _aio.start(
            "oidc_oauth_response_cb",
            lambda cb, ud, cp, err: lib.oidc_oauth_send_async(rp, cp, cb, ud, err),
            _adopt_response,
            discard=_drop_response,
            timeout=deadline,
            cancel=cancel,
        )


class OAuthRequest:
    """One protocol request (``oidc_oauth_request``) for an :class:`Operation`: parameters set by
    :meth:`set` (by kind), :meth:`add`, :meth:`set_string`, :meth:`set_int`, :meth:`param`
    (custom parameters) and :meth:`pending` (polls); then :meth:`send` (blocking, the GIL
    released) or ``await`` :meth:`send_async`, as often as wanted (liboidc copies the request at
    each send). Setters return the request, for chaining; a setter liboidc refuses raises at
    once (``InvalidArgumentError`` naming the parameter and the operation), a missing required
    parameter at the send.

    Thread safe: sends may run from several threads at once; a setter waits for running
    blocking sends. :meth:`close` (or ``with``) frees it; the garbage collector otherwise.
    """

    def __init__(self, client: "OAuthClient", operation: Union[Operation, int, str]) -> None:
        if not isinstance(client, OAuthClient):
            raise TypeError(f"client: expected an OAuthClient, got {type(client).__name__}")
        self._client = client
        self._op = _operation(operation)
        out = ffi.new("oidc_oauth_request **")
        err = ffi.new("oidc_error **")
        with client._h.use() as cp:
            _check(lib.oidc_oauth_request_new(cp, self._op, out, err), err)
        self._h = _Handle(out[0], lib.oidc_oauth_request_free, "OAuthRequest")

    @property
    def operation(self) -> Operation:
        return self._op

    @property
    def client(self) -> "OAuthClient":
        return self._client

    def _write(self, fn: Callable[[Any, Any], None]) -> "OAuthRequest":
        err = ffi.new("oidc_error **")
        with self._h.exclusive() as rp:
            fn(rp, err)
        return self

    def set(self, param: Union[Param, int, str], value: Any) -> "OAuthRequest":
        """Set ``param`` by its kind: a string (``str``/``bytes``; a mapping for JSON
        parameters), the items of a list (one item or an iterable, each added), or an integer
        (``bool`` as 1/0)."""
        p = _param(param)
        return self._write(lambda rp, err: _set_value(rp, p, value, err))

    def update(self, params: Optional[Mapping[Union[Param, str], Any]] = None, **kw: Any) -> "OAuthRequest":
        """:meth:`set` for several parameters at once (``None`` values skipped)."""
        for k, v in list((params or {}).items()) + list(kw.items()):
            if v is not None:
                self.set(k, v)
        return self

    def set_string(self, param: Union[Param, int, str], value: StrLike) -> "OAuthRequest":
        """``oidc_oauth_request_set_string`` (an earlier value is replaced)."""
        p = _param(param)
        return self._write(lambda rp, err: _set_string(rp, p, value, err))

    def add(self, param: Union[Param, int, str], value: StrLike) -> "OAuthRequest":
        """``oidc_oauth_request_add_string``: one item of a list parameter (SCOPE, ...)."""
        p = _param(param)
        return self._write(lambda rp, err: _add_string(rp, p, value, err))

    def set_int(self, param: Union[Param, int, str], value: int) -> "OAuthRequest":
        """``oidc_oauth_request_set_int``."""
        p = _param(param)
        return self._write(lambda rp, err: _set_int(rp, p, value, err))

    def param(self, name: StrLike, value: Union[StrLike, int]) -> "OAuthRequest":
        """A custom parameter by its wire name (``oidc_oauth_request_add_param``; may repeat).
        liboidc refuses the names it sets itself or has a typed parameter for."""
        return self._write(lambda rp, err: _add_param(rp, name, value, err))

    def params(self, params: Params) -> "OAuthRequest":
        """Custom parameters from a mapping; an iterable value repeats one, ``None`` skips it."""
        return self._write(lambda rp, err: _add_params(rp, params, err))

    def pending(self, started: Union["PendingAuthorization", OAuthResponse]) -> "OAuthRequest":
        """For polls: continue the flow ``started`` began (a :class:`DeviceAuthorization`,
        :class:`CibaRequest` or the start's :class:`OAuthResponse`)."""
        return self._write(lambda rp, err: _set_pending(rp, started, err))

    def send(self, cancel: Optional[Cancel] = None, deadline: Optional[float] = None) -> OAuthResponse:
        """Send it (``oidc_oauth_send``) and wait for the :class:`OAuthResponse`; the GIL is
        released meanwhile. ``cancel``: a :class:`Cancel` (trigger it from another thread to end
        the call); ``deadline``: seconds from now, for a call without a cancel handle."""
        with self._client._h.use(), self._h.use() as rp, _cancel_for(cancel, deadline) as cp:
            return _send_blocking(rp, cp)

    async def send_async(self, cancel: Optional[Cancel] = None,
                         deadline: Optional[float] = None) -> OAuthResponse:
        """Send it through ``oidc_oauth_send_async`` (no thread of Python's: liboidc's worker
        pool, its callback completing the awaited future through the loop's thread-safe
        hand-off). Cancelling the awaiting task cancels the native call: it triggers the call's
        own cancel handle, or ``cancel`` when given (and with it every call under that handle)."""
        return await _start(self._h, self._client._h, cancel, deadline)

    def close(self) -> None:
        self._h.close()

    @property
    def closed(self) -> bool:
        return self._h.closed

    def __enter__(self) -> "OAuthRequest":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<liboidc.oauth.OAuthRequest {self._op.name.lower()}{' closed' if self.closed else ''}>"


# ---------------------------------------------------------------------------------------------
# typed results


def _filtered(name: str, value: Optional[str]) -> str:
    return f"{name}=[FILTERED]" if value else f"{name}=None"


@dataclass(frozen=True, repr=False)
class Token:
    """A token-endpoint response. ``repr`` never shows the tokens; :attr:`raw` (the whole
    response) does contain them: never log it."""

    access_token: str
    token_type: Optional[str] = None
    expires_in: Optional[int] = None
    refresh_token: Optional[str] = None
    id_token: Optional[str] = None
    scope: Optional[str] = None
    issued_token_type: Optional[str] = None
    raw_json: str = field(default="{}", compare=False)
    received_at: float = field(default_factory=time.time, compare=False)

    @classmethod
    def from_response(cls, r: OAuthResponse) -> "Token":
        return cls(access_token=r.access_token or "", token_type=r.token_type, expires_in=r.expires_in,
                   refresh_token=r.refresh_token, id_token=r.id_token, scope=r.scope,
                   issued_token_type=r.issued_token_type, raw_json=r.json)

    @property
    def raw(self) -> Dict[str, Any]:
        """The whole response (contains secrets)."""
        return json.loads(self.raw_json) if self.raw_json else {}

    def __getitem__(self, key: str) -> Any:
        """A member of the response (a custom grant's extra members, ...)."""
        return self.raw[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.raw.get(key, default)

    @property
    def scopes(self) -> List[str]:
        return self.scope.split() if self.scope else []

    @property
    def expires_at(self) -> Optional[float]:
        return None if self.expires_in is None else self.received_at + self.expires_in

    def expired(self, leeway: float = 0) -> bool:
        t = self.expires_at
        return False if t is None else time.time() + leeway >= t

    def __repr__(self) -> str:
        parts = [f"token_type={self.token_type!r}", f"expires_in={self.expires_in!r}", f"scope={self.scope!r}",
                 _filtered("access_token", self.access_token), _filtered("refresh_token", self.refresh_token),
                 _filtered("id_token", self.id_token)]
        return f"Token({', '.join(parts)})"

    __str__ = __repr__


class PendingAuthorization:
    """A pending authorization polled at the token endpoint (device, CIBA): keeps the
    :class:`OAuthResponse` that started it (the poll takes code, interval and expiry from it).
    :meth:`close` frees it; the garbage collector otherwise."""

    def __init__(self, response: OAuthResponse) -> None:
        self.response = response
        self.expires_in = response.expires_in
        self.interval = response.interval
        self.received_at = time.time()

    @property
    def expires_at(self) -> Optional[float]:
        return None if self.expires_in is None else self.received_at + self.expires_in

    def expired(self) -> bool:
        t = self.expires_at
        return False if t is None else time.time() >= t

    def close(self) -> None:
        self.response.close()

    @property
    def closed(self) -> bool:
        return self.response.closed

    def __enter__(self: T) -> T:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class DeviceAuthorization(PendingAuthorization):
    """A pending device authorization (RFC 8628): show the user :attr:`verification_uri` and
    :attr:`user_code`, then ``OAuthClient.poll_device``. ``repr`` hides the device code."""

    def __init__(self, response: OAuthResponse) -> None:
        super().__init__(response)
        self.user_code = response.user_code
        self.verification_uri = response.verification_uri
        self.verification_uri_complete = response.verification_uri_complete

    @property
    def device_code(self) -> Optional[str]:
        return self.response.device_code

    def __repr__(self) -> str:
        return (f"DeviceAuthorization(user_code={self.user_code!r}, verification_uri={self.verification_uri!r}, "
                f"expires_in={self.expires_in!r}, interval={self.interval!r}{', closed' if self.closed else ''})")


class CibaRequest(PendingAuthorization):
    """A pending CIBA backchannel authentication (poll mode); ``repr`` hides the auth_req_id."""

    def __init__(self, response: OAuthResponse) -> None:
        super().__init__(response)
        self.auth_req_id = response.auth_req_id

    def __repr__(self) -> str:
        return (f"CibaRequest(auth_req_id=[FILTERED], expires_in={self.expires_in!r}, "
                f"interval={self.interval!r}{', closed' if self.closed else ''})")


@dataclass(frozen=True, repr=False)
class AuthorizationRequest:
    """Where to send the user (``url``) and what to keep for the way back (``state``,
    ``nonce``) and the code exchange (``code_verifier``, a secret ``repr`` hides). Pass it as
    ``pkce=`` to ``OAuthClient.exchange_code``."""

    url: str
    state: Optional[str] = None
    nonce: Optional[str] = None
    code_verifier: Optional[str] = None
    code_challenge: Optional[str] = None
    code_challenge_method: Optional[str] = None

    @classmethod
    def from_response(cls, r: OAuthResponse) -> "AuthorizationRequest":
        d = r.to_dict()
        return cls(url=d["url"], state=d.get("state"), nonce=d.get("nonce"), code_verifier=d.get("code_verifier"),
                   code_challenge=d.get("code_challenge"), code_challenge_method=d.get("code_challenge_method"))

    def __str__(self) -> str:
        return self.url

    def __repr__(self) -> str:
        return (f"AuthorizationRequest(url={self.url!r}, state={self.state!r}, "
                f"{_filtered('code_verifier', self.code_verifier)})")


@dataclass(frozen=True, repr=False)
class PushedAuthorizationRequest:
    """The result of ``push_authorization_request`` (RFC 9126): the ``request_uri`` for
    ``authorization_url(request_uri=...)`` plus state, nonce and code_verifier."""

    request_uri: str
    expires_in: Optional[int] = None
    state: Optional[str] = None
    nonce: Optional[str] = None
    code_verifier: Optional[str] = None
    code_challenge: Optional[str] = None

    @classmethod
    def from_response(cls, r: OAuthResponse) -> "PushedAuthorizationRequest":
        return cls(request_uri=r.request_uri or "", expires_in=r.expires_in, state=r.state, nonce=r.nonce,
                   code_verifier=r.code_verifier, code_challenge=r.code_challenge)

    def __repr__(self) -> str:
        return f"PushedAuthorizationRequest(request_uri={self.request_uri!r}, expires_in={self.expires_in!r})"


@dataclass(frozen=True, repr=False)
class AuthorizationResponse:
    """A checked authorization response: ``code`` (a secret ``repr`` hides), ``state``,
    ``iss``, ``jarm`` and every other parameter received in ``params``."""

    code: Optional[str]
    state: Optional[str]
    iss: Optional[str]
    jarm: bool
    params: Mapping[str, Any]

    @classmethod
    def from_response(cls, r: OAuthResponse) -> "AuthorizationResponse":
        d = r.to_dict()
        params = d.get("params")
        return cls(code=d.get("code"), state=d.get("state"), iss=d.get("iss"), jarm=d.get("jarm") is True,
                   params=dict(params) if isinstance(params, dict) else {})

    def __repr__(self) -> str:
        return (f"AuthorizationResponse({_filtered('code', self.code)}, state={self.state!r}, iss={self.iss!r}, "
                f"jarm={self.jarm})")


class Registration:
    """A client registration response (RFC 7591/7592). It holds secrets (``client_secret``,
    ``registration_access_token``): ``repr`` shows neither."""

    SECRET_MEMBERS = ("client_secret", "registration_access_token")

    def __init__(self, raw_json: str) -> None:
        self.raw_json = raw_json
        self._d = json.loads(raw_json) if raw_json else {}

    @classmethod
    def from_response(cls, r: OAuthResponse) -> "Registration":
        return cls(r.json)

    client_id = property(lambda self: self._d.get("client_id"))
    client_secret = property(lambda self: self._d.get("client_secret"))
    registration_access_token = property(lambda self: self._d.get("registration_access_token"))
    registration_client_uri = property(lambda self: self._d.get("registration_client_uri"))

    def __getitem__(self, key: str) -> Any:
        return self._d[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self._d.get(key, default)

    def to_dict(self) -> Dict[str, Any]:
        return json.loads(self.raw_json) if self.raw_json else {}

    def __repr__(self) -> str:
        shown = {k: ("[FILTERED]" if k in self.SECRET_MEMBERS else v) for k, v in self._d.items()}
        return f"Registration({shown!r})"


@dataclass(frozen=True, repr=False)
class ResourceResponse:
    """The answer of ``resource_request``: any HTTP status is a result, not an error;
    ``error``/``error_description``/``error_uri`` come from a WWW-Authenticate challenge or a
    JSON error body (read by liboidc)."""

    status: int
    body: str
    content_type: Optional[str] = None
    www_authenticate: Optional[str] = None
    error: Optional[str] = None
    error_description: Optional[str] = None
    error_uri: Optional[str] = None

    @classmethod
    def from_response(cls, r: OAuthResponse) -> "ResourceResponse":
        return cls(status=r.http_status or 0, body=r.json, content_type=r.content_type,
                   www_authenticate=r.www_authenticate, error=r.error, error_description=r.error_description,
                   error_uri=r.error_uri)

    @property
    def ok(self) -> bool:
        return 200 <= self.status <= 299

    def json(self) -> Any:
        return json.loads(self.body)

    def __repr__(self) -> str:
        return f"ResourceResponse(status={self.status}, body={len(self.body)} chars)"


@dataclass(frozen=True, repr=False)
class LogoutToken:
    """A validated back-channel logout token (``validate_logout_token``): ``claims`` (every
    claim, a :class:`liboidc.Claims` mapping), ``iss``, ``sub`` and ``sid`` (either may be
    ``None``: the token names at least one), ``jti``. End the sessions it names."""

    claims: Claims
    iss: Optional[str]
    sub: Optional[str]
    sid: Optional[str]
    jti: Optional[str]

    @classmethod
    def from_response(cls, r: OAuthResponse) -> "LogoutToken":
        return cls(claims=Claims(r.json_bytes), iss=r.iss, sub=r.sub, sid=r.sid, jti=r.jti)

    def __repr__(self) -> str:
        return f"LogoutToken(iss={self.iss!r}, sub={self.sub!r}, sid={self.sid!r}, jti={self.jti!r})"


@dataclass(frozen=True, repr=False)
class Payload:
    """A verified JWS document (``verify_jws``) or a decrypted JWE (``decrypt``): ``payload``
    (the bytes), ``text`` (the same as ``str`` when it is UTF-8, else ``None``) and ``header``
    (the protected header as a dict). ``repr`` shows the header's ``alg``/``enc``/``kid`` and
    the payload's length, never its content (a decrypted payload may be secret)."""

    payload: bytes
    text: Optional[str]
    header: Mapping[str, Any]

    @classmethod
    def from_response(cls, r: OAuthResponse) -> "Payload":
        d = r.to_dict()
        b64 = d.get("payload_b64url") or ""
        payload = base64.urlsafe_b64decode(b64 + "=" * (-len(b64) % 4))
        hdr = r.protected_header
        header = json.loads(hdr) if hdr else d.get("header") or {}
        return cls(payload=payload, text=r.payload, header=header)

    def json(self) -> Any:
        """The payload parsed as JSON."""
        return json.loads(self.payload)

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={self.header[k]!r}" for k in ("alg", "enc", "kid") if k in self.header)
        return f"Payload({shown}, {len(self.payload)} bytes)"


def _claims(r: OAuthResponse) -> Claims:
    """A JSON object answer (ID token claims, UserInfo, introspection) as the package's read-only
    claims mapping (parsed on first access; common claims as attributes)."""
    return Claims(r.json_bytes)


def _url(r: OAuthResponse) -> str:
    return r.url or ""


def _nothing(r: OAuthResponse) -> None:
    return None


# ---------------------------------------------------------------------------------------------
# the per-operation plan: written once, sent two ways


@dataclass
class _Plan(Generic[T]):
    op: Operation
    convert: Callable[[OAuthResponse], T]
    typed: Mapping[Param, Any] = field(default_factory=dict)
    params: Optional[Params] = None
    pending: Any = None
    cancel: Optional[Cancel] = None
    deadline: Optional[float] = None
    keep: bool = False  # the converted value keeps the response (device / CIBA starts)


def _sync(plan: Callable[Concatenate["OAuthClient", P], _Plan[T]]) -> Callable[Concatenate["OAuthClient", P], T]:
    def method(self: "OAuthClient", /, *args: P.args, **kwargs: P.kwargs) -> T:
        return self._perform(plan(self, *args, **kwargs))

    method.__name__ = plan.__name__.lstrip("_")
    method.__qualname__ = "OAuthClient." + method.__name__
    method.__doc__ = plan.__doc__
    return method


def _async(plan: Callable[Concatenate["OAuthClient", P], _Plan[T]]
           ) -> Callable[Concatenate["OAuthClient", P], Coroutine[Any, Any, T]]:
    async def method(self: "OAuthClient", /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await self._perform_async(plan(self, *args, **kwargs))

    method.__name__ = plan.__name__.lstrip("_") + "_async"
    method.__qualname__ = "OAuthClient." + method.__name__
    method.__doc__ = (plan.__doc__ or "") + "\n\n(The asyncio twin: awaits liboidc's completion callback.)"
    return method


def _registration_args(reg: Optional[Registration], uri: Optional[str], token: Optional[str]) -> Dict[Param, Any]:
    if reg is not None:
        if not isinstance(reg, Registration):
            raise TypeError(f"expected a Registration, got {type(reg).__name__}")
        uri = uri or reg.registration_client_uri
        token = token or reg.registration_access_token
    return {Param.REGISTRATION_CLIENT_URI: uri, Param.REGISTRATION_ACCESS_TOKEN: token}


class OAuthClient:
    """An OAuth 2.0 / OpenID Connect protocol client: one registered client at one issuer
    (``oidc_oauth_builder_*`` -> ``oidc_oauth_client``). Thread safe; every call releases the
    GIL and all requests share one pooled HTTP connection set inside liboidc. The secret and
    keys go to liboidc and are not kept in Python.

    ``issuer``: the authorization server (metadata discovered on first use). ``client_id``:
    without it, the client can only :meth:`register`. ``client_secret``; ``auth_method``
    (RFC 7591 name or "auto"); ``private_key_pem`` / ``private_key_jwk`` (PEM text, or a JWK as
    JSON text or a mapping; ``private_key_kid``, ``private_key_alg``); ``dpop_key`` (``True``
    for a fresh ES256 key, or a PEM / private JWK); ``assertion_audience``; ``ca_file``;
    ``endpoints`` (overrides by metadata name); ``timeouts`` (connect, total) in seconds;
    ``allow_http_loopback`` (development only); ``proxy`` (``http://[user[:password]@]host:port``,
    HTTP CONNECT for https; credentials never shown) and ``proxy_from_env`` (opt in to
    ``https_proxy``/``no_proxy``; an explicit ``proxy`` wins); ``client_cert_pem`` and
    ``client_key_pem`` (RFC 8705 mTLS: the PEM chain, leaf first, and its unencrypted key, as
    text; with ``auth_method="tls_client_auth"`` or ``"self_signed_tls_client_auth"`` to
    authenticate by it). ``algorithms`` ("RS256,ES256" or a list; default RS/PS 256-512,
    ES256/384/512, EdDSA): the signature allow-list of the client's ID tokens, logout tokens,
    signed responses and :meth:`verify_jws` (``none``, HMAC or an unknown name:
    ``UnsupportedAlgorithmError`` here). ``jwks_json`` (text or mapping): a static key set instead of the
    issuer's ``jwks_uri``. ``decryption_keys`` (a :class:`liboidc.DecryptionKey`, a private JWK or
    a PEM key, or a list of them) and ``decryption_algorithms``: encrypted ID tokens, UserInfo,
    introspection and JARM responses are decrypted (and :meth:`decrypt`). ``request_object=True``
    sends authorization requests as signed request objects (RFC 9101, the client's private key);
    ``request_object_encryption=(alg, enc)`` also encrypts them to the issuer.
    ``logout_accept_untyped`` accepts logout tokens without ``typ`` ``logout+jwt``;
    ``logout_replay_store`` (``(key: str, ttl_secs: int) -> bool``, True when the key was new;
    an exception or ``None``: the store cannot answer and the token is refused) shares the
    logout tokens' ``jti`` replay check between processes. A bad value raises here, never later (a key that does not match its
    certificate: ``ClientCertError``; a proxy that refuses: ``ProxyError`` at the request).
    """

    def __init__(
        self,
        issuer: StrLike,
        *,
        client_id: Optional[StrLike] = None,
        client_secret: Optional[StrLike] = None,
        auth_method: Optional[str] = None,
        private_key_pem: Optional[StrLike] = None,
        private_key_jwk: Union[StrLike, Mapping[str, Any], None] = None,
        private_key_kid: Optional[str] = None,
        private_key_alg: Optional[str] = None,
        dpop_key: Union[bool, StrLike, Mapping[str, Any], None] = None,
        assertion_audience: Optional[str] = None,
        ca_file: Optional[StrLike] = None,
        endpoints: Optional[Mapping[str, StrLike]] = None,
        timeouts: Optional[Tuple[float, float]] = None,
        allow_http_loopback: bool = False,
        proxy: Optional[StrLike] = None,
        proxy_from_env: bool = False,
        client_cert_pem: Optional[StrLike] = None,
        client_key_pem: Optional[StrLike] = None,
        algorithms: Union[StrLike, Iterable[StrLike], None] = None,
        jwks_json: Union[StrLike, Mapping[str, Any], None] = None,
        decryption_keys: Union[DecryptionKey, StrLike, Mapping[str, Any],
                               Iterable[Union[DecryptionKey, StrLike, Mapping[str, Any]]], None] = None,
        decryption_algorithms: Union[StrLike, Iterable[StrLike], None] = None,
        request_object: bool = False,
        request_object_encryption: Optional[Tuple[str, str]] = None,
        logout_accept_untyped: bool = False,
        logout_replay_store: Optional[Callable[[str, int], Optional[bool]]] = None,
    ) -> None:
        if private_key_pem is not None and private_key_jwk is not None:
            raise ValueError("give private_key_pem= or private_key_jwk=, not both")
        if (client_cert_pem is None) != (client_key_pem is None):
            raise ValueError("give client_cert_pem= and client_key_pem= together (the mTLS certificate chain and its key)")
        if not isinstance(proxy_from_env, bool):
            raise TypeError(f"proxy_from_env: expected a bool, got {type(proxy_from_env).__name__}")
        for flag, fname in ((request_object, "request_object"), (logout_accept_untyped, "logout_accept_untyped")):
            if not isinstance(flag, bool):
                raise TypeError(f"{fname}: expected a bool, got {type(flag).__name__}")
        if request_object_encryption is not None:
            if not isinstance(request_object_encryption, (tuple, list)) or len(request_object_encryption) != 2:
                raise TypeError("request_object_encryption: expected (alg, enc), e.g. (\"RSA-OAEP-256\", \"A256GCM\")")
        if logout_replay_store is not None and not callable(logout_replay_store):
            raise TypeError("logout_replay_store: expected a callable (key: str, ttl_secs: int) -> bool")
        if private_key_pem is not None and private_key_jwk is not None:
            raise ValueError("give private_key_pem= or private_key_jwk=, not both")
        if endpoints is not None and not isinstance(endpoints, Mapping):
            raise TypeError(f"endpoints: expected a mapping of metadata name to URL, got {type(endpoints).__name__}")
        if timeouts is not None:
            if not isinstance(timeouts, (tuple, list)) or len(timeouts) != 2:
                raise TypeError("timeouts: expected (connect_seconds, total_seconds)")
            connect_ms = _seconds_ms(timeouts[0], "timeouts[0] (connect)")
            total_ms = _seconds_ms(timeouts[1], "timeouts[1] (total)")
        self.issuer: str = issuer.decode("utf-8", "replace") if isinstance(issuer, bytes) else issuer
        self.client_id: Optional[str] = (client_id.decode("utf-8", "replace") if isinstance(client_id, bytes)
                                         else client_id)
        self._dpop = dpop_key is not None and dpop_key is not False
        algs_shown: Optional[str] = None
        out = ffi.new("oidc_oauth_builder **")
        err = ffi.new("oidc_error **")
        _check(lib.oidc_oauth_builder_new(out, err), err)
        b = out[0]
        built = False
        try:
            def s(fn: Any, value: Any, name: str) -> None:
                v = _arg(value, name)
                _check(fn(b, v, len(v), err), err)

            s(lib.oidc_oauth_builder_set_issuer, issuer, "issuer")
            if client_id is not None:
                s(lib.oidc_oauth_builder_set_client_id, client_id, "client_id")
            if client_secret is not None:
                s(lib.oidc_oauth_builder_set_client_secret, client_secret, "client_secret")
            if auth_method is not None:
                s(lib.oidc_oauth_builder_set_auth_method, auth_method, "auth_method")
            if ca_file is not None:
                s(lib.oidc_oauth_builder_set_ca_file, ca_file, "ca_file")
            for name, url in (endpoints or {}).items():
                n = _arg(name, "endpoint name")
                u = _arg(url, f"endpoints[{name!r}]")
                _check(lib.oidc_oauth_builder_set_endpoint(b, n, len(n), u, len(u), err), err)
            if timeouts is not None:
                _check(lib.oidc_oauth_builder_set_timeouts_ms(b, connect_ms, total_ms, err), err)
            if allow_http_loopback:
                _check(lib.oidc_oauth_builder_set_allow_http_loopback(b, 1, err), err)
            if proxy is not None:
                s(lib.oidc_oauth_builder_set_proxy, proxy, "proxy")
            if proxy_from_env:
                _check(lib.oidc_oauth_builder_set_proxy_from_env(b, 1, err), err)
            if client_cert_pem is not None:
                cert = _arg(client_cert_pem, "client_cert_pem")
                ckey = _arg(client_key_pem, "client_key_pem")
                _check(lib.oidc_oauth_builder_set_client_cert(b, cert, len(cert), ckey, len(ckey), err), err)
            if private_key_pem is not None or private_key_jwk is not None:
                if private_key_jwk is not None:
                    fn = lib.oidc_oauth_builder_set_private_key_jwk
                    key = _arg(json.dumps(private_key_jwk) if isinstance(private_key_jwk, Mapping)
                               else private_key_jwk, "private_key_jwk")
                else:
                    fn = lib.oidc_oauth_builder_set_private_key_pem
                    key = _arg(private_key_pem, "private_key_pem")
                kid = b"" if private_key_kid is None else _arg(private_key_kid, "private_key_kid")
                alg = b"" if private_key_alg is None else _arg(private_key_alg, "private_key_alg")
                _check(fn(b, key, len(key), kid or ffi.NULL, len(kid), alg or ffi.NULL, len(alg), err), err)
            if self._dpop:
                if dpop_key is True:
                    _check(lib.oidc_oauth_builder_set_dpop_key(b, ffi.NULL, 0, err), err)
                else:
                    k = _arg(json.dumps(dpop_key) if isinstance(dpop_key, Mapping) else dpop_key, "dpop_key")
                    if not k:
                        raise ValueError("dpop_key: empty (use dpop_key=True for a generated key)")
                    _check(lib.oidc_oauth_builder_set_dpop_key(b, k, len(k), err), err)
            if assertion_audience is not None:
                s(lib.oidc_oauth_builder_set_assertion_audience, assertion_audience, "assertion_audience")
            if algorithms is not None:
                algs = b",".join(_strs(algorithms, "algorithms"))
                s(lib.oidc_oauth_builder_set_algorithms, algs, "algorithms")
                algs_shown = algs.decode("utf-8", "replace")
            if jwks_json is not None:
                s(lib.oidc_oauth_builder_set_jwks_json,
                  json.dumps(dict(jwks_json)) if isinstance(jwks_json, Mapping) else jwks_json, "jwks_json")
            add_decryption_options(b, decryption_keys, decryption_algorithms, err, lambda what, rc: _check(rc, err),
                                   lib.oidc_oauth_builder_add_decryption_key,
                                   lib.oidc_oauth_builder_set_decryption_algorithms)
            if request_object or request_object_encryption is not None:
                ea, ee = (b"", b"") if request_object_encryption is None else (
                    _arg(request_object_encryption[0], "request_object_encryption[0]"),
                    _arg(request_object_encryption[1], "request_object_encryption[1]"))
                _check(lib.oidc_oauth_builder_set_request_object(b, ea, len(ea), ee, len(ee), err), err)
            if logout_accept_untyped:
                _check(lib.oidc_oauth_builder_set_logout_accept_untyped(b, 1, err), err)
            if logout_replay_store is not None:
                cb = ffi.callback("oidc_replay_store_cb", _replay_adapter(logout_replay_store), error=-1)
                _replay_keepalive.append(cb)  # the client may outlive this call: kept for the process
                _check(lib.oidc_oauth_builder_set_replay_store(b, cb, ffi.NULL, err), err)
            cout = ffi.new("oidc_oauth_client **")
            built = True  # build consumes the builder in every case
            _check(lib.oidc_oauth_builder_build(b, cout, err), err)
        finally:
            if not built:
                lib.oidc_oauth_builder_free(b)
        self._h = _Handle(cout[0], lib.oidc_oauth_client_free, "OAuthClient")
        # as given; None: liboidc's choice (private_key_jwt with a key, client_secret_basic with a
        # secret, none otherwise; see oidc_oauth_builder_set_auth_method)
        self.auth_method: Optional[str] = auth_method
        self._algorithms = algs_shown  # as given (comma-joined), for repr; None: liboidc's default

    # -- life cycle --------------------------------------------------------------------------

    @property
    def dpop(self) -> bool:
        """True when token requests are DPoP-bound (built with ``dpop_key=``)."""
        return self._dpop

    def close(self) -> None:
        """Free the native client (after running blocking calls return); later calls raise."""
        self._h.close()

    @property
    def closed(self) -> bool:
        return self._h.closed

    def __enter__(self) -> "OAuthClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> "OAuthClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"<liboidc.oauth.OAuthClient issuer={self.issuer!r} client_id={self.client_id!r} "
                f"auth_method={self.auth_method}"
                f"{'' if self._algorithms is None else f' algorithms={self._algorithms!r}'}"
                f"{' dpop' if self._dpop else ''}{' closed' if self.closed else ''}>")

    # -- the generic request ---------------------------------------------------------------

    def request(self, operation: Union[Operation, int, str], params: Optional[Mapping[Union[Param, str], Any]] = None,
                **kw: Any) -> OAuthRequest:
        """A request for ``operation`` with typed parameters set by :meth:`OAuthRequest.update`
        (``client.request(Operation.REFRESH, refresh_token=rt)``)."""
        req = OAuthRequest(self, operation)
        try:
            req.update(params, **kw)
        except BaseException:
            req.close()
            raise
        return req

    def _build(self, plan: _Plan[Any]) -> OAuthRequest:
        req = OAuthRequest(self, plan.op)
        try:
            err = ffi.new("oidc_error **")
            with req._h.exclusive() as rp:
                for p, v in plan.typed.items():
                    if v is not None:
                        _set_value(rp, p, v, err)
                if plan.params:
                    _add_params(rp, plan.params, err)
                if plan.pending is not None:
                    _set_pending(rp, plan.pending, err)
        except BaseException:
            req.close()
            raise
        return req

    def _finish(self, plan: _Plan[T], resp: OAuthResponse) -> T:
        if plan.keep:
            try:
                return plan.convert(resp)
            except BaseException:
                resp.close()
                raise
        try:
            return plan.convert(resp)
        finally:
            resp.close()

    def _perform(self, plan: _Plan[T]) -> T:
        with self._build(plan) as req:
            resp = req.send(plan.cancel, plan.deadline)
        return self._finish(plan, resp)

    async def _perform_async(self, plan: _Plan[T]) -> T:
        req = self._build(plan)
        try:
            fut = _start(req._h, self._h, plan.cancel, plan.deadline)
        finally:
            req.close()  # liboidc copied it when the call started
        return self._finish(plan, await fut)

    # -- grants ------------------------------------------------------------------------------

    def _client_credentials(self, *, scope: Optional[Items] = None, resources: Optional[Items] = None,
                            audience: Optional[Items] = None, cached: bool = False, params: Optional[Params] = None,
                            cancel: Optional[Cancel] = None, deadline: Optional[float] = None) -> _Plan[Token]:
        """Client credentials grant (RFC 6749 §4.4). ``cached=True`` goes through the client's
        token cache (one token per scope/resource/audience until shortly before it expires)."""
        return _Plan(Operation.CLIENT_CREDENTIALS, Token.from_response,
                     {Param.SCOPE: scope, Param.RESOURCE: resources, Param.AUDIENCE: audience,
                      Param.USE_CACHE: 1 if cached else None}, params, cancel=cancel, deadline=deadline)

    client_credentials = _sync(_client_credentials)
    client_credentials_async = _async(_client_credentials)

    def _exchange_code(self, code: StrLike, *, redirect_uri: Optional[str] = None,
                       code_verifier: Optional[str] = None, nonce: Optional[str] = None,
                       pkce: Optional[AuthorizationRequest] = None, resources: Optional[Items] = None,
                       params: Optional[Params] = None, cancel: Optional[Cancel] = None,
                       deadline: Optional[float] = None) -> _Plan[Token]:
        """Authorization code grant: ``code`` from the redirect; ``code_verifier`` and ``nonce``
        (or ``pkce=``, the :class:`AuthorizationRequest`, for both). An ID token in the response
        is validated before this returns."""
        if pkce is not None:
            code_verifier = code_verifier or pkce.code_verifier
            nonce = nonce or pkce.nonce
        return _Plan(Operation.AUTHORIZATION_CODE, Token.from_response,
                     {Param.CODE: code, Param.REDIRECT_URI: redirect_uri, Param.CODE_VERIFIER: code_verifier,
                      Param.NONCE: nonce, Param.RESOURCE: resources}, params, cancel=cancel, deadline=deadline)

    exchange_code = _sync(_exchange_code)
    exchange_code_async = _async(_exchange_code)

    def _refresh(self, refresh_token: Union[StrLike, Token], *, scope: Optional[Items] = None,
                 resources: Optional[Items] = None, params: Optional[Params] = None,
                 cancel: Optional[Cancel] = None, deadline: Optional[float] = None) -> _Plan[Token]:
        """Refresh token grant (``refresh_token``: a string or the :class:`Token` holding it)."""
        rt = refresh_token.refresh_token if isinstance(refresh_token, Token) else refresh_token
        return _Plan(Operation.REFRESH, Token.from_response,
                     {Param.REFRESH_TOKEN: rt, Param.SCOPE: scope, Param.RESOURCE: resources}, params,
                     cancel=cancel, deadline=deadline)

    refresh = _sync(_refresh)
    refresh_async = _async(_refresh)

    def _token_exchange(self, subject_token: StrLike, *, subject_token_type: Optional[str] = None,
                        audience: Optional[Items] = None, resources: Optional[Items] = None,
                        scope: Optional[Items] = None, requested_token_type: Optional[str] = None,
                        actor_token: Optional[StrLike] = None, actor_token_type: Optional[str] = None,
                        params: Optional[Params] = None, cancel: Optional[Cancel] = None,
                        deadline: Optional[float] = None) -> _Plan[Token]:
        """Token exchange (RFC 8693); ``subject_token_type`` defaults (in liboidc) to the
        access-token type."""
        return _Plan(Operation.TOKEN_EXCHANGE, Token.from_response,
                     {Param.SUBJECT_TOKEN: subject_token, Param.SUBJECT_TOKEN_TYPE: subject_token_type,
                      Param.AUDIENCE: audience, Param.RESOURCE: resources, Param.SCOPE: scope,
                      Param.REQUESTED_TOKEN_TYPE: requested_token_type, Param.ACTOR_TOKEN: actor_token,
                      Param.ACTOR_TOKEN_TYPE: actor_token_type}, params, cancel=cancel, deadline=deadline)

    token_exchange = _sync(_token_exchange)
    token_exchange_async = _async(_token_exchange)

    def _jwt_bearer(self, *, assertion: Optional[StrLike] = None, subject: Optional[str] = None,
                    scope: Optional[Items] = None, params: Optional[Params] = None,
                    cancel: Optional[Cancel] = None, deadline: Optional[float] = None) -> _Plan[Token]:
        """JWT bearer grant (RFC 7523): a ready ``assertion``, or a ``subject`` for which
        liboidc signs one with the client's private key."""
        return _Plan(Operation.JWT_BEARER, Token.from_response,
                     {Param.ASSERTION: assertion, Param.SUBJECT: subject, Param.SCOPE: scope}, params,
                     cancel=cancel, deadline=deadline)

    jwt_bearer = _sync(_jwt_bearer)
    jwt_bearer_async = _async(_jwt_bearer)

    def _custom_grant(self, grant_type: str, params: Optional[Params] = None, *, scope: Optional[Items] = None,
                      resources: Optional[Items] = None, audience: Optional[Items] = None,
                      cancel: Optional[Cancel] = None, deadline: Optional[float] = None) -> _Plan[Token]:
        """Any grant at the token endpoint: ``grant_type`` plus custom ``params`` (extra response
        members are in ``Token.raw`` / ``token[name]``)."""
        return _Plan(Operation.CUSTOM_GRANT, Token.from_response,
                     {Param.GRANT_TYPE: grant_type, Param.SCOPE: scope, Param.RESOURCE: resources,
                      Param.AUDIENCE: audience}, params, cancel=cancel, deadline=deadline)

    custom_grant = _sync(_custom_grant)
    custom_grant_async = _async(_custom_grant)

    # -- device and CIBA ---------------------------------------------------------------------

    def _device_authorization(self, *, scope: Optional[Items] = None, params: Optional[Params] = None,
                              cancel: Optional[Cancel] = None,
                              deadline: Optional[float] = None) -> _Plan[DeviceAuthorization]:
        """Start a device authorization (RFC 8628); poll with :meth:`poll_device`."""
        return _Plan(Operation.DEVICE_AUTHORIZATION, DeviceAuthorization, {Param.SCOPE: scope}, params,
                     cancel=cancel, deadline=deadline, keep=True)

    device_authorization = _sync(_device_authorization)
    device_authorization_async = _async(_device_authorization)

    def _poll_device(self, auth: DeviceAuthorization, *, cancel: Optional[Cancel] = None,
                     deadline: Optional[float] = None) -> _Plan[Token]:
        """Poll until the user approves ``auth`` (liboidc waits the interval between polls, on
        its own timer for the async twin). Ends with ``DeadlineExceededError`` at ``deadline``
        (seconds), ``ExpiredTokenError``, ``AccessDeniedError``, or ``OidcCancelledError`` (``cancel`` triggered,
        or the awaiting task cancelled)."""
        if not isinstance(auth, DeviceAuthorization):
            raise TypeError(f"expected a DeviceAuthorization, got {type(auth).__name__}")
        return _Plan(Operation.DEVICE_POLL, Token.from_response, pending=auth, cancel=cancel, deadline=deadline)

    poll_device = _sync(_poll_device)
    poll_device_async = _async(_poll_device)

    def _ciba_request(self, *, scope: Optional[Items] = None, login_hint: Optional[str] = None,
                      binding_message: Optional[str] = None, params: Optional[Params] = None,
                      cancel: Optional[Cancel] = None, deadline: Optional[float] = None) -> _Plan[CibaRequest]:
        """Start a CIBA backchannel authentication (poll mode); poll with :meth:`poll_ciba`."""
        return _Plan(Operation.CIBA_REQUEST, CibaRequest,
                     {Param.SCOPE: scope, Param.LOGIN_HINT: login_hint, Param.BINDING_MESSAGE: binding_message},
                     params, cancel=cancel, deadline=deadline, keep=True)

    ciba_request = _sync(_ciba_request)
    ciba_request_async = _async(_ciba_request)

    def _poll_ciba(self, req: CibaRequest, *, cancel: Optional[Cancel] = None,
                   deadline: Optional[float] = None) -> _Plan[Token]:
        """Poll for the tokens of ``req``; same rules as :meth:`poll_device`."""
        if not isinstance(req, CibaRequest):
            raise TypeError(f"expected a CibaRequest, got {type(req).__name__}")
        return _Plan(Operation.CIBA_POLL, Token.from_response, pending=req, cancel=cancel, deadline=deadline)

    poll_ciba = _sync(_poll_ciba)
    poll_ciba_async = _async(_poll_ciba)

    # -- authorization requests and responses ------------------------------------------------

    def _authorization_url(self, *, redirect_uri: Optional[str] = None, scope: Optional[Items] = None,
                           state: Optional[str] = None, nonce: Optional[str] = None,
                           code_challenge: Optional[str] = None, response_type: Optional[str] = None,
                           response_mode: Optional[str] = None, max_age: Optional[int] = None,
                           request_object: Optional[str] = None, request_uri: Optional[str] = None,
                           login_hint: Optional[str] = None, resources: Optional[Items] = None,
                           params: Optional[Params] = None, cancel: Optional[Cancel] = None,
                           deadline: Optional[float] = None) -> _Plan[AuthorizationRequest]:
        """The authorization URL (liboidc makes state, nonce and the PKCE pair when not given).
        Blocks only for discovery on first use."""
        return _Plan(Operation.AUTHORIZATION_URL, AuthorizationRequest.from_response,
                     {Param.REDIRECT_URI: redirect_uri, Param.SCOPE: scope, Param.STATE: state, Param.NONCE: nonce,
                      Param.CODE_CHALLENGE: code_challenge, Param.RESPONSE_TYPE: response_type,
                      Param.RESPONSE_MODE: response_mode, Param.MAX_AGE: max_age,
                      Param.REQUEST_OBJECT: request_object, Param.REQUEST_URI: request_uri,
                      Param.LOGIN_HINT: login_hint, Param.RESOURCE: resources}, params,
                     cancel=cancel, deadline=deadline)

    authorization_url = _sync(_authorization_url)
    authorization_url_async = _async(_authorization_url)

    def _push_authorization_request(self, *, redirect_uri: Optional[str] = None, scope: Optional[Items] = None,
                                    state: Optional[str] = None, nonce: Optional[str] = None,
                                    code_challenge: Optional[str] = None, response_type: Optional[str] = None,
                                    response_mode: Optional[str] = None, max_age: Optional[int] = None,
                                    request_object: Optional[str] = None, login_hint: Optional[str] = None,
                                    resources: Optional[Items] = None, params: Optional[Params] = None,
                                    cancel: Optional[Cancel] = None,
                                    deadline: Optional[float] = None) -> _Plan[PushedAuthorizationRequest]:
        """Pushed authorization request (RFC 9126); then
        ``authorization_url(request_uri=par.request_uri)``."""
        return _Plan(Operation.PUSHED_AUTHORIZATION, PushedAuthorizationRequest.from_response,
                     {Param.REDIRECT_URI: redirect_uri, Param.SCOPE: scope, Param.STATE: state, Param.NONCE: nonce,
                      Param.CODE_CHALLENGE: code_challenge, Param.RESPONSE_TYPE: response_type,
                      Param.RESPONSE_MODE: response_mode, Param.MAX_AGE: max_age,
                      Param.REQUEST_OBJECT: request_object, Param.LOGIN_HINT: login_hint,
                      Param.RESOURCE: resources}, params, cancel=cancel, deadline=deadline)

    push_authorization_request = _sync(_push_authorization_request)
    push_authorization_request_async = _async(_push_authorization_request)

    def _parse_authorization_response(self, response: StrLike, *, expected_state: Optional[str] = None,
                                      no_state_sent: bool = False,
                                      now: Optional[int] = None) -> _Plan[AuthorizationResponse]:
        """Check the response that reached the redirect URI (full URL, query or form body):
        state, RFC 9207 ``iss``, JARM, and error responses (raised with the server's
        ``error``/``error_description``/``error_uri``). ``now``: the time a JARM response is
        validated at (Unix seconds; default now)."""
        return _Plan(Operation.AUTHORIZATION_RESPONSE, AuthorizationResponse.from_response,
                     {Param.RESPONSE: response, Param.EXPECTED_STATE: expected_state,
                      Param.NO_STATE_SENT: 1 if no_state_sent else None, Param.NOW_SECS: now})

    parse_authorization_response = _sync(_parse_authorization_response)
    parse_authorization_response_async = _async(_parse_authorization_response)

    def _end_session_url(self, *, id_token_hint: Optional[str] = None,
                         post_logout_redirect_uri: Optional[str] = None, state: Optional[str] = None,
                         params: Optional[Params] = None) -> _Plan[str]:
        """The RP-initiated logout URL."""
        return _Plan(Operation.END_SESSION_URL, _url,
                     {Param.ID_TOKEN_HINT: id_token_hint, Param.POST_LOGOUT_REDIRECT_URI: post_logout_redirect_uri,
                      Param.STATE: state}, params)

    end_session_url = _sync(_end_session_url)
    end_session_url_async = _async(_end_session_url)

    def _validate_id_token(self, id_token: StrLike, *, nonce: Optional[str] = None,
                           access_token: Optional[StrLike] = None, code: Optional[StrLike] = None,
                           max_age: Optional[int] = None, now: Optional[int] = None) -> _Plan[Claims]:
        """Validate an ID token (OpenID Connect Core §3.1.3.7; an encrypted one is decrypted with
        the client's ``decryption_keys`` first); returns its claims. ``now``: the validation
        time (Unix seconds; default now)."""
        return _Plan(Operation.VALIDATE_ID_TOKEN, _claims,
                     {Param.ID_TOKEN: id_token, Param.NONCE: nonce, Param.ACCESS_TOKEN: access_token,
                      Param.CODE: code, Param.MAX_AGE: max_age, Param.NOW_SECS: now})

    validate_id_token = _sync(_validate_id_token)
    validate_id_token_async = _async(_validate_id_token)

    # -- JOSE: logout tokens, JWS documents, JWE ---------------------------------------------

    def _validate_logout_token(self, logout_token: StrLike, *, now: Optional[int] = None,
                               cancel: Optional[Cancel] = None,
                               deadline: Optional[float] = None) -> _Plan[LogoutToken]:
        """Validate a back-channel logout token (OpenID Connect Back-Channel Logout 1.0 §2.6,
        the ``logout_token`` form parameter the OP posted): the ID-token key, algorithm and
        claim rules, ``typ`` ``logout+jwt``, the event, ``sub``/``sid``, no ``nonce``, and its
        ``jti`` seen once (a replay raises ``TokenReplayedError``). ``now``: the validation time
        (Unix seconds; default now). Returns a :class:`LogoutToken`."""
        return _Plan(Operation.VALIDATE_LOGOUT_TOKEN, LogoutToken.from_response,
                     {Param.LOGOUT_TOKEN: logout_token, Param.NOW_SECS: now}, cancel=cancel, deadline=deadline)

    validate_logout_token = _sync(_validate_logout_token)
    validate_logout_token_async = _async(_validate_logout_token)

    def _verify_jws(self, jws: StrLike, *, detached_payload: Optional[StrLike] = None, now: Optional[int] = None,
                    cancel: Optional[Cancel] = None, deadline: Optional[float] = None) -> _Plan[Payload]:
        """Verify a JWS that is not a token (compact or flattened JSON; detached content, RFC 7515
        Appendix F, with ``detached_payload``; unencoded, RFC 7797) with the issuer's keys and the
        client's algorithm policy. Returns a :class:`Payload` (payload bytes and text, protected
        header); the payload's content is not checked (it is not a token)."""
        return _Plan(Operation.VERIFY_JWS, Payload.from_response,
                     {Param.JWS: jws, Param.PAYLOAD: detached_payload, Param.NOW_SECS: now},
                     cancel=cancel, deadline=deadline)

    verify_jws = _sync(_verify_jws)
    verify_jws_async = _async(_verify_jws)

    def _decrypt(self, jwe: StrLike, *, cancel: Optional[Cancel] = None,
                 deadline: Optional[float] = None) -> _Plan[Payload]:
        """Decrypt a compact JWE with the client's ``decryption_keys`` (every key-unwrap or
        decryption failure: ``DecryptionFailedError``, one message). Decrypts only: a nested JWT
        inside is not validated. Returns a :class:`Payload` (the JWE's protected header)."""
        return _Plan(Operation.DECRYPT, Payload.from_response, {Param.JWE: jwe}, cancel=cancel, deadline=deadline)

    decrypt = _sync(_decrypt)
    decrypt_async = _async(_decrypt)

    # -- token endpoints of the resource owner's side ----------------------------------------

    def _introspect(self, token: StrLike, *, token_type_hint: Optional[str] = None, signed: bool = False,
                    params: Optional[Params] = None, cancel: Optional[Cancel] = None,
                    deadline: Optional[float] = None) -> _Plan[Claims]:
        """Token introspection (RFC 7662); ``signed=True`` asks for an RFC 9701 JWT answer
        (validated by liboidc). An inactive token is a result (``{"active": False}``)."""
        return _Plan(Operation.INTROSPECT, _claims,
                     {Param.TOKEN: token, Param.TOKEN_TYPE_HINT: token_type_hint,
                      Param.SIGNED_RESPONSE: 1 if signed else None}, params, cancel=cancel, deadline=deadline)

    introspect = _sync(_introspect)
    introspect_async = _async(_introspect)

    def _revoke(self, token: StrLike, *, token_type_hint: Optional[str] = None, params: Optional[Params] = None,
                cancel: Optional[Cancel] = None, deadline: Optional[float] = None) -> _Plan[None]:
        """Token revocation (RFC 7009); revoking an unknown token succeeds."""
        return _Plan(Operation.REVOKE, _nothing, {Param.TOKEN: token, Param.TOKEN_TYPE_HINT: token_type_hint},
                     params, cancel=cancel, deadline=deadline)

    revoke = _sync(_revoke)
    revoke_async = _async(_revoke)

    def _userinfo(self, access_token: Union[StrLike, Token], *, expected_subject: Optional[str] = None,
                  token_type: Optional[str] = None, params: Optional[Params] = None,
                  cancel: Optional[Cancel] = None, deadline: Optional[float] = None) -> _Plan[Claims]:
        """The UserInfo endpoint (``access_token``: a string or a :class:`Token`, whose type
        then goes along); ``expected_subject``: the ID token's ``sub``."""
        if isinstance(access_token, Token):
            token_type = token_type or access_token.token_type
            access_token = access_token.access_token
        return _Plan(Operation.USERINFO, _claims,
                     {Param.ACCESS_TOKEN: access_token, Param.EXPECTED_SUB: expected_subject,
                      Param.TOKEN_TYPE: token_type}, params, cancel=cancel, deadline=deadline)

    userinfo = _sync(_userinfo)
    userinfo_async = _async(_userinfo)

    # -- registration ------------------------------------------------------------------------

    def _register(self, metadata: Union[Mapping[str, Any], StrLike], *,
                  initial_access_token: Optional[str] = None, params: Optional[Params] = None,
                  cancel: Optional[Cancel] = None, deadline: Optional[float] = None) -> _Plan[Registration]:
        """Dynamic client registration (RFC 7591): ``metadata`` a mapping or JSON text;
        ``params`` further members."""
        return _Plan(Operation.REGISTER, Registration.from_response,
                     {Param.METADATA: metadata, Param.INITIAL_ACCESS_TOKEN: initial_access_token}, params,
                     cancel=cancel, deadline=deadline)

    register = _sync(_register)
    register_async = _async(_register)

    def _registration_read(self, registration: Optional[Registration] = None, *,
                           registration_client_uri: Optional[str] = None,
                           registration_access_token: Optional[str] = None, cancel: Optional[Cancel] = None,
                           deadline: Optional[float] = None) -> _Plan[Registration]:
        """RFC 7592 read (the :class:`Registration`, or its URI and access token)."""
        return _Plan(Operation.REGISTRATION_READ, Registration.from_response,
                     _registration_args(registration, registration_client_uri, registration_access_token),
                     cancel=cancel, deadline=deadline)

    registration_read = _sync(_registration_read)
    registration_read_async = _async(_registration_read)

    def _registration_update(self, registration: Optional[Registration] = None, *,
                             metadata: Union[Mapping[str, Any], StrLike],
                             registration_client_uri: Optional[str] = None,
                             registration_access_token: Optional[str] = None, params: Optional[Params] = None,
                             cancel: Optional[Cancel] = None, deadline: Optional[float] = None) -> _Plan[Registration]:
        """RFC 7592 update with the full ``metadata``."""
        typed = _registration_args(registration, registration_client_uri, registration_access_token)
        typed[Param.METADATA] = metadata
        return _Plan(Operation.REGISTRATION_UPDATE, Registration.from_response, typed, params,
                     cancel=cancel, deadline=deadline)

    registration_update = _sync(_registration_update)
    registration_update_async = _async(_registration_update)

    def _registration_delete(self, registration: Optional[Registration] = None, *,
                             registration_client_uri: Optional[str] = None,
                             registration_access_token: Optional[str] = None, cancel: Optional[Cancel] = None,
                             deadline: Optional[float] = None) -> _Plan[None]:
        """RFC 7592 delete."""
        return _Plan(Operation.REGISTRATION_DELETE, _nothing,
                     _registration_args(registration, registration_client_uri, registration_access_token),
                     cancel=cancel, deadline=deadline)

    registration_delete = _sync(_registration_delete)
    registration_delete_async = _async(_registration_delete)

    # -- resources, endpoints, DPoP ----------------------------------------------------------

    def _resource_request(self, method: str, url: StrLike, token: Union[StrLike, Token], *,
                          token_type: Optional[str] = None, body: Optional[StrLike] = None,
                          content_type: Optional[str] = None, params: Optional[Params] = None,
                          cancel: Optional[Cancel] = None,
                          deadline: Optional[float] = None) -> _Plan[ResourceResponse]:
        """Call a protected resource with ``token`` through the client's pooled connections
        (DPoP-bound requests carry a proof). Any HTTP status is a result."""
        if isinstance(token, Token):
            token_type = token_type or token.token_type
            token = token.access_token
        if not isinstance(method, str):
            raise TypeError(f"method: expected str, got {type(method).__name__}")
        return _Plan(Operation.RESOURCE, ResourceResponse.from_response,
                     {Param.METHOD: method.upper(), Param.URL: url, Param.ACCESS_TOKEN: token,
                      Param.TOKEN_TYPE: token_type, Param.BODY: body, Param.CONTENT_TYPE: content_type}, params,
                     cancel=cancel, deadline=deadline)

    resource_request = _sync(_resource_request)
    resource_request_async = _async(_resource_request)

    def _endpoint(self, name: str, *, cancel: Optional[Cancel] = None,
                  deadline: Optional[float] = None) -> _Plan[str]:
        """An endpoint's URL by metadata name: the ``endpoints=`` override, else discovery."""
        return _Plan(Operation.ENDPOINT, _url, {Param.ENDPOINT_NAME: name}, cancel=cancel, deadline=deadline)

    endpoint = _sync(_endpoint)
    endpoint_async = _async(_endpoint)

    def _take_string(self, call: Callable[[Any, Any, Any, Any], int]) -> str:
        out = ffi.new("char **")
        n = ffi.new("size_t *")
        err = ffi.new("oidc_error **")
        with self._h.use() as cp:
            _check(call(cp, out, n, err), err)
        return errors._take_string(out[0], n[0])

    def dpop_proof(self, method: str, url: StrLike, *, access_token: Optional[StrLike] = None) -> str:
        """A DPoP proof for a request you send yourself (``DPoP`` header; ``access_token``
        adds ``ath``). Never blocks."""
        if not isinstance(method, str):
            raise TypeError(f"method: expected str, got {type(method).__name__}")
        m = _arg(method.upper(), "method")
        u = _arg(url, "url")
        a = b"" if access_token is None else _arg(access_token, "access_token")
        return self._take_string(lambda cp, out, n, err: lib.oidc_oauth_dpop_proof(
            cp, m, len(m), u, len(u), a or ffi.NULL, len(a), out, n, err))

    def dpop_nonce(self, url: StrLike, nonce: StrLike) -> None:
        """Remember a ``DPoP-Nonce`` received from ``url``'s server (for :meth:`dpop_proof`)."""
        u = _arg(url, "url")
        n = _arg(nonce, "nonce")
        err = ffi.new("oidc_error **")
        with self._h.use() as cp:
            _check(lib.oidc_oauth_dpop_set_nonce(cp, u, len(u), n, len(n), err), err)

    def dpop_jkt(self) -> str:
        """The DPoP key's RFC 7638 thumbprint (bound tokens carry it as ``cnf.jkt``)."""
        return self._take_string(lambda cp, out, n, err: lib.oidc_oauth_dpop_jkt(cp, out, n, err))
