"""Connection URLs -> ``Redis`` keyword settings.

- ``redis://[[user]:password@]host[:port][/db][?setting=value&...]``
- ``rediss://...`` the same over TLS (``ssl=True``; chain and host name verified)
- ``unix://[[user]:password@]/path/to/socket[?db=0&...]``
- ``redis+sentinel://[[user]:password@]host[:port][,host[:port]...]/service[/db][?...]``
  (``rediss+sentinel://`` for TLS): the sentinels (port 26379 by default) and
  the service; the user and password are the data nodes'. The query may also
  hold the ``Sentinel`` settings (``sentinel_password``, ``sentinel_ssl``...).

Any keyword setting of ``Redis`` may be a query parameter
(``?command_timeout=0.5&protocol=2&decode_responses=true``); its text is
converted to the setting's type. Unknown parameters, repeated ones and bad
values raise ``DataError``. User name and password are percent-decoded.
No message here ever quotes the URL: it may hold a password.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from .errors import DataError

__all__ = ["is_sentinel_url", "parse_sentinel_url", "parse_url"]

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def _bool(text: str) -> bool:
    low = text.lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise ValueError(text)


def _seconds(text: str) -> float | None:
    """A timeout: a number of seconds, or none/empty for no limit."""
    if text.lower() in ("", "none", "null"):
        return None
    value = float(text)
    if value < 0 or value != value:
        raise ValueError(text)
    return value


def _str(text: str) -> str:
    return text


def _opt_str(text: str) -> str | None:
    return text or None


_QUERY: dict[str, Callable[[str], Any]] = {
    "db": int,
    "username": _str,
    "password": _str,
    "protocol": int,
    "decode_responses": _bool,
    "encoding": _str,
    "encoding_errors": _str,
    "connect_timeout": _seconds,
    "command_timeout": _seconds,
    "max_connections": int,
    "pool_timeout": _seconds,
    "client_name": _opt_str,
    "retry_reads": _bool,
    "ssl": _bool,
    "ssl_ca_certs": _str,
    "ssl_certfile": _str,
    "ssl_keyfile": _str,
    "ssl_cert_reqs": _str,
    "ssl_check_hostname": _bool,
}
_SENTINEL_QUERY: dict[str, Callable[[str], Any]] = {
    **_QUERY,
    "sentinel_username": _str,
    "sentinel_password": _str,
    "sentinel_ssl": _bool,
    "sentinel_ssl_ca_certs": _str,
    "sentinel_ssl_certfile": _str,
    "sentinel_ssl_keyfile": _str,
    "sentinel_ssl_cert_reqs": _str,
    "sentinel_ssl_check_hostname": _bool,
    "sentinel_timeout": _seconds,
    "check_interval": float,
}
_SECRET = frozenset({"password", "sentinel_password"})
_SENTINEL_SCHEMES = ("redis+sentinel", "rediss+sentinel")


def _bad_port(netloc: str) -> str:
    """What is wrong with the port; only the part after the credentials is quoted."""
    host = netloc.rpartition("@")[2]
    text = host.rpartition("]")[2] if host.startswith("[") else host
    port = text.rpartition(":")[2]
    return (
        f"the URL's port {port!r} is not a port number (0-65535): "
        "redis://host:6379/0, [::1]:6379 for an IPv6 address"
    )


def parse_url(url: str) -> dict[str, Any]:
    """The ``Redis`` keyword settings a URL stands for."""
    if not isinstance(url, str):
        raise DataError(f"a URL must be a str, not {type(url).__name__}")
    try:
        parts = urlsplit(url)
    except ValueError:  # an unclosed IPv6 bracket
        raise DataError("the URL's host is malformed (an IPv6 address goes in [])") from None
    try:
        port = parts.port
    except ValueError:
        raise DataError(_bad_port(parts.netloc)) from None
    scheme = parts.scheme.lower()
    options: dict[str, Any] = {}
    if parts.username:
        options["username"] = unquote(parts.username)
    if parts.password is not None:
        options["password"] = unquote(parts.password)
    if scheme in ("redis", "rediss"):
        if parts.hostname:
            options["host"] = unquote(parts.hostname)
        if port is not None:
            options["port"] = port
        path = parts.path.strip("/")
        if path:
            try:
                options["db"] = int(path)
            except ValueError:
                raise DataError("the URL path must be a database number, like /0") from None
        if scheme == "rediss":
            options["ssl"] = True
    elif scheme == "unix":
        if not parts.path:
            raise DataError("a unix:// URL needs a socket path: unix:///path/to/redis.sock")
        options["unix_socket_path"] = unquote(parts.path)
    else:
        raise DataError(f"unsupported URL scheme {scheme!r}: use redis://, rediss:// or unix://")
    _read_query(parts.query, parts.fragment, _QUERY, options)
    if options.get("ssl") is False and scheme == "rediss":
        raise DataError("ssl=false contradicts the rediss:// scheme")
    return options


def _read_query(
    query_text: str, fragment: str, table: dict[str, Callable[[str], Any]], options: dict[str, Any]
) -> None:
    """Add the query's settings to ``options``, converted by ``table``."""
    if fragment:
        raise DataError("a URL fragment (#...) has no meaning here")
    seen: set[str] = set()
    try:
        query = parse_qsl(query_text, keep_blank_values=True, strict_parsing=bool(query_text))
    except ValueError:
        raise DataError("malformed URL query string") from None
    for name, text in query:
        convert = table.get(name)
        if convert is None:
            known = ", ".join(sorted(table))
            raise DataError(f"unknown URL parameter {name!r}; known: {known}")
        if name in seen or (name == "db" and "db" in options):
            raise DataError(f"URL parameter {name!r} given twice")
        seen.add(name)
        try:
            options[name] = convert(text)
        except ValueError:
            shown = "***" if name in _SECRET else repr(text)
            raise DataError(f"URL parameter {name}={shown} is not a valid value") from None


