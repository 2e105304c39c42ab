"""Store URLs taken apart, and passwords kept out of every message.

Which scheme means which backend is decided by the one table in
:mod:`adapters.stores`; this module only splits and redacts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import SplitResult, parse_qsl, urlsplit

from eventstore.errors import StoreConfigurationError


@dataclass(frozen=True)
class StoreURL:
    """A parsed store URL: which backend, and its query options."""

    raw: str = field(repr=False)
    backend: str  # a name of the table in adapters.stores: memory | sqlite | postgresql | redis
    options: dict[str, str] = field(repr=False)

    @property
    def redacted(self) -> str:
        return redact(self.raw)

    def __repr__(self) -> str:
        return f"StoreURL({self.redacted!r}, backend={self.backend!r})"


def redact(url: str) -> str:
    """The URL with any password replaced by ``***``."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
        return parts._replace(netloc=netloc).geturl()
    except ValueError:
        return "<unparsable URL>"


def split(url: object) -> tuple[SplitResult, dict[str, str]]:
    """The URL's parts and its query options.

    Raises: StoreConfigurationError naming the (redacted) URL.
    """
    if not isinstance(url, str) or not url.strip():
        raise StoreConfigurationError(f"a store URL must be a non-empty string, got {url!r}")
    try:
        parts = urlsplit(url)
        options = dict(parse_qsl(parts.query, keep_blank_values=True))
    except ValueError as exc:
        raise StoreConfigurationError(f"malformed store URL {redact(url)!r}: {exc}") from exc
    return parts, options
