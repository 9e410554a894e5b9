"""Dump COMMAND DOCS / COMMAND INFO from live servers and merge them into ``commands.json``.

Two file shapes are written here:

* a *raw* dump (``dump --raw OUT``): one server, normalised but not merged::

      {"format": "redspec-raw-1", "server": {"id", "vendor", "version"},
       "commands": {"GET": {...}, "CLIENT": {..., "subcommands": {"CLIENT KILL": {...}}}}}

* the merged spec (``dump --output`` / ``merge --output``), read by ``codegen/spec.py``.

Normalisation of one server's reply (RESP3):

* server id ``<vendor>-<version>`` from ``INFO server`` (``server_name:valkey`` and
  ``valkey_version`` on Valkey, ``redis_version`` otherwise);
* command names upper case, ``container|sub`` becomes ``CONTAINER SUB``;
* RESP3 sets whose order carries no meaning are sorted (command ``flags``,
  ``acl_categories``, ``tips``, ``doc_flags``, argument ``flags``, key-spec ``flags``);
  ``history`` and ``key_specs`` keep the server's order (key-spec indices refer to it);
* keys whose value is null, an empty list or an empty map are omitted, everywhere
  (except inside ``by_server``, where null means "absent on that server").
* output: ``json.dumps(obj, indent=1, sort_keys=True, ensure_ascii=False) + "\n"``.

The merge rules are in ``codegen/merge.py``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import tempfile
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

import hiredis

RAW_FORMAT = "redspec-raw-1"

JSON = Any  # the values we handle are plain JSON values

# Sets whose order carries no meaning: sorted for determinism.
_SORTED_COMMAND_FIELDS = ("flags", "acl_categories", "tips", "doc_flags")

# Scalar fields of a command (docs + info) taken from the highest-priority server.
_DOC_FIELDS = (
    "summary",
    "since",
    "group",
    "complexity",
    "history",
    "doc_flags",
    "deprecated_since",
    "replaced_by",
    "module",
)
_INFO_FIELDS = ("arity", "flags", "acl_categories", "tips", "key_specs")

_ARG_FIELDS = (
    "name",
    "type",
    "token",
    "display_text",
    "flags",
    "key_spec_index",
    "since",
    "deprecated_since",
    "summary",
)


class DumpError(Exception):
    """A server could not be dumped, or input files could not be merged."""


# --------------------------------------------------------------------------------------------
# A tiny synchronous RESP3 client
# --------------------------------------------------------------------------------------------


class _Client:
    def __init__(self, host: str, port: int, timeout: float = 10.0) -> None:
        self._sock = socket.create_connection((host, port), timeout=timeout)
        self._reader = hiredis.Reader()

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> _Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(self, *args: str) -> JSON:
        out = [f"*{len(args)}\r\n".encode()]
        for a in args:
            b = a.encode()
            out.append(b"$%d\r\n%s\r\n" % (len(b), b))
        self._sock.sendall(b"".join(out))
        while True:
            reply = self._reader.gets()
            if reply is not False:
                break
            data = self._sock.recv(1 << 16)
            if not data:
                raise DumpError("connection closed by the server")
            self._reader.feed(data)
        if isinstance(reply, hiredis.ReplyError):
            raise DumpError(f"{' '.join(args[:2])}: {reply}")
        return _decode(reply)


def _decode(v: JSON) -> JSON:
    """bytes -> str recursively; hiredis gives lists for arrays and sets, dicts for maps."""
    if isinstance(v, bytes):
        return v.decode("utf-8")
    if isinstance(v, (list, tuple, set, frozenset)):
        return [_decode(x) for x in v]
    if isinstance(v, dict):
        return {_decode(k): _decode(x) for k, x in v.items()}
    return v


def parse_url(url: str) -> tuple[str, int, str | None, str | None]:
    """``redis://[[user]:password@]host[:port]`` -> host, port, user, password."""
    parts = urlsplit(url if "://" in url else f"redis://{url}")
    if parts.scheme != "redis":
        raise DumpError("unsupported URL scheme (only redis://[[user]:password@]host:port)")
    try:
        port = parts.port or 6379
    except ValueError:
        raise DumpError("bad port in the URL") from None
    return (
        parts.hostname or "127.0.0.1",
        port,
        unquote(parts.username) if parts.username else None,
        unquote(parts.password) if parts.password else None,
    )


# --------------------------------------------------------------------------------------------
# Dumping one server
# --------------------------------------------------------------------------------------------


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) if p.isdigit() else 0 for p in re.split(r"[.\-]", version))