def is_sentinel_url(url: object) -> bool:
    return isinstance(url, str) and url.partition("://")[0].lower() in _SENTINEL_SCHEMES


def _sentinel_address(text: str) -> tuple[str, int]:
    if text.startswith("["):  # [IPv6]:port
        host, _, rest = text[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else rest
    else:
        host, colon, port_text = text.rpartition(":")
        if not colon:
            host, port_text = text, ""
    if not host:
        raise DataError("a sentinel URL names a sentinel without a host")
    try:
        port = int(port_text) if port_text else 26379
    except ValueError:
        raise DataError("a sentinel URL has a sentinel port that is not a number") from None
    if not 0 < port < 65536:
        raise DataError(f"a sentinel URL has sentinel port {port}")
    return (unquote(host), port)


def parse_sentinel_url(url: str) -> tuple[list[tuple[str, int]], str, dict[str, Any]]:
    """The sentinels, the service name and the keyword settings of a sentinel URL."""
    if not is_sentinel_url(url):
        raise DataError("a sentinel URL starts with redis+sentinel:// or rediss+sentinel://")
    parts = urlsplit(url)
    userinfo, at, hosts = parts.netloc.rpartition("@")
    options: dict[str, Any] = {}
    if at:
        user, colon, password = userinfo.partition(":")
        if user:
            options["username"] = unquote(user)
        if colon:
            options["password"] = unquote(password)
    sentinels = [_sentinel_address(h) for h in hosts.split(",") if h]
    if not sentinels:
        raise DataError(
            "a sentinel URL needs at least one sentinel: redis+sentinel://host:26379/name"
        )
    path = [unquote(p) for p in parts.path.split("/") if p]
    if not path or len(path) > 2:
        raise DataError("a sentinel URL path is /service or /service/db, like /mymaster/0")
    if len(path) == 2:
        try:
            options["db"] = int(path[1])
        except ValueError:
            raise DataError(
                "the database in a sentinel URL must be a number, like /mymaster/0"
            ) from None
    if parts.scheme.lower() == "rediss+sentinel":
        options["ssl"] = True
        options["sentinel_ssl"] = True
    _read_query(parts.query, parts.fragment, _SENTINEL_QUERY, options)
    return sentinels, path[0], options
