"""Where a RESP frame ends, without building its value.

hiredis parses every reply, but it has no notion of RESP3 attribute frames
(``|``): it returns a top-level attribute as if it were a reply of its own
(which would be handed to the wrong caller), and counts a nested one as an
element of the enclosing aggregate (which would shift every later element).
The connection therefore cuts attribute frames out of the byte stream before
hiredis sees them, and needs to know where each one ends: that is all this
module does. It runs only on the rare chunks that contain a ``|`` byte.
"""

from __future__ import annotations

import hiredis

from . import errors

__all__ = ["AttributeFilter", "FrameError", "frame_end"]

# An attribute frame is metadata; one larger than this is treated as garbage.
_MAX_ATTRIBUTE = 16 << 20

# Type bytes (as ints) of frames that are one line: simple string, error,
# integer, double, boolean, null, big number.
_LINE = frozenset(b"+-:,#_(")
# Length-prefixed payloads: bulk string, blob error, verbatim string.
_BLOB = frozenset(b"$!=")
# Aggregates of N frames: array, set, push; and of 2N frames: map, attribute.
_AGGREGATE = frozenset(b"*~>")
_PAIRS = frozenset(b"%|")
_ATTRIBUTE = ord("|")


class FrameError(ValueError):
    """The bytes are not RESP."""


def frame_end(buf: bytes | bytearray, start: int) -> int | None:
    """The index just past the complete frame that starts at ``start``.

    For an attribute frame, its end (the map of N pairs), not the end of the
    value it annotates. Attributes nested inside are not elements of their
    aggregate: they annotate the element after them. None when ``buf`` ends
    before the frame does (wait for more bytes). Raises ``FrameError`` for
    bytes that are not RESP (including RESP3 streamed strings and
    aggregates, which no server sends unasked).
    """
    pos = start
    # Frames still to skip at each open aggregate level; the outermost is the
    # frame asked about.
    todo = [1]
    outermost = True
    while todo:
        if todo[-1] == 0:
            todo.pop()
            continue
        todo[-1] -= 1
        eol = buf.find(b"\r\n", pos)
        if eol < 0:
            return None
        kind = buf[pos]
        head = bytes(buf[pos + 1 : eol])
        pos = eol + 2
        nested, outermost = not outermost, False
        if kind in _LINE:
            continue
        if kind in _BLOB:
            count = _count(kind, head)
            if count >= 0:
                pos += count + 2
                if pos > len(buf):
                    return None
        elif kind in _AGGREGATE:
            count = _count(kind, head)
            if count > 0:
                todo.append(count)
        elif kind in _PAIRS:
            count = _count(kind, head)
            if kind == _ATTRIBUTE and nested:
                todo[-1] += 1  # the element it annotates is still to come
            if count > 0:
                todo.append(2 * count)
        else:
            raise FrameError(f"{chr(kind)!r} is not a RESP type byte")
    return pos


def _count(kind: int, head: bytes) -> int:
    try:
        count = int(head)
    except ValueError:
        raise FrameError(f"bad length {head[:20]!r} after {chr(kind)!r}") from None
    if count < -1:
        raise FrameError(f"negative length {count} after {chr(kind)!r}")
    return count


class AttributeFilter:
    """The attribute-frame half of ``Connection``, which holds the attributes below in its slots."""

    _reader: hiredis.Reader
    _attr_buf: bytes | None
    _attributes_dropped: int
    _careful: bool

    def _update_careful(self) -> None:
        raise NotImplementedError

    def _read_replies(self) -> bool:
        raise NotImplementedError

    def _break(self, exc: errors.ProtocolError) -> None:
        raise NotImplementedError

    def _protocol_error(self, what: str) -> errors.ProtocolError:
        raise NotImplementedError

    def _receive_with_bars(self, data: bytes) -> None:
        """``data_received`` for chunks that may hold attribute frames (or their end).

        hiredis is fed up to each "|" that follows a line end; if it then
        holds no incomplete element (``has_data()`` is False), the "|" starts
        an element: an attribute frame, which is skipped. Otherwise the "|" is
        inside a bulk string's payload and is fed like any other byte.
        """
        reader = self._reader
        if self._attr_buf is not None:
            data = self._attr_buf + data
            self._attr_buf = None
            self._update_careful()
            end = self._skip_attribute(data, 0)
            if end < 0:
                return
            data = data[end:]
        fed = 0  # data[:fed] went to hiredis (or was an attribute)
        search = 0
        while (bar := data.find(b"|", search)) >= 0:
            search = bar + 1
            if bar > 0 and data[bar - 1] != 10:  # not after "\n": not a type byte
                continue
            if bar > fed:
                reader.feed(data[fed:bar])
                fed = bar
                if not self._read_replies():
                    return
            if reader.has_data():
                continue  # inside an incomplete bulk payload
            end = self._skip_attribute(data, bar)
            if end < 0:
                return
            fed = search = end
        if fed < len(data):
            reader.feed(data[fed:] if fed else data)
            self._read_replies()

    def _skip_attribute(self, data: bytes, start: int) -> int:
        """Skip the attribute frame at ``data[start]``: where it ends, or -1.

        -1 when it is incomplete (kept until more bytes come) or invalid
        (the connection is broken).
        """
        try:
            end = frame_end(data, start)
        except FrameError as exc:
            self._break(self._protocol_error(str(exc)))
            return -1
        if end is None:
            if len(data) - start > _MAX_ATTRIBUTE:
                self._break(self._protocol_error("attribute frame larger than 16 MiB"))
            else:
                self._attr_buf = data[start:]
                self._careful = True  # data_received: back here with the rest
            return -1
        self._attributes_dropped += 1
        return end
