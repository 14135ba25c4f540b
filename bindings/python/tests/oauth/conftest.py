"""The protocol-client tests' fixtures (defined in support.py): idp, mock_url, closing, mode, call."""

from .support import call, closing, idp, mock_url, mode  # noqa: F401
