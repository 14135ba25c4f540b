"""asyncio plumbing over liboidc's completion-callback API (shared by validator.py and oauth.py).

No thread pool: the library runs the call on its own worker pool and calls back on one of its
threads; the callback copies what it needs while the borrowed pointers are valid and completes
the asyncio future through ``loop.call_soon_threadsafe``. Cancelling the awaiting task cancels
the future, whose done-callback triggers the call's ``oidc_cancel`` handle: the native call
then completes once with CANCELLED (or its real outcome if it had finished), and only then is
the bookkeeping released.

Lifetime rules (no use-after-free, no leak):

* one ``ffi.callback`` per completion signature, created at import and never freed;
* each call's state (``_Pending``) is kept in ``_live`` from before the native call until its
  completion ran (the ``user_data`` handle points at it); the completion drops it from ``_live``
  on the worker thread (a loop that never runs again still counts right), and its cancel handle
  is freed afterwards on the loop thread (``_settle``), under the lock the task-cancel trigger
  takes, never inside the completion callback;
* a value produced for a future nobody awaits any more (cancelled, loop closed) is handed to
  ``discard`` (e.g. to free an owned ``oidc_oauth_response``).

Usage (see ``start``)::

    fut = _aio.start("oidc_validate_cb",
                     lambda cb, ud, cancel, err: lib.oidc_validate_async(v, tok, len(tok), cb, ud, cancel, err),
                     convert=lambda claims, n, err: ffi.buffer(claims, n)[:])
    claims_bytes = await fut
"""

from __future__ import annotations

import asyncio
import math
import threading
from contextlib import contextmanager
from typing import Any, Callable, Iterator, List, Optional, Set

from ._native import ffi, lib
from .errors import ClosedError, _from_native, _raise_for

__all__ = ["Cancel", "start", "in_flight"]

_NULL = ffi.NULL


class Cancel:
    """A cancel handle (``oidc_cancel``), optionally with a deadline ``timeout`` in seconds.

    Pass it to a blocking or async call (``cancel=``) and call ``cancel()`` from any thread to
    end the call with ``OidcCancelledError``; an expired deadline ends it with
    ``DeadlineExceededError``. Free it with ``close()`` (or a ``with`` block); calls attached to
    it keep what they need.

    ``close()`` never frees the native handle under a running call that took it (liboidc forbids
    ``oidc_cancel_free`` concurrently with such calls): the calls hold it through ``use()``, and
    a ``close()`` while one runs marks the handle closed (no new call may take it) and leaves the
    free to the last of them. Until then ``cancel()`` still reaches the running calls.
    """

    __slots__ = ("_ptr", "_cond", "_users", "_closed")

    def __init__(self, timeout: Optional[float] = None) -> None:
        self._ptr = _NULL
        self._cond = threading.Condition(threading.Lock())
        self._users = 0
        self._closed = True  # until the native handle exists (a failed __init__ frees nothing)
        if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float))):
            raise TypeError(f"timeout must be a number of seconds or None, not {type(timeout).__name__}")
        ms = 0 if timeout is None else int(round(timeout * 1000)) if math.isfinite(timeout) else -1
        if timeout is not None and not 0 < ms <= 0xFFFFFFFF:
            raise ValueError("timeout must be > 0 (at least 1 ms) and fit in 32-bit milliseconds")
        out = ffi.new("struct oidc_cancel **")
        err = ffi.new("struct oidc_error **")
        _raise_for(lib.oidc_cancel_new(ms, out, err), err)
        self._ptr = out[0]
        self._closed = False

    @property
    def ptr(self) -> Any:
        """The ``struct oidc_cancel *`` (NULL once closed). Only for a check: a call that passes
        the handle to liboidc takes it through ``use()``."""
        return _NULL if self._closed else self._ptr

    @property
    def closed(self) -> bool:
        return self._closed

    @contextmanager
    def use(self) -> Iterator[Any]:
        """The native handle for the duration of one call that takes it; a ``close()`` meanwhile
        defers the free until the last such call left. Raises ``ClosedError`` once closed."""
        with self._cond:
            if self._closed:
                raise ClosedError("the Cancel is closed")
            self._users += 1
        try:
            yield self._ptr
        finally:
            p = _NULL
            with self._cond:
                self._users -= 1
                if self._closed and self._users == 0:
                    p, self._ptr = self._ptr, _NULL
            if p != _NULL:
                lib.oidc_cancel_free(p)

    def cancel(self) -> None:
        """Cancel every call under this handle, now and later. Idempotent; any thread."""
        with self._cond:  # the free takes the handle under this lock: never concurrently
            if self._ptr != _NULL:
                lib.oidc_cancel_trigger(self._ptr)

    @property
    def cancelled(self) -> bool:
        with self._cond:
            return self._ptr != _NULL and bool(lib.oidc_cancel_is_cancelled(self._ptr))

    def close(self) -> None:
        """Free the handle now, or (calls running under it) when the last of them returns."""
        p = _NULL
        with self._cond:
            if self._closed:
                return
            self._closed = True
            if self._users == 0:
                p, self._ptr = self._ptr, _NULL
        if p != _NULL:
            lib.oidc_cancel_free(p)

    def __enter__(self) -> "Cancel":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass


