"""A normalised view of argument trees, and the overlay (codegen/overlay.py) as an object."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

_IDENT = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


def is_ident_token(token: str) -> bool:
    """`EX`, `NO-EVICT` are identifier tokens; `*`, `$`, `=`, `~` and `""` are symbolic."""
    return bool(_IDENT.match(token))


@dataclass(frozen=True)
class Node:
    name: str
    type: str
    token: str | None
    optional: bool
    multiple: bool
    multiple_token: bool
    key_spec_index: int | None
    deprecated_since: str | None
    available_in: tuple[str, ...]
    children: tuple[Node, ...]

    def syntax(self) -> str:
        """The argument in the documentation's syntax (`[EX seconds]`, `<NX | XX>`)."""
        if self.type == "pure-token":
            core = self.token or self.name
        elif self.type == "oneof":
            core = " | ".join(c.syntax() for c in self.children)
            if self.token:
                core = (
                    f"{self.token} <{core}>" if len(self.children) > 1 else f"{self.token} {core}"
                )
            elif not self.optional:
                core = f"<{core}>"
        elif self.type == "block":
            core = " ".join(c.syntax() for c in self.children)
            if self.token:
                core = f"{self.token} {core}"
        else:
            core = self.name if not self.token else f"{self.token} {self.name}"
        if self.multiple:
            rep = core if self.multiple_token or not self.token else core.split(" ", 1)[-1]
            core = f"{core} [{rep} ...]"
        return f"[{core}]" if self.optional else core


def _get(a: Any, key: str, default: Any = None) -> Any:
    if isinstance(a, Mapping):
        return a.get(key, default)
    return getattr(a, key, default)


def to_node(a: Any) -> Node:
    if isinstance(a, Mapping):
        flags = set(a.get("flags") or ())
        optional, multiple, mtok = (
            "optional" in flags,
            "multiple" in flags,
            "multiple_token" in flags,
        )
        kids = a.get("arguments") or ()
    else:
        optional, multiple, mtok = a.optional, a.multiple, a.multiple_token
        kids = a.arguments
    n = Node(
        name=str(_get(a, "name")),
        type=str(_get(a, "type")),
        token=_get(a, "token"),
        optional=bool(optional),
        multiple=bool(multiple),
        multiple_token=bool(mtok),
        key_spec_index=_get(a, "key_spec_index"),
        deprecated_since=_get(a, "deprecated_since"),
        available_in=tuple(_get(a, "available_in") or ()),
        children=tuple(to_node(k) for k in kids),
    )
    # B0: an untokened block with one child is transparent
    if n.type == "block" and n.token is None and len(n.children) == 1:
        c = n.children[0]
        return Node(
            c.name,
            c.type,
            c.token,
            c.optional or n.optional,
            c.multiple or n.multiple,
            c.multiple_token or n.multiple_token,
            c.key_spec_index,
            c.deprecated_since,
            c.available_in,
            c.children,
        )
    return n


def to_nodes(args: Iterable[Any]) -> list[Node]:
    return [to_node(a) for a in args]


class OverlayError(Exception):
    pass


class Overlay:
    """Queries over the overlay data; remembers which entries were used."""

    def __init__(self, data: Mapping[str, Any]):
        self.data = data
        self.used: set[tuple[str, str, str]] = set()

    def _section(self, name: str) -> Mapping[str, Any]:
        v = self.data.get(name) or {}
        assert isinstance(v, Mapping)
        return v

    def commands(self) -> set[str]:
        names: set[str] = set()
        for sec in (
            "ARGUMENTS",
            "RENAMES",
            "TYPES",
            "DEFAULTS",
            "MODELS",
            "SPLIT_ONEOF",
            "METHOD_NAMES",
            "BLOCKING",
            "GROUPS",
            "SUMMARIES",
            "UNITS",
            "PRELUDE",
            "EXPIRY_LEAST",
            # codegen/compat.py's (redis-py's call forms)
            "POSITIONAL",
            "OPTIONAL",
            "EXTRA",
            "FOLD",
            "FORMS",
            "LIST_OR_ARGS",
        ):
            names.update(self._section(sec))
        return names

    def _lookup(self, sec: str, cmd: str, key: str) -> Any:
        """The entry for ``key``; an entry's key may list alternatives, ``"data|field_value"``
        (Redis 7.0 names some arguments differently), used when any one of them matches."""
        m = self._section(sec).get(cmd)
        if m is None:
            return None
        for k, v in m.items():
            if k == key or key in k.split("|"):
                self.used.add((sec, cmd, k))
                return v
        return None

    def arguments(self, cmd: str) -> list[Any] | None:
        v = self._section("ARGUMENTS").get(cmd)
        if v is not None:
            self.used.add(("ARGUMENTS", cmd, ""))
        return v

    def rename(self, cmd: str, base: str) -> str:
        v = self._lookup("RENAMES", cmd, base.lower())
        return v if v is not None else base

    def type_for(self, cmd: str, name: str) -> str | None:
        return self._lookup("TYPES", cmd, name)

    def defaults(self, cmd: str) -> dict[str, str]:
        """Parameter -> default; the caller marks the ones it applied (:meth:`mark_used`)."""
        return dict(self._section("DEFAULTS").get(cmd) or {})

    def mark_used(self, sec: str, cmd: str, key: str) -> None:
        self.used.add((sec, cmd, key))

    def model_for(self, cmd: str, block: str) -> str | None:
        return self._lookup("MODELS", cmd, block)

    def model_name(self, cmd: str, alt: str) -> str | None:
        return self._lookup("MODELS", cmd, alt)

    def split_oneof(self, cmd: str, oneof: str) -> bool:
        v = self._section("SPLIT_ONEOF").get(cmd) or ()
        if oneof in v:
            self.used.add(("SPLIT_ONEOF", cmd, oneof))
            return True
        return False

    def method_name(self, cmd: str) -> str | None:
        v = self._section("METHOD_NAMES").get(cmd)
        if v is not None:
            self.used.add(("METHOD_NAMES", cmd, ""))
        return v

    def blocking(self, cmd: str) -> tuple[str, str | None] | None:
        v = self._section("BLOCKING").get(cmd)
        if v is not None:
            self.used.add(("BLOCKING", cmd, ""))
        return v

    def prelude(self, cmd: str) -> list[str]:
        v = self._section("PRELUDE").get(cmd)
        if v is not None:
            self.used.add(("PRELUDE", cmd, ""))
        return list(v or [])

    def group(self, cmd: str) -> str | None:
        v = self._section("GROUPS").get(cmd)
        if v is not None:
            self.used.add(("GROUPS", cmd, ""))
        return v

    def unit(self, cmd: str, arg: str) -> str | None:
        return self._lookup("UNITS", cmd, arg)

    def expiry_least(self, cmd: str) -> int | None:
        v = self._section("EXPIRY_LEAST").get(cmd)
        return int(v) if v is not None else None

    def summary(self, cmd: str) -> str | None:
        v = self._section("SUMMARIES").get(cmd)
        return str(v) if v is not None else None

    def unused(self, present: Collection[str] | None = None) -> list[str]:
        """Entries never consulted (a typo, or a parameter that no longer exists).

        With ``present``, entries of commands outside it are not counted: a
        spec without the command never consults them.
        """
        out = []
        for sec in ("RENAMES", "TYPES", "DEFAULTS", "MODELS", "UNITS"):
            for cmd, m in sorted(self._section(sec).items()):
                if present is not None and cmd not in present:
                    continue
                for k in m:
                    if (sec, cmd, k) not in self.used:
                        out.append(f"{sec}[{cmd!r}][{k!r}]")
        return out
