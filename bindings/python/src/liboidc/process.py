"""Process-wide facilities: logging into Python ``logging``, metrics, warm-start snapshots,
the async worker pool, and fork safety.

Logging: on import the library's log callback (``oidc_set_log_callback``) is pointed at the
``liboidc`` logger (child loggers per component: ``liboidc.cache``, ``liboidc.discovery``, ...)
with messages up to debug; ``configure_logging`` changes the logger or level, ``None`` turns it
off. The callback runs on whatever thread logs (library workers included) and only touches
``logging`` (thread safe). Messages never contain secrets or tokens (the library's guarantee).

Fork safety (gunicorn's pre-fork model): the library notices a fork itself (its caches and
worker pool restart in the child; counted as ``fork_generation`` in the metrics). The Python
side re-creates its locks and forgets the parent's in-flight async calls in the child
(``os.register_at_fork``), so a worker forked while the master had calls in flight starts clean.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import threading
from typing import Any, Dict, Optional, Union

from . import _aio
from ._native import ffi, lib
from .errors import _bytes, _new_err, _raise_for

__all__ = ["configure_logging", "metrics", "export_snapshot", "import_snapshot", "set_snapshot_key",
           "set_key_cache_max_entries", "configure_async", "shutdown_async"]

_NULL = ffi.NULL
# library level (1 error ... 5 trace) -> logging level
_LEVELS = {1: logging.ERROR, 2: logging.WARNING, 3: logging.INFO, 4: logging.DEBUG, 5: 5}
_logger: Optional[logging.Logger] = None


def _on_log(user_data: Any, level: int, target: Any, target_len: int, message: Any, message_len: int) -> None:
    lg = _logger
    if lg is None:
        return
    py_level = _LEVELS.get(level, logging.DEBUG)
    if not lg.isEnabledFor(py_level):
        return
    t = ffi.buffer(target, target_len)[:].decode("utf-8", "replace")
    m = ffi.buffer(message, message_len)[:].decode("utf-8", "replace")
    name = t[6:] if t.startswith("oidc::") else t
    (lg.getChild(name.replace("::", ".")) if name else lg).log(py_level, m)


_log_cb = ffi.callback("oidc_log_cb", _on_log, onerror=lambda *a: None)


def configure_logging(logger: Union[logging.Logger, str, None] = "liboidc", max_level: int = 4) -> None:
    """Send the library's log messages to ``logger`` (a Logger or its name; None: stop logging).

    ``max_level``: 1 error, 2 warn, 3 info, 4 debug (default), 5 trace; the logger's own level
    filters further.
    """
    global _logger
    if isinstance(max_level, bool) or not isinstance(max_level, int) or not 1 <= max_level <= 5:
        raise ValueError("max_level must be 1 (error) to 5 (trace)")
    err = _new_err()
    if logger is None:
        _raise_for(lib.oidc_set_log_callback(ffi.NULL, _NULL, 0, err), err)
        _logger = None
        return
    lg = logging.getLogger(logger) if isinstance(logger, str) else logger
    if not isinstance(lg, logging.Logger):
        raise TypeError("logger must be a logging.Logger, a logger name or None")
    _logger = lg
    _raise_for(lib.oidc_set_log_callback(_log_cb, _NULL, max_level, err), err)


def metrics() -> Dict[str, Any]:
    """The process-wide counters (``oidc_metrics_json``) as a dict."""
    out = ffi.new("char **")
    n = ffi.new("size_t *")
    err = _new_err()
    _raise_for(lib.oidc_metrics_json(out, n, err), err)
    try:
        return json.loads(ffi.buffer(out[0], n[0])[:])
    finally:
        lib.oidc_string_free(out[0])


def export_snapshot(validator: Any = None) -> str:
    """The key cache as a JSON snapshot (public keys and metadata only), of ``validator`` or of
    the whole process (None). Import it in a fresh process to start warm with zero fetches."""
    p = _NULL if validator is None else validator._ptr()
    out = ffi.new("char **")
    n = ffi.new("size_t *")
    err = _new_err()
    _raise_for(lib.oidc_cache_export_json(p, out, n, err), err)
    try:
        return ffi.buffer(out[0], n[0])[:].decode("utf-8")
    finally:
        lib.oidc_string_free(out[0])


def import_snapshot(snapshot: Union[str, bytes], validator: Any = None) -> int:
    """Import a snapshot from ``export_snapshot`` (verbatim); returns how many entries were taken.

    A snapshot is a trust anchor: keep it with your configuration, or authenticate it with
    ``set_snapshot_key``. A malformed or unauthenticated (when a key is set) one raises and
    changes nothing."""
    p = _NULL if validator is None else validator._ptr()
    s = _bytes(snapshot, "snapshot")
    n = ffi.new("size_t *")
    err = _new_err()
    _raise_for(lib.oidc_cache_import_json(p, s, len(s), n, err), err)
    return int(n[0])


def set_snapshot_key(key: Optional[bytes]) -> None:
    """Authenticate snapshots with HMAC-SHA256 under ``key`` (16 to 1024 bytes; None clears it)."""
    if key is not None and not isinstance(key, (bytes, bytearray)):
        raise TypeError("key must be bytes or None")
    k = bytes(key or b"")
    err = _new_err()
    _raise_for(lib.oidc_snapshot_set_key(k if k else _NULL, len(k), err), err)


def set_key_cache_max_entries(max_entries: int) -> None:
    """Bound the process-wide key cache to ``max_entries`` JWKS URLs (default 64, at least 1)."""
    if isinstance(max_entries, bool) or not isinstance(max_entries, int):
        raise TypeError("max_entries must be an int")
    if not 1 <= max_entries < 2**63:
        raise ValueError("max_entries must be at least 1")
    lib.oidc_cache_set_max_entries(max_entries)


def configure_async(threads: int = 0, queue_capacity: int = 4096) -> None:
    """Size the library's async worker pool (call before the first async call)."""
    err = _new_err()
    _raise_for(lib.oidc_async_configure(threads, queue_capacity, err), err)


def shutdown_async(timeout: float = 5.0) -> None:
    """Stop the async worker pool (pending calls complete with CANCELLED)."""
    err = _new_err()
    _raise_for(lib.oidc_async_shutdown(int(timeout * 1000), err), err)


def _after_fork_in_child() -> None:
    _aio._after_fork_in_child()


def _at_exit() -> None:
    """Before the interpreter finalizes: no library thread may call into Python after that (a
    thread entering Python during finalization is terminated by pthread_exit, which aborts the
    process when it unwinds through the library's frames). Remove the log callback and stop the
    async worker pool (queued calls complete with CANCELLED while Python still runs them).

    The one exit handler of the package, for the async calls of the validator and of the
    protocol client alike (registered at import of ``liboidc``, which every module imports).
    Exiting with the pool's threads still around aborted the process ("FATAL: exception not
    rethrown": 14 of 60 runs of a script whose last async call ended at its deadline with its
    request in flight; 0 with the pool joined here, bounded by 5 s)."""
    global _logger
    _logger = None
    _aio._drain_graveyard()
    for call in (lambda e: lib.oidc_set_log_callback(ffi.NULL, _NULL, 0, e),
                 lambda e: lib.oidc_async_shutdown(5000, e)):
        err = _new_err()
        try:
            call(err)
        finally:
            if err[0] != _NULL:
                lib.oidc_error_free(err[0])


atexit.register(_at_exit)

if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)

configure_logging()
