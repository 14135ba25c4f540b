"""liboidc: OAuth 2.0 / OpenID Connect token validation and protocol client over the liboidc C library.

Import name and distribution name: ``liboidc`` (see README.md).
"""

from __future__ import annotations

from ._native import VERSION as LIBRARY_VERSION
from ._native import library_path as LIBRARY_PATH
from ._aio import Cancel
from .errors import *  # noqa: F401,F403
from .errors import __all__ as _errors_all

__version__ = "0.2.0"

__all__ = ["LIBRARY_VERSION", "LIBRARY_PATH", "Cancel", "__version__"] + list(_errors_all)
