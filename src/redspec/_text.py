"""Text on the wire: str arguments in the client's encoding, and replies that are not text in it.

Writing: hiredis's ``pack_command`` encodes str as strict UTF-8 itself, so with
the default settings (``encoding="utf-8"``, ``encoding_errors="strict"``) a
connection packs with it directly: that is the hot path, and stays untouched.
Any other encoding or error policy encodes str arguments here first.

Reading with ``decode_responses=True``: hiredis decodes bulk strings with the
error handler it is given. Under the default ``"strict"`` policy it is given
``redspec.strict-reply``, which decodes like ``surrogateescape`` (so hiredis
never raises inside ``gets()``, where the failed reply would be lost and the
stream could not tell whether it was a push or a command's reply) and notes
the failure in ``UNDECODABLE``. The connection checks that list after each
reply it takes from hiredis, and fails the caller of that one reply with
``DecodeError``; push frames are delivered escaped (never lost).
"""

from __future__ import annotations

import codecs
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import hiredis

from . import errors

if TYPE_CHECKING:
    from ._settings import ConnectionSettings

__all__ = [
    "ENCODING_ERRORS",
    "UNDECODABLE",
    "batch_pack_error",
    "check_encoding_errors",
    "forget_undecodable",
    "keep_undecodable",
    "pack_error",
    "packer",
    "reader_errors",
    "take_undecodable",
]

Packer = Callable[[tuple[Any, ...]], bytes]

_pack = hiredis.pack_command
# What encoding_errors may be. Each of these decodes anything (strict through
# the handler below), so hiredis never raises in gets().
ENCODING_ERRORS = ("strict", "surrogateescape", "replace", "backslashreplace", "ignore")
_STRICT_READER = "redspec.strict-reply"

# Decoding failures seen inside hiredis's gets() and not yet charged to a
# reply: [owner, message]. The owner is the thread that decoded (while the
# reply is being read), then the Connection whose reply is still incomplete.
# Empty in normal operation: connections test it once per reply.
UNDECODABLE: list[list[Any]] = []

_escape = codecs.lookup_error("surrogateescape")
_replace = codecs.lookup_error("replace")


def _strict_reply(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    bad = exc.object[exc.start : exc.end]
    UNDECODABLE.append(
        [
            threading.get_ident(),
            f"a reply is not {exc.encoding} text ({exc.reason}: {bytes(bad)!r} at byte "
            f"{exc.start}); decode_responses=True decodes strictly unless encoding_errors "
            "says otherwise: pass encoding_errors='surrogateescape' (lossless: such a str "
            "written back gives the same bytes), 'replace' or 'backslashreplace', "
            "or decode_responses=False for bytes",
        ]
    )
    try:
        text, end = _escape(exc)
    except UnicodeError:  # surrogateescape takes bytes >= 0x80 only
        text, end = _replace(exc)
    return str(text), end


codecs.register_error(_STRICT_READER, _strict_reply)


def check_encoding_errors(value: object) -> str:
    if value not in ENCODING_ERRORS:
        raise errors.DataError(
            f"encoding_errors must be one of {', '.join(ENCODING_ERRORS)}, not {value!r}"
        )
    return str(value)


def reader_errors(settings: ConnectionSettings) -> str:
    """The error handler a decoding hiredis reader is given."""
    policy = settings.encoding_errors
    return _STRICT_READER if policy == "strict" else policy


def packer(settings: ConnectionSettings) -> Packer:
    """The function that turns one command's argument tuple into RESP bytes."""
    encoding, policy = settings.encoding, settings.encoding_errors
    if codecs.lookup(encoding).name == "utf-8":
        if policy == "strict":
            return _pack

        def pack_utf8(args: tuple[Any, ...]) -> bytes:
            try:
                data: bytes = _pack(args)
            except UnicodeEncodeError:  # a lone surrogate: text decoded with escapes
                data = _pack(_encoded(args, encoding, policy))
            return data

        return pack_utf8

    def pack(args: tuple[Any, ...]) -> bytes:
        data: bytes = _pack(_encoded(args, encoding, policy))
        return data

    return pack


def _encoded(args: tuple[Any, ...], encoding: str, policy: str) -> tuple[Any, ...]:
    return tuple([a.encode(encoding, policy) if isinstance(a, str) else a for a in args])


def _sendable(a: object) -> bool:
    return isinstance(a, (str, bytes, memoryview, int, float)) and not isinstance(a, bool)


def _article(name: str) -> str:
    return f"an {name}" if name[:1] in "aeiou" else f"a {name}"


def pack_error(
    args: Sequence[Any], exc: Exception, settings: ConnectionSettings
) -> errors.DataError:
    """The redspec error for arguments the packer refused (nothing was sent)."""
    name = args[0] if args else "?"
    if isinstance(name, (bytes, memoryview)):
        name = bytes(name).decode("utf-8", "replace")
    command = str(name).upper() if isinstance(name, str) else "?"
    if isinstance(exc, UnicodeEncodeError):
        encoding, policy = settings.encoding, settings.encoding_errors
        for i, a in enumerate(args):
            if isinstance(a, str):
                try:
                    a.encode(encoding, policy)
                except UnicodeEncodeError as bad:
                    return errors.DataError(
                        f"{command}: argument {i} is not {encoding} text ({bad.reason}: "
                        f"{a[bad.start : bad.end]!r}); set encoding_errors (surrogateescape, "
                        "replace, backslashreplace, ignore) to say how to write such text, "
                        "or pass bytes"
                    )
        return errors.DataError(f"{command}: an argument is not {encoding} text: {exc}")
    for i, a in enumerate(args):
        if not _sendable(a):
            return errors.ArgumentTypeError(
                f"{command}: argument {i} is {_article(type(a).__name__)}; arguments are "
                "str, bytes, memoryview, int or float"
            )
    return errors.ArgumentTypeError(f"{command}: cannot encode the arguments: {exc}")


def batch_pack_error(
    commands: Sequence[Sequence[Any]], pack: Packer, settings: ConnectionSettings
) -> errors.DataError:
    """The error of the first command of a batch that cannot be packed."""
    for n, args in enumerate(commands, 1):
        try:
            pack(tuple(args))
        except (TypeError, ValueError) as exc:
            error = pack_error(args, exc, settings)
            error.args = (f"{error} (command {n} of {len(commands)} in the batch)",)
            return error
    return errors.DataError("cannot encode the batch")


# ---------------------------------------------------------------- undecodable replies


def take_undecodable(owner: object) -> str | None:
    """Charge the failures noted for ``owner``'s reply just read; the first one's message."""
    me = threading.get_ident()
    mine = [e for e in UNDECODABLE if e[0] is owner or e[0] == me]
    for entry in mine:
        UNDECODABLE.remove(entry)
    return str(mine[0][1]) if mine else None


def keep_undecodable(owner: object) -> None:
    """The reply being decoded is incomplete: its failures wait for it on ``owner``."""
    me = threading.get_ident()
    for entry in UNDECODABLE:
        if entry[0] == me:
            entry[0] = owner


def forget_undecodable(owner: object) -> None:
    """``owner`` is gone with a reply half read."""
    UNDECODABLE[:] = [e for e in UNDECODABLE if e[0] is not owner]
