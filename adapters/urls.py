"""Store URLs taken apart, and passwords kept out of every message.

Which scheme means which backend is decided by the one table in
:mod:`adapters.stores`; this module only splits and redacts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import SplitResult, parse_qsl, quote, urlsplit

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


MASK = "***"


def is_secret_option(name: str) -> bool:
    """A query option that carries a secret: ``password``, ``pass``,
    ``sslpassword``, ``auth_token``, ``secret``, …"""
    lowered = name.lower()
    return lowered in ("pass", "passwd", "pwd") or any(
        word in lowered for word in ("password", "secret", "token")
    )


def redact(url: str) -> str:
    """The URL with every password replaced by ``***``: the one in the
    userinfo and the value of every secret query option (see
    :func:`is_secret_option`).  A URL that does not parse is not echoed."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if parts.password is not None:
            netloc = netloc.replace(f":{parts.password}@", f":{MASK}@", 1)
        query = parts.query
        if query:
            pairs = parse_qsl(query, keep_blank_values=True)
            if any(is_secret_option(k) for k, _ in pairs):
                query = "&".join(
                    f"{quote(k, safe='')}={MASK if is_secret_option(k) else quote(v, safe='/:=')}"
                    for k, v in pairs
                )
        if netloc == parts.netloc and query == parts.query:
            return url
        after_scheme = url.strip()[len(parts.scheme) + 1 :] if parts.scheme else url.strip()
        return _joined(parts, netloc, query, has_authority=after_scheme.startswith("//"))
    except ValueError:
        return "<unparsable URL>"


def _joined(parts: SplitResult, netloc: str, query: str, *, has_authority: bool) -> str:
    # Not geturl(): on Python 3.11 it drops an empty authority, so
    # sqlite:///hub.db would be shown as sqlite:/hub.db, another URL.
    text = f"{parts.scheme}:" if parts.scheme else ""
    if has_authority:
        text += f"//{netloc}"
    text += parts.path
    if query:
        text += f"?{query}"
    if parts.fragment:
        text += f"#{parts.fragment}"
    return text


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
