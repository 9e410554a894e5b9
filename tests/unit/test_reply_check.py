"""The reply checker itself: it must reject what does not fit, or it proves nothing."""

from __future__ import annotations

from typing import AnyStr

import pytest

from redspec.errors import ResponseError
from redspec.types import RespValue, StreamEntry
from tests.reply_check import check


@pytest.mark.parametrize(
    ("value", "annotation", "anystr"),
    [
        (b"x", AnyStr, bytes),
        ("x", AnyStr, str),
        (None, "AnyStr | None", bytes),
        ([(b"m", 1.0)], "list[tuple[AnyStr, float]]", bytes),
        ({b"a": {1, 2}}, "dict[AnyStr, set[int]]", bytes),
        ([StreamEntry(b"1-0", {b"f": b"v"})], "list[StreamEntry[AnyStr]]", bytes),
        ({b"k": [1, [b"x", None, 1.5]]}, RespValue, bytes),
        ([ResponseError("ERR boom"), 3], RespValue, bytes),
        (b"\x00\xff", bytes, str),
        (
            (0, 9, (b"h", 1), (None, 2)),
            "tuple[int, int, Unpack[tuple[tuple[AnyStr | None, int], ...]]]",
            bytes,
        ),
        ((0, 9), "tuple[int, int, Unpack[tuple[AnyStr, ...]]]", bytes),
        (True, bool, bytes),
    ],
)
def test_accepts(value: object, annotation: object, anystr: type) -> None:
    check(value, annotation, anystr)


@pytest.mark.parametrize(
    ("value", "annotation", "anystr"),
    [
        ("x", AnyStr, bytes),
        (None, AnyStr, bytes),
        (1, bool, bytes),
        (True, int, bytes),
        (1, float, bytes),
        ([(b"m", b"1")], "list[tuple[AnyStr, float]]", bytes),
        ((b"a",), "tuple[AnyStr, AnyStr]", bytes),
        ([StreamEntry(b"1-0", {b"f": "v"})], "list[StreamEntry[AnyStr]]", bytes),
        ([b"a"], "set[AnyStr]", bytes),
        ([ValueError("x")], RespValue, bytes),
        ("\udcff", bytes, str),
        ((0, 9, (b"h", b"1")), "tuple[int, int, Unpack[tuple[tuple[AnyStr, int], ...]]]", bytes),
        ((0,), "tuple[int, int, Unpack[tuple[AnyStr, ...]]]", bytes),
    ],
)
def test_rejects(value: object, annotation: object, anystr: type) -> None:
    with pytest.raises(AssertionError):
        check(value, annotation, anystr)