class _Pending:
    __slots__ = ("loop", "future", "convert", "discard", "cancel", "owned", "outer", "handle", "done")

    def __init__(self, loop: asyncio.AbstractEventLoop, future: "asyncio.Future[Any]",
                 convert: Callable[..., Any], discard: Optional[Callable[[Any], None]]) -> None:
        self.loop, self.future, self.convert, self.discard = loop, future, convert, discard
        self.cancel: Any = _NULL
        self.owned = True  # our own handle (freed after completion) or the caller's Cancel
        self.outer: Optional[Cancel] = None  # the caller's Cancel, kept alive until completion
        self.handle: Any = None
        self.done = False


# Every call whose completion has not run yet (keeps its user_data handle alive).
_live: Set[_Pending] = set()
_live_lock = threading.Lock()


def in_flight() -> int:
    """How many async calls of this process await their native completion (a test hook)."""
    with _live_lock:
        return len(_live)


def _release(p: _Pending) -> None:
    """The call completed (or never started): mark it done and drop it from ``_live``. Runs on
    the completing worker thread, so the count is right even when the loop never runs again
    (e.g. while ``asyncio.run`` closes). The cancel handle is NOT freed here: freeing it inside
    the completion callback of a call attached to it crashed the library (a use-after-free seen
    in the next call; reported), so it is freed later, off the callback (``_free_cancel``)."""
    with _live_lock:
        p.done = True
        _live.discard(p)
        p.outer = None


def _free_cancel(p: _Pending) -> None:
    """Free the call's own cancel handle (never from inside a completion callback)."""
    with _live_lock:  # the task-cancel trigger reads p.cancel under this lock
        c, p.cancel = p.cancel, _NULL
    if c != _NULL and p.owned:
        lib.oidc_cancel_free(c)


# Calls whose completion found the loop closed: their cancel handles are freed by the next
# start() (or at exit), on a Python thread, outside any completion callback.
_graveyard: List[_Pending] = []


def _drain_graveyard() -> None:
    while _graveyard:
        try:
            p = _graveyard.pop()
        except IndexError:  # pragma: no cover - raced with another drain
            return
        _free_cancel(p)


def _settle(p: _Pending, ok: bool, value: Any) -> None:
    """On the loop thread: free the cancel handle, complete the future (or discard the value
    nobody awaits). A loop that never runs this again leaves the handle to the garbage
    collector of the loop's queue (p.cancel is not gc-tracked: a bounded leak of one small
    handle per such call, never a use-after-free)."""
    _free_cancel(p)
    fut = p.future
    if fut.done():  # cancelled while the native call ran
        if ok and p.discard is not None:
            p.discard(value)
        return
    if ok:
        fut.set_result(value)
    else:
        fut.set_exception(value)


def _complete(user_data: Any, result: int, *args: Any) -> None:
    """On a liboidc worker thread. Every completion signature ends with ``const oidc_error *err``."""
    p: _Pending = ffi.from_handle(user_data)
    if result == 0:
        try:
            ok, value = True, p.convert(*args)
        except BaseException as e:  # a conversion failure is the caller's exception, not a crash
            ok, value = False, e
    else:
        ok, value = False, _from_native(result, args[-1])
    _release(p)
    try:
        p.loop.call_soon_threadsafe(_settle, p, ok, value)
    except RuntimeError:  # the loop is closed: nobody will await this
        _graveyard.append(p)
        if ok and p.discard is not None:
            p.discard(value)


def _on_error(exc_type: Any, exc: Any, tb: Any) -> None:  # pragma: no cover - defensive
    import sys
    import traceback

    print("liboidc: exception in an async completion (dropped):", file=sys.stderr)
    traceback.print_exception(exc_type, exc, tb)


def _cb_validate(ud: Any, result: int, claims: Any, n: int, err: Any) -> None:
    _complete(ud, result, claims, n, err)


def _cb_decision(ud: Any, result: int, decision: Any, err: Any) -> None:
    _complete(ud, result, decision, err)


def _cb_done(ud: Any, result: int, err: Any) -> None:
    _complete(ud, result, err)


