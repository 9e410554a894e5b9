"""The reply converters give the same Python value for the RESP3 and the RESP2 shape."""

from redspec import _replies as c
from redspec.types import GeoMatch, StreamEntry


def test_map_from_resp3_and_resp2_agree() -> None:
    conv = c.dict_of(None, c.to_float)
    assert conv({b"a": 1.5}) == conv([b"a", b"1.5"]) == {b"a": 1.5}
    assert conv(None) is None


def test_pairs_from_nested_and_flat() -> None:
    conv = c.pairs_of(None, c.to_float)
    assert conv([[b"m", 1.0], [b"n", 2.0]]) == conv([b"m", b"1", b"n", b"2"]) == [
        (b"m", 1.0),
        (b"n", 2.0),
    ]
    assert conv([]) == []


def test_stream_map_and_deleted_entry() -> None:
    raw3 = {b"s": [[b"1-0", [b"f", b"v"]], [b"2-0", None]]}
    raw2 = [[b"s", [[b"1-0", [b"f", b"v"]], [b"2-0", None]]]]
    want = {b"s": [StreamEntry(b"1-0", {b"f": b"v"}), StreamEntry(b"2-0", {})]}
    assert c.stream_map(raw3) == c.stream_map(raw2) == want
    assert c.stream_map(None) == {}


def test_geo_match_kinds() -> None:
    want = GeoMatch(b"m", 1.5, 42, (13.4, 52.5))
    assert c.to_geo_match([b"m", 1.5, 42, [b"13.4", b"52.5"]]) == want
    assert c.to_geo_match([b"m", b"0.25"]) == GeoMatch(b"m", 0.25, None, None)
    assert c.to_geo_match(b"m") == b"m"


def test_ok_and_bool() -> None:
    assert c.to_ok(b"OK") is True and c.to_ok("OK") is True and c.to_ok(None) is None
    assert c.to_bool(0) is False and c.to_bool(1) is True and c.to_bool(None) is None


def test_tuple_pads_missing_trailing_elements() -> None:
    conv = c.tuple_of(None, c.to_float, c.to_float)
    assert conv([b"int8", b"1.5"]) == (b"int8", 1.5, None)
    assert conv([b"int8", b"1.5", b"2"]) == (b"int8", 1.5, 2.0)
