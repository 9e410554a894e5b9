"""The geo group's generated methods against live servers (RESP3 and RESP2)."""

from __future__ import annotations

from typing import Any

import pytest

from redspec._generated.client.geo import GeoCommands
from redspec.types import GeoMatch
from tests.integration.replies._data_support import Cases, Ctx

CASES = Cases(GeoCommands, pipelines=True)

PALERMO = (13.361389, 38.115556, "Palermo")
CATANIA = (15.087269, 37.502669, "Catania")


async def _add(c: Ctx) -> None:
    await c.check(c.r.geoadd, "g", [PALERMO, CATANIA], expect=2)


def _members(matches: list[Any]) -> list[bytes]:
    return [m.member for m in matches]


def _assert_full(match: GeoMatch[Any], member: bytes | str, dist: float) -> None:
    assert isinstance(match, GeoMatch) and match.member == member
    assert match.dist == pytest.approx(dist, abs=0.01)
    assert isinstance(match.hash, int) and match.hash > 0
    assert match.coord is not None and all(isinstance(x, float) for x in match.coord)


@CASES.case("geoadd", "geodist", "geohash", "geopos")
async def members(c: Ctx) -> None:
    r = c.r
    await _add(c)
    await c.check(r.geoadd, "g", [PALERMO], condition="NX", ch=True, expect=0)
    await c.check(r.geoadd, "g", [(13.4, 38.1, "Palermo")], condition="XX", ch=True, expect=1)
    await c.check(r.geoadd, "g", [PALERMO], expect=0)
    dist = await c.check(r.geodist, "g", "Palermo", "Catania")
    assert dist == pytest.approx(166274.1516, abs=0.01)
    assert await c.check(r.geodist, "g", "Palermo", "Catania", unit="KM") == pytest.approx(
        166.2742, abs=0.001
    )
    await c.check(r.geodist, "g", "Palermo", "zz", expect=None)
    await c.check(r.geohash, "g", "Palermo", "zz", expect=[b"sqc8b49rny0", None])
    await c.check(r.geohash, "nokey", "a", expect=[None])
    pos = await c.check(r.geopos, "g", "Palermo", "zz")
    assert pos[0] == pytest.approx((13.361389, 38.115556), abs=1e-5) and pos[1] is None
    await c.check(r.geopos, "nokey", "a", expect=[None])


@CASES.case("geoadd", "georadius", "georadius_ro")
async def radius(c: Ctx) -> None:
    r = c.r
    await _add(c)
    for method in (r.georadius, r.georadius_ro):
        await c.check(method, "g", 15, 37, 200, "KM", expect=[b"Palermo", b"Catania"])
        await c.check(method, "g", 15, 37, 200, "KM", order="ASC", expect=[b"Catania", b"Palermo"])
        full = await c.check(
            method,
            "g",
            15,
            37,
            200,
            "KM",
            withcoord=True,
            withdist=True,
            withhash=True,
            count=1,
            order="ASC",
        )
        assert len(full) == 1
        _assert_full(full[0], c.v(b"Catania"), 56.4413)
        only_hash = await c.check(method, "g", 15, 37, 200, "KM", withhash=True, order="ASC")
        assert _members(only_hash) == c.v([b"Catania", b"Palermo"])
        assert only_hash[0].dist is None and only_hash[0].coord is None
        assert isinstance(only_hash[0].hash, int)
        only_dist = await c.check(method, "g", 15, 37, 200, "KM", withdist=True, order="DESC")
        assert only_dist[0].dist == pytest.approx(190.4424, abs=0.01)
        await c.check(method, "nokey", 15, 37, 200, "KM", withdist=True, expect=[])
    await c.check(r.georadius, "g", 15, 37, 200, "KM", store="d", expect=2)
    await c.check(r.georadius, "g", 15, 37, 200, "KM", storedist="d2", count=1, any=True, expect=1)


@CASES.case("geoadd", "georadiusbymember", "georadiusbymember_ro")
async def radius_by_member(c: Ctx) -> None:
    r = c.r
    await _add(c)
    for method in (r.georadiusbymember, r.georadiusbymember_ro):
        await c.check(
            method, "g", "Palermo", 200, "KM", order="ASC", expect=[b"Palermo", b"Catania"]
        )
        coords = await c.check(method, "g", "Palermo", 200, "KM", withcoord=True, order="ASC")
        assert _members(coords) == c.v([b"Palermo", b"Catania"])
        assert coords[0].coord == pytest.approx((13.361389, 38.115556), abs=1e-5)
        assert coords[0].dist is None and coords[0].hash is None
        full = await c.check(
            method,
            "g",
            "Palermo",
            200,
            "KM",
            withdist=True,
            withhash=True,
            withcoord=True,
            order="DESC",
        )
        _assert_full(full[0], c.v(b"Catania"), 166.2742)
    await c.check(r.georadiusbymember, "g", "Palermo", 200, "KM", store="d", expect=2)
    await c.check(r.georadiusbymember, "g", "Palermo", 200, "KM", storedist="d", expect=2)


@CASES.case("geoadd", "geosearch", "geosearchstore")
async def search(c: Ctx) -> None:
    r = c.r
    await _add(c)
    await c.check(
        r.geosearch,
        "g",
        frommember="Palermo",
        byradius=(200, "KM"),
        order="ASC",
        expect=[b"Palermo", b"Catania"],
    )
    await c.check(
        r.geosearch,
        "g",
        fromlonlat=(15, 37),
        bybox=(400, 400, "KM"),
        order="ASC",
        count=1,
        expect=[b"Catania"],
    )
    full = await c.check(
        r.geosearch,
        "g",
        fromlonlat=(15, 37),
        bybox=(400, 400, "KM"),
        order="DESC",
        count=2,
        any=True,
        withcoord=True,
        withdist=True,
        withhash=True,
    )
    assert sorted(_members(full)) == c.v([b"Catania", b"Palermo"])
    dists = await c.check(
        r.geosearch, "g", fromlonlat=(15, 37), byradius=(200, "KM"), order="ASC", withdist=True
    )
    assert dists[0].member == c.v(b"Catania") and dists[0].dist == pytest.approx(56.4413, abs=0.01)
    await c.check(r.geosearch, "nokey", frommember="a", byradius=(1, "M"), expect=[])
    await c.check(r.geosearchstore, "d", "g", frommember="Palermo", byradius=(200, "KM"), expect=2)
    await c.check(
        r.geosearchstore,
        "d",
        "g",
        fromlonlat=(15, 37),
        bybox=(400, 400, "KM"),
        count=1,
        storedist=True,
        expect=1,
    )


test_reply = CASES.test()
test_coverage = CASES.coverage_test()