def _cb_oauth(ud: Any, result: int, response: Any, err: Any) -> None:
    _complete(ud, result, response, err)


# The C function pointers, alive for the life of the process.
CALLBACKS = {
    "oidc_validate_cb": ffi.callback("oidc_validate_cb", _cb_validate, onerror=_on_error),
    "oidc_decision_cb": ffi.callback("oidc_decision_cb", _cb_decision, onerror=_on_error),
    "oidc_done_cb": ffi.callback("oidc_done_cb", _cb_done, onerror=_on_error),
    "oidc_oauth_response_cb": ffi.callback("oidc_oauth_response_cb", _cb_oauth, onerror=_on_error),
}


def _trigger_on_cancel(p: _Pending) -> Callable[["asyncio.Future[Any]"], None]:
    def cb(fut: "asyncio.Future[Any]") -> None:
        if not fut.cancelled():
            return
        with _live_lock:  # _release frees p.cancel under this lock
            if p.done:
                return
            outer = p.outer
            if outer is None and p.cancel != _NULL:
                lib.oidc_cancel_trigger(p.cancel)  # non-blocking
        if outer is not None:
            outer.cancel()  # checks under its own lock that the caller has not closed it

    return cb


def start(
    kind: str,
    call: Callable[[Any, Any, Any, Any], int],
    convert: Callable[..., Any],
    *,
    discard: Optional[Callable[[Any], None]] = None,
    timeout: Optional[float] = None,
    cancel: Optional[Cancel] = None,
    loop: Optional[asyncio.AbstractEventLoop] = None,
) -> "asyncio.Future[Any]":
    """Start a non-blocking native call; returns the future its completion settles.

    ``kind``: the completion typedef ("oidc_validate_cb", "oidc_decision_cb", "oidc_done_cb",
    "oidc_oauth_response_cb"). ``call(cb, user_data, cancel_ptr, err_out)`` makes the native call
    and returns its rc. ``convert(*args_without_err)`` runs on the worker thread on success, with
    the callback's borrowed arguments (minus ``user_data``, ``result``; ``err`` last, NULL): copy
    what you keep. ``discard(value)`` receives a converted value nobody awaits. ``timeout``
    (seconds) gives the call a deadline (DeadlineExceededError). Without ``cancel`` the call gets
    its own handle, freed after completion; with ``cancel`` (a ``Cancel``) the call runs under
    the caller's handle (which is kept alive until completion). Either way cancelling the
    awaiting task triggers the handle, which cancels the native call. Must run on the loop's thread.
    """
    loop = loop or asyncio.get_running_loop()
    if _graveyard:
        _drain_graveyard()
    fut = loop.create_future()
    p = _Pending(loop, fut, convert, discard)
    ms = 0
    if timeout is not None:
        ms = int(round(timeout * 1000))
        if not 0 < ms <= 0xFFFFFFFF:
            raise ValueError("timeout must be > 0 (at least 1 ms) and fit in 32-bit milliseconds")
    err = ffi.new("struct oidc_error **")
    if cancel is not None:
        if not isinstance(cancel, Cancel):
            raise TypeError(f"cancel must be a liboidc.Cancel or None, not {type(cancel).__name__}")
        if cancel.ptr == _NULL:
            raise ValueError("cancel: the Cancel is closed")
        if ms:
            raise ValueError("give either timeout or cancel (a Cancel carries its own deadline)")
        p.cancel, p.owned, p.outer = cancel.ptr, False, cancel
    else:
        out = ffi.new("struct oidc_cancel **")
        _raise_for(lib.oidc_cancel_new(ms, out, err), err)
        p.cancel = out[0]
    p.handle = ffi.new_handle(p)
    with _live_lock:
        _live.add(p)
    try:
        if p.outer is not None:
            # the caller's handle: held for the call (a concurrent close() defers its free);
            # liboidc keeps its own reference from the call's entry on
            with p.outer.use():
                rc = call(CALLBACKS[kind], p.handle, p.cancel, err)
        else:
            rc = call(CALLBACKS[kind], p.handle, p.cancel, err)
    except BaseException:
        _release(p)
        _free_cancel(p)
        raise
    if rc != 0:
        _release(p)
        _free_cancel(p)
        _raise_for(rc, err)
    fut.add_done_callback(_trigger_on_cancel(p))
    return fut



def _after_fork_in_child() -> None:
    """In a forked child: the parent's in-flight calls never complete here (their threads and
    loops are the parent's); forget them and re-create the lock (it may have been held)."""
    global _live_lock
    _live_lock = threading.Lock()
    _live.clear()
    _graveyard.clear()
