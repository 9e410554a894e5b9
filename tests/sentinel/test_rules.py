"""Sentinel rules against scripted sentinels and data nodes (tests/unit/fake_server.py).

No real server: each rule is set up exactly (a stale sentinel, a node that
turned replica without telling anyone, a write held in flight) and checked.
Runs under both the default event loop and uvloop.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

import redspec
from redspec.sentinel._wire import parse_event, parse_master_address, parse_replicas
from redspec.url import parse_sentinel_url
from tests.conftest import LOOP_POLICIES, loop_policy
from tests.sentinel.conftest import eventually
from tests.servers import free_port
from tests.unit.fake_server import DEFAULT, OK, FakeClient, FakeServer, encode, error, push

SERVICE = "mymaster"
HOST = "127.0.0.1"

pytestmark = pytest.mark.filterwarnings(
    'ignore:Overriding the "event_loop_policy":DeprecationWarning'
)


@pytest.fixture(params=LOOP_POLICIES)
def event_loop_policy(request: pytest.FixtureRequest) -> asyncio.AbstractEventLoopPolicy:
    return loop_policy(request.param)


class FakeNode:
    """A data node: ROLE, SET/GET/BLPOP on a dict; READONLY for writes while a replica."""

    def __init__(self) -> None:
        self.role = "master"
        self.data: dict[bytes, bytes] = {}
        self.sets: list[bytes] = []  # every SET key received, answered or not
        self.hold = False  # True: SET is received but never answered
        self.gets = 0
        self.server = FakeServer(self.handle)

    async def __aenter__(self) -> FakeNode:
        await self.server.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.server.__aexit__()

    @property
    def port(self) -> int:
        return self.server.port

    def handle(self, client: FakeClient, cmd: list[bytes]) -> Any:
        name = cmd[0].upper()
        if name == b"ROLE":
            if self.role == "master":
                return encode(["master", 0, []])
            return encode(["slave", HOST, 1, "connected", 0])
        if name == b"SET":
            self.sets.append(cmd[1])
            if self.hold:
                return None
            if self.role != "master":
                return error("READONLY You can't write against a read only replica.")
            self.data[cmd[1]] = cmd[2]
            return OK
        if name == b"GET":
            self.gets += 1
            return encode(self.data.get(cmd[1]))
        if name == b"BLPOP":
            return None  # blocks forever
        return DEFAULT


class FakeSentinel:
    """Answers SENTINEL MASTER / GET-MASTER-ADDR-BY-NAME / REPLICAS; SUBSCRIBE and publish."""

    def __init__(self, password: str | None = None) -> None:
        self.master: FakeNode | None = None
        self.epoch = 0
        self.replicas: list[tuple[FakeNode, str]] = []  # (node, flags)
        self.subscribers: list[FakeClient] = []
        self.queries = 0
        self.acl_refuses_master = False  # SENTINEL MASTER answered NOPERM
        self.server = FakeServer(self.handle, password=password)

    async def __aenter__(self) -> FakeSentinel:
        await self.server.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.server.__aexit__()

    @property
    def address(self) -> tuple[str, int]:
        return (HOST, self.server.port)

    def names(self, node: FakeNode, epoch: int) -> None:
        self.master, self.epoch = node, epoch

    def handle(self, client: FakeClient, cmd: list[bytes]) -> Any:
        name = cmd[0].upper()
        if name == b"SENTINEL":
            self.queries += 1
            sub, service = cmd[1].upper(), cmd[2].decode()
            known = self.master is not None and service == SERVICE
            if sub == b"MASTER":
                if self.acl_refuses_master:
                    return error("NOPERM User sentinel-user has no permissions to run it")
                if not known:
                    return error("ERR No such master with that name")
                assert self.master is not None
                return encode(
                    {
                        "name": service,
                        "ip": HOST,
                        "port": str(self.master.port),
                        "flags": "master",
                        "config-epoch": str(self.epoch),
                    }
                )
            if sub == b"GET-MASTER-ADDR-BY-NAME":
                if not known:
                    return encode(None)
                assert self.master is not None
                return encode([HOST, str(self.master.port)])
            if sub == b"REPLICAS":
                if not known:
                    return error("ERR No such master with that name")
                return encode(
                    [
                        {"ip": HOST, "port": str(n.port), "flags": flags, "role-reported": "slave"}
                        for n, flags in self.replicas
                    ]
                )
        if name == b"SUBSCRIBE":
            self.subscribers.append(client)
            return b"".join(push("subscribe", ch, i + 1) for i, ch in enumerate(cmd[1:]))
        if name == b"PING" and client in self.subscribers:
            return b"+PONG\r\n"
        return DEFAULT

    def publish(self, channel: str, message: str) -> None:
        for client in self.subscribers:
            if not client.closed.is_set():
                client.write(push("message", channel, message))


@pytest.fixture
async def nodes() -> AsyncIterator[list[FakeNode]]:
    made = [FakeNode() for _ in range(3)]
    for n in made:
        await n.__aenter__()
    yield made
    for n in made:
        await n.__aexit__()


@pytest.fixture
async def sentinels() -> AsyncIterator[list[FakeSentinel]]:
    made = [FakeSentinel() for _ in range(2)]
    for s in made:
        await s.__aenter__()
    yield made
    for s in made:
        await s.__aexit__()


def switch(sentinel: FakeSentinel, old: FakeNode, new: FakeNode) -> None:
    sentinel.publish("+switch-master", f"{SERVICE} {HOST} {old.port} {HOST} {new.port}")


# ------------------------------------------------------------------ discovery


async def test_discovery_checks_role_and_asks_the_next_sentinel(
    nodes: list[FakeNode], sentinels: list[FakeSentinel]
) -> None:
    x, y, _ = nodes
    a, b = sentinels
    x.role = "slave"  # a stale sentinel names a node that is a replica now
    a.names(x, 1)
    b.names(y, 1)
    async with redspec.Sentinel([a.address, b.address]) as s:
        assert await s.discover_master(SERVICE) == (HOST, y.port)
        assert s.sentinels[0] == b.address  # the one that answered is asked first now
        m = s.master_for(SERVICE)
        assert await m.set("k", "v") is True
        assert y.data == {b"k": b"v"} and x.sets == []


async def test_an_older_configuration_is_skipped(
    nodes: list[FakeNode], sentinels: list[FakeSentinel]
) -> None:
    x, y, _ = nodes
    a, b = sentinels
    a.names(y, 2)
    b.names(y, 2)
    async with redspec.Sentinel([a.address, b.address], check_interval=60) as s:
        m = s.master_for(SERVICE)
        assert await m.set("k", "1") is True
        assert s.watching == a.address or await eventually(lambda: _watching(s, a.address))
        # Sentinel a now answers from an older configuration that names x, and
        # x still says ROLE master (as a demoted master does until a sentinel
        # reconfigures it). An event makes the client ask a first.
        a.names(x, 1)
        before = b.queries
        a.publish("-role-change", f"slave {HOST}:{y.port} {HOST} {y.port} @ {SERVICE} {HOST} 1")
        await eventually(lambda: _asked(b, before))
        assert await m.set("k2", "2") is True
        assert set(y.data) == {b"k", b"k2"} and x.sets == []
        assert m.settings.port == y.port


async def test_a_sentinel_that_refuses_sentinel_master_still_names_the_master(
    nodes: list[FakeNode], sentinels: list[FakeSentinel]
) -> None:
    a, _b = sentinels
    a.names(nodes[1], 3)
    a.acl_refuses_master = True
    async with redspec.Sentinel([a.address]) as s:
        assert await s.discover_master(SERVICE) == (HOST, nodes[1].port)
        with pytest.raises(redspec.MasterNotFoundError, match="no sentinel knows service 'x'"):
            await s.discover_master("x")


async def _watching(s: redspec.Sentinel, address: tuple[str, int]) -> bool:
    return s.watching == address


async def _asked(sentinel: FakeSentinel, before: int) -> bool:
    return sentinel.queries > before


async def test_all_sentinels_down_fails_fast_and_names_the_service() -> None:
    s = redspec.Sentinel([(HOST, free_port()), (HOST, free_port()), (HOST, free_port())])
    m = s.master_for(SERVICE)
    loop = asyncio.get_running_loop()
    start = loop.time()
    with pytest.raises(redspec.MasterNotFoundError, match="no sentinel answered about service"):
        async with m:
            pass
    with pytest.raises(redspec.ConnectionError, match=f"'{SERVICE}'"):
        await m.get("k")
    assert loop.time() - start < 2.0
    r = s.replica_for(SERVICE)
    with pytest.raises(redspec.MasterNotFoundError, match=f"'{SERVICE}'"):
        await r.get("k")
    await s.aclose()


async def test_unknown_service(sentinels: list[FakeSentinel]) -> None:
    async with redspec.Sentinel([s.address for s in sentinels]) as s:
        with pytest.raises(redspec.MasterNotFoundError, match="no sentinel knows service 'nosuch'"):
            await s.master_for("nosuch").get("k")
        with pytest.raises(redspec.MasterNotFoundError, match="'nosuch'"):
            await s.replica_for("nosuch").get("k")


async def test_credentials_are_checked_and_never_shown(nodes: list[FakeNode]) -> None:
    async with FakeSentinel(password="right-s3cret") as guarded:
        guarded.names(nodes[0], 1)
        s = redspec.Sentinel(
            [guarded.address], sentinel_password="wrong-s3cret", password="data-s3cret"
        )
        m = s.master_for(SERVICE)
        with pytest.raises(redspec.AuthenticationError) as info:
            await m.get("k")
        text = f"{info.value!r} {info.value} {s!r} {m!r}"
        assert "s3cret" not in text
        await s.aclose()
        # The right sentinel password, and a data password the node rejects.
        nodes[1].server.password = "other-s3cret"
        guarded.names(nodes[1], 1)
        s = redspec.Sentinel(
            [guarded.address], sentinel_password="right-s3cret", password="data-s3cret"
        )
        m = s.master_for(SERVICE)
        with pytest.raises(redspec.AuthenticationError) as info:
            await m.get("k")
        assert "s3cret" not in f"{info.value!r} {info.value} {s!r} {m!r}"
        await s.aclose()


# ------------------------------------------------------------------ following


async def test_switch_event_fails_what_was_in_flight_and_moves_every_client(
    nodes: list[FakeNode], sentinels: list[FakeSentinel]
) -> None:
    x, y, _ = nodes
    a, b = sentinels
    a.names(x, 1)
    b.names(x, 1)
    async with redspec.Sentinel([a.address, b.address], check_interval=60) as s:
        m = s.master_for(SERVICE)
        m2 = s.master_for(SERVICE, decode_responses=True)
        assert await m.set("before", "1") is True
        assert await m2.set("before2", "1") is True
        await eventually(lambda: _watching(s, a.address))
        x.hold = True
        in_flight = asyncio.ensure_future(m.set("in-flight", "1"))
        blocked = asyncio.ensure_future(m.blpop(["q"], timeout=0))
        await eventually(lambda: _received(x, b"in-flight"))
        a.names(y, 2)
        b.names(y, 2)
        switch(a, x, y)
        with pytest.raises(redspec.ConnectionError, match="may or may not have been executed"):
            await asyncio.wait_for(in_flight, 5)
        with pytest.raises(redspec.ConnectionError):
            await asyncio.wait_for(blocked, 5)
        assert await m.set("after", "1") is True
        assert await m2.set("after2", "1") is True
        assert set(y.data) == {b"after", b"after2"}
        # The write in flight was sent once, to the old master, and never again.
        assert x.sets.count(b"in-flight") == 1 and b"in-flight" not in y.sets
        assert m.settings.port == y.port and m2.settings.port == y.port
        assert f"{HOST}:{y.port}" in repr(m)


async def _all_closed(sentinel: FakeSentinel) -> bool:
    return all(c.closed.is_set() for c in sentinel.server.clients)


async def _received(node: FakeNode, key: bytes) -> bool:
    return key in node.sets


async def test_readonly_reply_makes_the_client_rediscover(
    nodes: list[FakeNode], sentinels: list[FakeSentinel]
) -> None:
    x, y, _ = nodes
    a, _b = sentinels
    a.names(x, 1)
    async with redspec.Sentinel([a.address], check_interval=60) as s:
        m = s.master_for(SERVICE)
        assert await m.set("k", "1") is True
        # x became a replica and the sentinel names y; nobody publishes anything.
        x.role = "slave"
        a.names(y, 2)
        with pytest.raises(redspec.ReadOnlyError):
            await m.set("k", "2")
        assert await eventually(lambda: m.set("k", "3"), timeout=10) is True
        assert y.data == {b"k": b"3"}


async def test_periodic_check_moves_a_quiet_client(
    nodes: list[FakeNode], sentinels: list[FakeSentinel]
) -> None:
    x, y, _ = nodes
    a, _b = sentinels
    a.names(x, 1)
    async with redspec.Sentinel([a.address], check_interval=0.2) as s:
        m = s.master_for(SERVICE)
        assert await m.set("k", "1") is True
        x.role = "slave"
        a.names(y, 2)  # no event, no command: only the periodic check can notice

        async def moved() -> bool:
            return m.settings.port == y.port

        await eventually(moved, timeout=10)
        assert await m.set("k", "2") is True and y.data == {b"k": b"2"}


async def test_closing_clients_stops_the_background_work(
    nodes: list[FakeNode], sentinels: list[FakeSentinel]
) -> None:
    a, _b = sentinels
    a.names(nodes[0], 1)
    s = redspec.Sentinel([a.address])
    m = s.master_for(SERVICE)
    r = s.replica_for(SERVICE)
    async with m:
        await m.get("k")
        await eventually(lambda: _watching(s, a.address))
        await r.get("k")
        await r.aclose()
        assert s.watching == a.address  # m is still open
    assert s.watching is None
    await eventually(lambda: _all_closed(a), timeout=5)  # every sentinel connection
    # A new client starts everything again; Sentinel.aclose() closes its clients.
    m3 = s.master_for(SERVICE)
    await m3.get("k")
    await eventually(lambda: _watching(s, a.address))
    await s.aclose()
    assert s.watching is None
    with pytest.raises(redspec.ConnectionError, match="client closed"):
        await m3.get("k")
    with pytest.raises(redspec.DataError, match="closed"):
        s.master_for(SERVICE)


async def test_from_url_client_owns_its_sentinel(
    nodes: list[FakeNode], sentinels: list[FakeSentinel]
) -> None:
    a, b = sentinels
    a.names(nodes[0], 1)
    b.names(nodes[0], 1)
    url = f"redis+sentinel://{HOST}:{a.server.port},{HOST}:{b.server.port}/{SERVICE}/0"
    m = redspec.Redis.from_url(url + "?decode_responses=true&check_interval=30")
    assert await m.set("k", "v") is True
    assert await m.get("k") == "v"
    assert nodes[0].data == {b"k": b"v"}
    await m.aclose()
    await eventually(lambda: _all_closed(a), timeout=5)
    await eventually(lambda: _all_closed(b), timeout=5)


# ------------------------------------------------------------------ replicas


async def test_replica_reads_go_round_healthy_replicas_then_fall_back(
    nodes: list[FakeNode], sentinels: list[FakeSentinel]
) -> None:
    master, r1, r2 = nodes
    a, _b = sentinels
    a.names(master, 1)
    for n in nodes:
        n.data[b"k"] = b"v"
    a.replicas = [(r1, "slave"), (r2, "slave")]
    async with redspec.Sentinel([a.address], check_interval=60) as s:
        r = s.replica_for(SERVICE)
        strict = s.replica_for(SERVICE, master_fallback=False)
        for _ in range(10):
            assert await r.get("k") == b"v"
        assert r1.gets >= 4 and r2.gets >= 4 and master.gets == 0
        assert f"{HOST}:{r1.port}" in repr(r) and f"{HOST}:{r2.port}" in repr(r)
        # r2 goes down: an event refreshes the list, reads stay on r1.
        await eventually(lambda: _watching(s, a.address))
        a.replicas = [(r1, "slave"), (r2, "slave,s_down")]
        a.publish("+sdown", f"slave {HOST}:{r2.port} {HOST} {r2.port} @ {SERVICE} {HOST} 1")

        async def only_r1() -> bool:
            before = r2.gets
            for _ in range(4):
                await r.get("k")
            return r2.gets == before

        await eventually(only_r1, timeout=10)
        # No healthy replica: reads go to the master, or fail without fallback.
        a.replicas = [(r1, "slave,disconnected"), (r2, "slave,s_down")]
        a.publish("+sdown", f"slave {HOST}:{r1.port} {HOST} {r1.port} @ {SERVICE} {HOST} 1")

        async def on_master() -> bool:
            before = master.gets
            await r.get("k")
            return master.gets > before

        await eventually(on_master, timeout=10)
        await strict.aclose()
        strict = s.replica_for(SERVICE, master_fallback=False)
        with pytest.raises(redspec.ReplicaNotFoundError, match=f"'{SERVICE}'"):
            await strict.get("k")


async def test_a_failing_error_reply_observer_does_not_break_the_stream(
    nodes: list[FakeNode],
) -> None:
    from redspec.connection import Connection

    seen: list[str] = []
    loop_errors: list[dict[str, Any]] = []
    asyncio.get_running_loop().set_exception_handler(lambda _loop, ctx: loop_errors.append(ctx))
    node = nodes[0]
    node.role = "slave"
    conn = await Connection.open(node.server.settings())

    def observe(reply: redspec.ResponseError) -> None:
        seen.append(reply.code)
        raise RuntimeError("observer bug")

    conn.on_error_reply = observe
    futures = conn.send_many([("SET", "k", "v"), ("ROLE",)])
    with pytest.raises(redspec.ReadOnlyError):
        await futures[0]
    assert (await futures[1])[0] == b"slave"
    assert seen == ["READONLY"] and "on_error_reply" in loop_errors[0]["message"]
    conn.close()


# ------------------------------------------------------------------ parsing


def test_events_are_parsed() -> None:
    e = parse_event(b"+switch-master", b"mymaster 10.0.0.1 6379 10.0.0.2 6380")
    assert e is not None and e.service == "mymaster" and e.switch_to == ("10.0.0.2", 6380)
    e = parse_event("+promoted-slave", "slave 10.0.0.2:6380 10.0.0.2 6380 @ mymaster 10.0.0.1 6379")
    assert e is not None and e.switch_to == ("10.0.0.2", 6380) and e.service == "mymaster"
    e = parse_event("+sdown", "slave 10.0.0.3:6381 10.0.0.3 6381 @ mymaster 10.0.0.1 6379")
    assert e is not None and e.switch_to is None and not e.master_may_have_moved
    e = parse_event("+odown", "master mymaster 10.0.0.1 6379 #quorum 2/2")
    assert e is not None and e.about_master and e.master_may_have_moved
    assert parse_event("+sdown", "sentinel 10.0.0.9:26379 10.0.0.9 26379 @ mymaster x 1") is None
    assert parse_event("+switch-master", "garbage") is None


def test_replies_are_parsed() -> None:
    assert parse_master_address(None) is None
    assert parse_master_address([b"10.0.0.1", b"6379"]) == ("10.0.0.1", 6379)
    with pytest.raises(redspec.ProtocolError):
        parse_master_address([b"10.0.0.1", b"port"])
    flat = [b"ip", b"h", b"port", b"1", b"flags", b"slave,s_down", b"role-reported", b"slave"]
    mapped = {b"ip": b"h", b"port": b"2", b"flags": b"slave", b"role-reported": b"master"}
    one, two = parse_replicas([flat, mapped])
    assert one.address == ("h", 1) and not one.healthy  # s_down
    assert two.address == ("h", 2) and not two.healthy  # still says master


def test_sentinel_urls() -> None:
    sentinels, service, options = parse_sentinel_url(
        "rediss+sentinel://u:p%40ss@h1:26380,h2,[::1]:5000/mymaster/2"
        "?decode_responses=true&sentinel_password=x&sentinel_timeout=0.5"
    )
    assert sentinels == [("h1", 26380), ("h2", 26379), ("::1", 5000)]
    assert service == "mymaster"
    assert options == {
        "username": "u",
        "password": "p@ss",
        "db": 2,
        "ssl": True,
        "sentinel_ssl": True,
        "decode_responses": True,
        "sentinel_password": "x",
        "sentinel_timeout": 0.5,
    }
    for bad in (
        "redis+sentinel:///mymaster",
        "redis+sentinel://h1/",
        "redis+sentinel://h1/a/b/c",
        "redis+sentinel://h1/mymaster/x",
        "redis+sentinel://h1:port/mymaster",
        "redis+sentinel://h1/mymaster?nonsense=1",
    ):
        with pytest.raises(redspec.DataError):
            parse_sentinel_url(bad)
    with pytest.raises(redspec.DataError) as info:
        parse_sentinel_url("redis+sentinel://h/m?sentinel_timeout=never&sentinel_password=s3c")
    assert "s3c" not in str(info.value)


def test_bad_arguments_are_refused_before_anything_is_sent() -> None:
    with pytest.raises(redspec.DataError, match="sentinels"):
        redspec.Sentinel([])
    with pytest.raises(redspec.DataError, match="sentinels"):
        redspec.Sentinel("localhost:26379")  # type: ignore[arg-type]
    with pytest.raises(redspec.DataError, match="sentinels"):
        redspec.Sentinel([("h", "26379")])  # type: ignore[list-item]
    with pytest.raises(redspec.DataError, match="decode_responses"):
        redspec.Sentinel([("h", 1)], decode_responses=True)  # type: ignore[call-arg]
    with pytest.raises(redspec.DataError, match="check_interval"):
        redspec.Sentinel([("h", 1)], check_interval=0)
    with pytest.raises(redspec.DataError, match="db"):
        redspec.Sentinel([("h", 1)], db=-1)
    s = redspec.Sentinel([("h", 1)])
    with pytest.raises(redspec.DataError, match="service_name"):
        s.master_for("")
    with pytest.raises(redspec.DataError, match="host"):
        s.master_for("m", host="x")  # type: ignore[call-overload]
