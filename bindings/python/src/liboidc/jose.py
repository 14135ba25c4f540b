"""Options of encrypted tokens and signed revocation lists: ``DecryptionKey`` and ``Revocation``.

Plain data (frozen dataclasses) for ``Validator(...)`` and ``OAuthClient(...)``:

* ``decryption_keys=[DecryptionKey(pem_or_jwk, kid="enc-1"), ...]`` (or the key texts / JWK
  mappings themselves): each one ``oidc_*_builder_add_decryption_key``; the library parses it,
  selects it by ``kid`` and never echoes it. ``repr`` never shows a key.
* ``revocation=Revocation(policy="fail_closed", url=None, grace=0, min_interval=0,
  max_interval=0)``: ``oidc_validator_builder_set_revocation`` (+ ``_set_revocation_bounds``).

Types are checked here; values (a key that does not parse, an http URL, bounds out of range) are
the library's to refuse when the validator or client is built, with its code and message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, List, Mapping, Optional, Union

from ._native import lib
from .errors import _bytes

__all__ = ["DecryptionKey", "Revocation"]

StrOrBytes = Union[str, bytes]
KeyText = Union[str, bytes, Mapping[str, Any]]

_U32 = 0xFFFFFFFF


@dataclass(frozen=True, repr=False)
class DecryptionKey:
    """A private key for encrypted tokens (JWE): ``key`` is a private JWK (JSON text or a
    mapping) or a PEM private key (PKCS#8, PKCS#1, SEC1); ``kid`` names it (``None``: the JWK's
    own ``kid``, if any). ``repr``/``str`` show the kid only, never the key."""

    key: KeyText
    kid: Optional[StrOrBytes] = None

    def __post_init__(self) -> None:
        if not isinstance(self.key, (str, bytes, Mapping)):
            raise TypeError(f"DecryptionKey.key must be a PEM / JWK text or a JWK mapping, not {type(self.key).__name__}")
        if self.kid is not None and not isinstance(self.kid, (str, bytes)):
            raise TypeError(f"DecryptionKey.kid must be str, bytes or None, not {type(self.kid).__name__}")
        if isinstance(self.key, Mapping):  # frozen: a snapshot of the mapping, as JSON text
            object.__setattr__(self, "key", json.dumps(dict(self.key)))

    @classmethod
    def coerce(cls, value: Union["DecryptionKey", KeyText]) -> "DecryptionKey":
        """A ``DecryptionKey`` as is, or one without a kid from a key text or a JWK mapping."""
        if isinstance(value, DecryptionKey):
            return value
        if isinstance(value, (str, bytes, Mapping)):
            return cls(value)
        raise TypeError(f"a decryption key must be a liboidc.DecryptionKey, a PEM / JWK text or a JWK mapping, "
                        f"not {type(value).__name__}")

    def __repr__(self) -> str:
        return f"DecryptionKey(kid={self.kid!r}, key=[FILTERED])"

    __str__ = __repr__


def _decryption_keys(value: Any) -> List[DecryptionKey]:
    """``decryption_keys=``: one key (a ``DecryptionKey``, a text, a JWK mapping) or an iterable of them."""
    if isinstance(value, (DecryptionKey, str, bytes, Mapping)):
        return [DecryptionKey.coerce(value)]
    try:
        items = list(value)
    except TypeError:
        raise TypeError(f"decryption_keys must be a key or an iterable of keys, not {type(value).__name__}") from None
    return [DecryptionKey.coerce(v) for v in items]


def _names(value: Any, what: str) -> bytes:
    """A space-separated name list from a str or an iterable of str (the library parses it)."""
    if isinstance(value, (str, bytes)):
        return _bytes(value, what)
    try:
        items = list(value)
    except TypeError:
        raise TypeError(f"{what} must be a string or an iterable of strings, not {type(value).__name__}") from None
    return b" ".join(_bytes(v, what) for v in items)


def add_decryption_options(b: Any, keys: Any, algorithms: Any, err: Any, call: Callable[[str, int], None],
                           add_key: Any, set_algorithms: Any) -> None:
    """Set ``decryption_keys`` and ``decryption_algorithms`` on a builder (validator or protocol
    client: ``add_key`` / ``set_algorithms`` are its two setters); ``call(what, rc)`` raises."""
    if keys is not None:
        for i, k in enumerate(_decryption_keys(keys)):
            key = _bytes(k.key, f"decryption_keys[{i}]")
            kid = b"" if k.kid is None else _bytes(k.kid, f"decryption_keys[{i}].kid")
            call(f"decryption_keys[{i}]", add_key(b, key, len(key), kid, len(kid), err))
    if algorithms is not None:
        names = _names(algorithms, "decryption_algorithms")
        call("decryption_algorithms", set_algorithms(b, names, len(names), err))


_POLICIES = {"fail_closed": lib.OIDC_REVOCATION_FAIL_CLOSED, "fail_open": lib.OIDC_REVOCATION_FAIL_OPEN}


def _secs(v: Any, what: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise TypeError(f"{what} must be an int (seconds), not {type(v).__name__}")
    if not 0 <= v <= _U32:
        raise ValueError(f"{what} = {v} is out of range (0 to {_U32})")
    return v


@dataclass(frozen=True)
class Revocation:
    """Check every token against the issuer's signed revocation list (a token whose ``kid`` or
    ``jti`` is listed raises ``RevokedError``).

    ``policy``: what validation does when the list is unavailable past ``grace``:
    ``"fail_closed"`` (``RevocationUnavailableError``, 503) or ``"fail_open"`` (accept; the last
    list held still applies). ``url``: the list's URL (``None``: the issuer's
    ``/.well-known/revocation-list``). ``grace`` (seconds, 0: the library's default, 3600): how
    long a stale list keeps serving while fetches fail. ``min_interval`` / ``max_interval``
    (seconds, 0: the library's defaults, 30 and 86400): the bounds of the poll interval the
    list's ``next_update`` gives. ``Validator.prefetch()`` fetches the list too.
    """

    policy: str
    url: Optional[StrOrBytes] = None
    grace: int = 0
    min_interval: int = 0
    max_interval: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.policy, str):
            raise TypeError(f"Revocation.policy must be a str, not {type(self.policy).__name__}")
        p = self.policy.replace("-", "_")
        if p not in _POLICIES:
            raise ValueError(f"Revocation.policy must be one of {sorted(_POLICIES)}, not {self.policy!r}")
        object.__setattr__(self, "policy", p)
        if self.url is not None and not isinstance(self.url, (str, bytes)):
            raise TypeError(f"Revocation.url must be str, bytes or None, not {type(self.url).__name__}")
        for name in ("grace", "min_interval", "max_interval"):
            _secs(getattr(self, name), f"Revocation.{name}")

    @classmethod
    def coerce(cls, value: Union["Revocation", str, bool, Mapping[str, Any]]) -> "Revocation":
        """A ``Revocation`` as is, a policy name, or a mapping of its fields (``policy`` required:
        liboidc has no default for what happens when the list is unavailable)."""
        if isinstance(value, Revocation):
            return value
        if isinstance(value, str):
            return cls(policy=value)
        if isinstance(value, Mapping):
            return cls(**value)
        raise TypeError(f"revocation must be a liboidc.Revocation, a policy name (\"fail_closed\" or \"fail_open\") or a "
                        f"mapping of its fields, "
                        f"not {type(value).__name__}")

    def apply(self, b: Any, err: Any, call: Callable[[str, int], None]) -> None:
        """``oidc_validator_builder_set_revocation`` (and ``_set_revocation_bounds`` when a bound is given)."""
        url = b"" if self.url is None else _bytes(self.url, "revocation.url")
        call("revocation", lib.oidc_validator_builder_set_revocation(b, url, len(url), _POLICIES[self.policy],
                                                                     self.grace, err))
        if self.min_interval or self.max_interval:
            call("revocation", lib.oidc_validator_builder_set_revocation_bounds(b, self.min_interval,
                                                                                self.max_interval, err))