def server_identity(info_text: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in info_text.splitlines():
        if ":" in line and not line.startswith("#"):
            k, _, v = line.partition(":")
            fields[k.strip()] = v.strip()
    if fields.get("server_name") == "valkey" or "valkey_version" in fields:
        vendor, version = "valkey", fields.get("valkey_version", "")
    else:
        vendor, version = "redis", fields.get("redis_version", "")
    if not version:
        raise DumpError("INFO server reports no version")
    return {"id": f"{vendor}-{version}", "vendor": vendor, "version": version}


def _canon_name(name: str) -> str:
    return name.replace("|", " ").upper()


def _prune(d: dict[str, JSON]) -> dict[str, JSON]:
    return {k: v for k, v in d.items() if v is not None and v != [] and v != {}}


def _norm_arg(a: Mapping[str, JSON], dropped: set[str]) -> dict[str, JSON]:
    # Fields a newer server may add are left out (and reported), not fatal.
    dropped.update(set(a) - set(_ARG_FIELDS) - {"arguments", "value"})
    out: dict[str, JSON] = {k: a.get(k) for k in _ARG_FIELDS}
    out["flags"] = sorted(a.get("flags") or [])
    out["arguments"] = [_norm_arg(c, dropped) for c in a.get("arguments") or []]
    return _prune(out)


def _tips(v: JSON) -> list[str]:
    """Tips as a list: COMMAND INFO gives a set; a module command's docs (Redis 8.4+) may
    carry them as ``hints``, a list or one space-separated string."""
    if not v:
        return []
    if isinstance(v, str):
        return v.split()
    return [str(x) for x in v]


def _norm_key_spec(ks: Mapping[str, JSON]) -> dict[str, JSON]:
    out = dict(ks)
    out["flags"] = sorted(ks.get("flags") or [])
    return _prune(out)


def _info_entries(info: JSON) -> dict[str, dict[str, JSON]]:
    """COMMAND INFO reply (array of arrays, or a map on some servers) -> name -> fields."""
    out: dict[str, dict[str, JSON]] = {}
    items = info.values() if isinstance(info, dict) else info
    for entry in items:
        if entry is None:
            continue
        name, arity, flags, _first, _last, _step, acl, tips, key_specs, subs = entry[:10]
        out[_canon_name(name)] = {
            "arity": arity,
            "flags": sorted(flags or []),
            "acl_categories": sorted(acl or []),
            "tips": sorted(_tips(tips)),
            "key_specs": [_norm_key_spec(k) for k in key_specs or []],
        }
        out.update(_info_entries(subs or []))
    return out


def _doc_entries(
    docs: Mapping[str, JSON], dropped: set[str]
) -> dict[str, tuple[str | None, dict[str, JSON]]]:
    """COMMAND DOCS reply -> canonical name -> (container, normalised doc fields)."""
    out: dict[str, tuple[str | None, dict[str, JSON]]] = {}

    def visit(name: str, d: Mapping[str, JSON], container: str | None) -> None:
        fields: dict[str, JSON] = {k: d.get(k) for k in _DOC_FIELDS}
        fields["history"] = [list(h) for h in d.get("history") or []]
        fields["doc_flags"] = sorted(d.get("doc_flags") or [])
        fields["arguments"] = [_norm_arg(a, dropped) for a in d.get("arguments") or []]
        fields["hints"] = _tips(d.get("hints"))
        out[name] = (container, fields)
        for sub, sd in (d.get("subcommands") or {}).items():
            visit(_canon_name(sub), sd, name)

    for name, d in docs.items():
        visit(_canon_name(name), d, None)
    return out


def build_raw(
    server: Mapping[str, str],
    docs: JSON,
    info: JSON,
    warn: Callable[[str], None] | None = None,
) -> dict[str, JSON]:
    """Combine one server's COMMAND DOCS and COMMAND INFO into the raw dump shape."""
    dropped: set[str] = set()
    doc_entries = _doc_entries(docs, dropped)
    info_entries = _info_entries(info)
    missing = sorted(set(info_entries) ^ set(doc_entries))
    if missing:
        raise DumpError(f"COMMAND DOCS and COMMAND INFO disagree on {missing[:10]}")
    if dropped and warn is not None:
        warn(f"{server.get('id')}: argument fields left out (unknown): {sorted(dropped)}")
    flat: dict[str, dict[str, JSON]] = {}
    for name, (_container, fields) in doc_entries.items():
        info_fields = dict(info_entries[name])
        hints = fields.pop("hints")
        if hints:  # tips given in the docs (module commands, Redis 8.4+)
            info_fields["tips"] = sorted(set(info_fields["tips"]) | set(hints))
        flat[name] = _prune({**fields, **info_fields})
    top: dict[str, dict[str, JSON]] = {}
    for name in sorted(flat):
        container = doc_entries[name][0]
        if container is None:
            top[name] = flat[name]
    for name in sorted(flat):
        container = doc_entries[name][0]
        if container is not None:
            top[container].setdefault("subcommands", {})[name] = flat[name]
    return {"format": RAW_FORMAT, "server": dict(server), "commands": top}


def dump_server(url: str, warn: Callable[[str], None] | None = None) -> dict[str, JSON]:
    """COMMAND DOCS + COMMAND INFO of one live server, as a raw dump."""
    host, port, user, password = parse_url(url)
    hello = ["HELLO", "3"]
    if password is not None:
        hello += ["AUTH", user or "default", password]
    try:
        with _Client(host, port) as c:
            c.call(*hello)
            ident = server_identity(c.call("INFO", "server"))
            docs = c.call("COMMAND", "DOCS")
            info = c.call("COMMAND", "INFO")
    except (OSError, hiredis.ProtocolError) as e:
        raise DumpError(f"{host}:{port}: {e or type(e).__name__}") from None
    except DumpError as e:
        raise DumpError(f"{host}:{port}: {e}") from None
    return build_raw(ident, docs, info, warn)


def count(raw: Mapping[str, JSON]) -> tuple[int, int]:
    """(top-level commands, subcommands) of a raw dump."""
    cmds = raw["commands"]
    return len(cmds), sum(len(c.get("subcommands") or {}) for c in cmds.values())


def to_text(obj: JSON) -> str:
    return json.dumps(obj, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def write(path: str, obj: JSON) -> None:
    """Write ``obj`` as JSON, atomically (see :func:`write_text`)."""
    write_text(path, to_text(obj))


def write_text(path: str, text: str) -> None:
    """Write atomically: a temp file in the same directory, renamed over ``path``.

    A failure (disk full, killed process) leaves any existing file untouched.
    """
    target = os.path.abspath(path)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{os.path.basename(target)}.", suffix=".tmp", dir=os.path.dirname(target)
    )
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        if os.path.exists(target):
            os.chmod(tmp, os.stat(target).st_mode & 0o7777)
        else:
            os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def read(path: str) -> JSON:
    with open(path, encoding="utf-8") as f:
        return json.load(f)
