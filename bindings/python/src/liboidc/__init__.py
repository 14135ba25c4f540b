"""liboidc: OAuth 2.0 / OpenID Connect token validation, request authentication and protocol client,
over the liboidc C library (sync and asyncio).

Import name and distribution name: ``liboidc`` (see README.md). Quick start::

    import liboidc
    v = liboidc.Validator(issuer="https://idp.example.com", audiences="api://orders")
    claims = v.validate(token)          # raises liboidc.TokenExpiredError, ...
    print(claims.sub, claims.scopes)
"""

from __future__ import annotations

from ._native import VERSION as LIBRARY_VERSION
from ._native import library_path as LIBRARY_PATH
from ._aio import Cancel
from .errors import *  # noqa: F401,F403
from .errors import __all__ as _errors_all
from .validator import Claims, Decision, Validator
from .issuer import Issuer, TenantBounds
from .jose import DecryptionKey, Revocation
from .process import (configure_async, configure_logging, export_snapshot, import_snapshot, metrics,
                      set_key_cache_max_entries, set_snapshot_key, shutdown_async)

__version__ = "0.2.0"

__all__ = ["LIBRARY_VERSION", "LIBRARY_PATH", "Cancel", "Validator", "Issuer", "TenantBounds", "DecryptionKey", "Revocation",
           "Claims", "Decision", "metrics",
           "configure_logging", "export_snapshot", "import_snapshot", "set_snapshot_key", "set_key_cache_max_entries", "configure_async",
           "shutdown_async", "__version__"]
__all__ += _errors_all  # this spelling, not `[...] + list(...)`: type checkers read it (py.typed re-exports)
