"""The "server" group's generated methods against live servers, RESP3 and RESP2.

Read-mostly commands run on the shared session servers (and put back any
setting they change). Commands that change a server for good (SAVE, ACL
LOAD, CONFIG REWRITE, MODULE LOAD, REPLICAOF, FAILOVER, SHUTDOWN) run on
throwaway servers. MONITOR, SYNC, PSYNC and REPLCONF belong to dedicated
APIs (or to replication itself) and get no generated method.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

import redspec
from redspec._generated.client.server import ServerCommands
from tests.servers import RedisServer, start_server

from ._sys_support import (
    PROTOCOLS,
    Calls,
    client_for,
    info_field,
    raw,
    str_client_for,
    wait_until,
)

calls = Calls()

# The smallest loadable module: it registers its name and nothing else. A
# module gets the server's API lookup function as the first field of its
# context; RedisModule_SetModuleAttribs names the module.
NOOP_MODULE_C = r"""
typedef struct RedisModuleCtx RedisModuleCtx;
typedef int (*get_api_fn)(const char *name, void *dest);
typedef int (*set_attribs_fn)(RedisModuleCtx *ctx, const char *name, int ver, int apiver);

int RedisModule_OnLoad(RedisModuleCtx *ctx, void **argv, int argc) {
    (void)argv;
    (void)argc;
    get_api_fn get_api = (get_api_fn)((void **)ctx)[0];
    set_attribs_fn set_attribs = 0;
    if (get_api("RedisModule_SetModuleAttribs", (void *)&set_attribs) != 0) return 1;
    set_attribs(ctx, "rtnoop", 1, 1);
    return 0;
}
"""


class ConfiguredServer(RedisServer):
    """A server started from a config file (CONFIG REWRITE needs one)."""

    def __init__(self, kind: str, config: str, **kw: Any) -> None:
        super().__init__(kind, **kw)
        self.config = config

    def command_line(self) -> list[str]:
        cmd = super().command_line()
        return [cmd[0], self.config, *cmd[1:]]


@pytest.fixture(params=PROTOCOLS)
def protocol(request: pytest.FixtureRequest) -> int:
    return int(request.param)


@pytest.fixture
async def r(redis8: RedisServer, protocol: int) -> AsyncIterator[redspec.Redis[bytes]]:
    c = client_for(redis8, protocol)
    yield c
    await c.aclose()


@pytest.fixture(scope="module")
def admin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConfiguredServer]:
    """A Redis 8 server with a config file, an ACL file and MODULE enabled."""
    d = tmp_path_factory.mktemp("admin")
    (d / "users.acl").write_text("user default on nopass ~* &* +@all\n")
    conf = d / "redis.conf"
    conf.write_text(f"enable-module-command yes\naclfile {d / 'users.acl'}\n")
    server = ConfiguredServer("redis8", str(conf))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def noop_module(tmp_path_factory: pytest.TempPathFactory) -> str | None:
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        return None
    d = tmp_path_factory.mktemp("module")
    (d / "noop.c").write_text(NOOP_MODULE_C)
    subprocess.run(
        [cc, "-shared", "-fPIC", "-o", str(d / "noop.so"), str(d / "noop.c")], check=True
    )
    return str(d / "noop.so")


def _read(path: str) -> str:
    return Path(path).read_text()


async def _config_value(r: redspec.Redis[bytes], name: str) -> bytes:
    return (await r.config_get(name))[name.encode()]


# ------------------------------------------------------------------ ACL


async def test_acl(r: redspec.Redis[bytes], protocol: int) -> None:
    user = f"rt-user-{protocol}"
    await calls.check(r.acl_setuser, user, "reset", "on", ">pw", "~k*", "+get", expect=True)
    try:
        got = await calls.check(r.acl_getuser, user)
        assert got is not None and got[b"commands"] == b"-@all +get"
        await calls.check(r.acl_getuser, "rt-nobody", expect=None)
        await calls.check(r.acl_dryrun, user, "get", "k1", expect=b"OK")
        denied = await calls.check(r.acl_dryrun, user, "set", "k1", "v")
        assert b"no permissions" in denied
        assert b"string" in await calls.check(r.acl_cat)
        assert b"get" in await calls.check(r.acl_cat, "string")
        assert len(await calls.check(r.acl_genpass)) == 64
        assert len(await calls.check(r.acl_genpass, 32)) == 8
        assert any(
            line.startswith(f"user {user} ".encode()) for line in await calls.check(r.acl_list)
        )
        assert user.encode() in await calls.check(r.acl_users)
        await calls.check(r.acl_whoami, expect=b"default")
        assert (await calls.check(r.acl_help))[0].startswith(b"ACL <subcommand>")

        await calls.check(r.acl_log, reset=True, expect=True)
        with pytest.raises(redspec.RedisError):
            await r.execute_command("AUTH", user, "wrong")
        log = await calls.check(r.acl_log)
        assert log[0][b"username"] == user.encode() and log[0][b"reason"] == b"auth"
        assert len(await calls.check(r.acl_log, count=1)) == 1
        await r.acl_log(reset=True)
    finally:
        await calls.check(r.acl_deluser, user, "rt-nobody", expect=1)


async def test_acl_files(admin: RedisServer, protocol: int) -> None:
    r = client_for(admin, protocol)
    try:
        await r.acl_setuser(f"rt-saved-{protocol}", "on", "nopass")
        await calls.check(r.acl_save, expect=True)
        await r.acl_deluser(f"rt-saved-{protocol}")
        await calls.check(r.acl_load, expect=True)
        assert f"rt-saved-{protocol}".encode() in await r.acl_users()
        await r.acl_deluser(f"rt-saved-{protocol}")
        await r.acl_save()
    finally:
        await r.aclose()


# ------------------------------------------------------------------ CONFIG, INFO, misc


async def test_config(r: redspec.Redis[bytes], admin: ConfiguredServer, protocol: int) -> None:
    got = await calls.check(r.config_get, "maxmemory*")
    assert got[b"maxmemory-policy"] == b"noeviction"
    await calls.check(r.config_get, "rt-no-such-parameter", expect={})
    both = await calls.check(r.config_get, "maxmemory-samples", "hz")
    assert set(both) == {b"maxmemory-samples", b"hz"}
    settings = {"maxmemory-samples": 7, "hz": both[b"hz"]}
    await calls.check(r.config_set, mapping=settings, expect=True)
    assert await _config_value(r, "maxmemory-samples") == b"7"
    await r.config_set(mapping={"maxmemory-samples": both[b"maxmemory-samples"]})
    await calls.check(r.config_resetstat, expect=True)
    assert (await calls.check(r.config_help))[0].startswith(b"CONFIG <subcommand>")
    await calls.error(r.config_rewrite, match="without a config file")
    a = client_for(admin, protocol)
    try:
        await a.config_set(mapping={"maxmemory-samples": 6 + protocol})
        await calls.check(a.config_rewrite, expect=True)
        assert f"maxmemory-samples {6 + protocol}" in _read(admin.config)
    finally:
        await a.aclose()


async def test_info_and_friends(r: redspec.Redis[bytes]) -> None:
    await r.flushall()
    await r.set("rt:k", "v")
    await calls.check(r.dbsize, expect=1)
    assert b"redis_version:8.2.3" in await calls.check(r.info)
    both = await calls.check(r.info, "server", "clients")
    assert b"# Server" in both and b"# Clients" in both and b"# Memory" not in both
    assert await calls.check(r.lolwut)
    assert await calls.check(r.lolwut, version=5)
    seconds, micros = await calls.check(r.time)
    assert seconds.isdigit() and micros.isdigit()
    assert await calls.check(r.lastsave) > 0
    await calls.check(r.role, expect=[b"master", 0, []])
    await calls.check(r.swapdb, 0, 1, expect=True)
    await calls.check(r.dbsize, expect=0)
    await r.swapdb(0, 1)
    await calls.check(r.flushdb, flush_type="SYNC", expect=True)
    await calls.check(r.dbsize, expect=0)
    await r.set("rt:k", "v")
    await calls.check(r.flushall, flush_type="ASYNC", expect=True)
    await calls.check(r.flushdb, expect=True)
    await calls.check(r.flushall, expect=True)


async def test_debug_and_restore_asking(r: redspec.Redis[bytes]) -> None:
    assert await calls.check(r.debug, "SLEEP", 0) == b"OK"
    assert b"DEBUG <subcommand>" in (await calls.check(r.debug, "HELP"))[0]  # type: ignore[index,operator]
    await r.set("rt:src", "payload")
    dumped = await r.dump("rt:src")
    assert dumped is not None
    await calls.check(r.restore_asking, "rt:dst", 0, dumped, expect=True)
    await calls.check(r.restore_asking, "rt:dst", 0, dumped, replace=True, idletime=5, expect=True)
    assert await r.get("rt:dst") == b"payload"
    await r.delete("rt:src", "rt:dst")


async def test_command_introspection(r: redspec.Redis[bytes]) -> None:
    everything = await calls.check(r.command)
    count = await calls.check(r.command_count)
    assert isinstance(everything, list) and len(everything) == count
    docs = await calls.check(r.command_docs, "get", "set")
    assert docs[b"get"][b"group"] == b"string" and set(docs) == {b"get", b"set"}
    await calls.check(r.command_docs, "rt-no-such-command", expect={})
    await calls.check(r.command_getkeys, "mset", "a", "1", "b", "2", expect=[b"a", b"b"])
    await calls.check(
        r.command_getkeysandflags, "lmove", "a", "b", "left", "left",
        expect=[(b"a", {b"RW", b"access", b"delete"}), (b"b", {b"RW", b"insert"})],
    )  # fmt: skip
    info = await calls.check(r.command_info, "mget", "config", "rt-no-such-command")
    mget, config, missing = info
    assert mget is not None and mget[:2] == (b"mget", -2) and b"readonly" in mget[2]
    assert mget[8][0][b"begin_search"] is not None  # a key spec, a map on both protocols
    assert config is not None and len(config[9]) > 3  # the subcommands
    assert missing is None
    listed = await calls.check(r.command_list)
    assert len(listed) > count  # subcommands are listed too
    assert b"client|kill" in await calls.check(r.command_list, pattern="client*")
    assert b"hset" in await calls.check(r.command_list, aclcat="hash")
    assert b"VADD" in await calls.check(r.command_list, module="vectorset")
    assert (await calls.check(r.command_help))[0].startswith(b"COMMAND <subcommand>")


# ------------------------------------------------------------------ diagnostics


async def test_latency(r: redspec.Redis[bytes]) -> None:
    before = await _config_value(r, "latency-monitor-threshold")
    await r.config_set(mapping={"latency-monitor-threshold": 1})
    try:
        await r.latency_reset()
        await r.debug("SLEEP", "0.01")
        latest = await calls.check(r.latency_latest)
        event = next(e for e in latest if e[0] == b"command")
        assert event[2] >= 10 and event[3] >= 10
        history = await calls.check(r.latency_history, "command")
        assert history[-1][1] >= 10
        assert b"command" in await calls.check(r.latency_doctor)
        assert b"command - high" in await calls.check(r.latency_graph, "command")
        await r.set("rt:k", "v")
        hist = await calls.check(r.latency_histogram, "set", "rt-no-such-command")
        assert set(hist) == {b"set"} and hist[b"set"][b"calls"] >= 1  # type: ignore[operator]
        assert b"set" in await calls.check(r.latency_histogram)
        await calls.check(r.latency_reset, "command", expect=1)
        assert await calls.check(r.latency_reset) >= 0
        assert (await calls.check(r.latency_help))[0].startswith(b"LATENCY <subcommand>")
    finally:
        await r.config_set(mapping={"latency-monitor-threshold": before})
        await r.delete("rt:k")


async def test_slowlog(r: redspec.Redis[bytes]) -> None:
    before = await _config_value(r, "slowlog-log-slower-than")
    await r.config_set(mapping={"slowlog-log-slower-than": 0})
    try:
        await calls.check(r.slowlog_reset, expect=True)
        await r.echo("rt-slow")
        last = await calls.check(r.slowlog_get, 2)
        assert last[0][3] == [b"ECHO", b"rt-slow"]
        assert len(await calls.check(r.slowlog_get)) >= 2
        assert await calls.check(r.slowlog_len) >= 2
        assert (await calls.check(r.slowlog_help))[0].startswith(b"SLOWLOG <subcommand>")
    finally:
        await r.config_set(mapping={"slowlog-log-slower-than": before})
        await r.slowlog_reset()


async def test_memory(r: redspec.Redis[bytes]) -> None:
    await r.set("rt:k", "v" * 100)
    assert await calls.check(r.memory_usage, "rt:k") > 100  # type: ignore[operator]
    assert await calls.check(r.memory_usage, "rt:k", samples=0) > 100  # type: ignore[operator]
    await calls.check(r.memory_usage, "rt:missing", expect=None)
    stats = await calls.check(r.memory_stats)
    assert isinstance(stats[b"peak.allocated"], int)
    assert await calls.check(r.memory_doctor)
    assert b"jemalloc" in await calls.check(r.memory_malloc_stats)
    await calls.check(r.memory_purge, expect=True)
    assert (await calls.check(r.memory_help))[0].startswith(b"MEMORY <subcommand>")
    await r.delete("rt:k")


# ------------------------------------------------------------------ persistence, modules


def _idle(server: RedisServer) -> bool:
    return (
        info_field(server, "persistence", "rdb_bgsave_in_progress") == "0"
        and info_field(server, "persistence", "aof_rewrite_in_progress") == "0"
        and info_field(server, "persistence", "aof_rewrite_scheduled") == "0"
    )


async def test_persistence(admin: RedisServer, protocol: int) -> None:
    r = client_for(admin, protocol)
    try:
        wait_until("no background job", lambda: _idle(admin))
        await calls.check(r.save, expect=True)
        assert await r.lastsave() > 0
        await calls.check(r.bgsave, expect=b"Background saving started")
        wait_until("BGSAVE to end", lambda: _idle(admin))
        await calls.check(r.bgrewriteaof, expect=b"Background append only file rewriting started")
        # SCHEDULE while the rewrite runs (or right after it) is still an answer of its own
        scheduled = await calls.check(r.bgsave, operation="SCHEDULE")
        assert scheduled.startswith(b"Background saving")
        wait_until("the rewrite and the save to end", lambda: _idle(admin))
    finally:
        await r.aclose()


async def test_valkey_bgsave_cancel(valkey8: RedisServer, protocol: int) -> None:
    r = client_for(valkey8, protocol)
    try:
        wait_until("no background job", lambda: _idle(valkey8))
        await calls.error(r.bgsave, operation="CANCEL", match="not in progress or scheduled")
        # A per-key delay keeps the child busy long enough to be cancelled.
        await r.set("rt:k", "v")
        await r.config_set(mapping={"rdb-key-save-delay": 5_000_000})
        await calls.check(r.bgsave, expect=b"Background saving started")
        await calls.check(r.bgsave, operation="CANCEL", expect=b"Background saving cancelled")
    finally:
        await r.config_set(mapping={"rdb-key-save-delay": 0})
        await r.delete("rt:k")
        await r.aclose()
    wait_until("the cancelled child to go", lambda: _idle(valkey8))


async def test_modules(admin: RedisServer, protocol: int, noop_module: str | None) -> None:
    r = client_for(admin, protocol)
    try:
        listed = await calls.check(r.module_list)
        assert {m[b"name"] for m in listed} == {b"vectorset"}
        assert (await calls.check(r.module_help))[0].startswith(b"MODULE <subcommand>")
        if noop_module is None:  # no C compiler: the server's refusals prove the command lines
            await calls.error(r.module_load, "/rt/none.so", match="Error loading")
            await calls.error(r.module_loadex, "/rt/none.so", args=["a"], match="Error loading")
            await calls.error(r.module_unload, "rtnoop", match="no such module")
            return
        await calls.check(r.module_load, noop_module, "a", "b", expect=True)
        loaded = {m[b"name"]: m for m in await r.module_list()}
        assert loaded[b"rtnoop"][b"args"] == [b"a", b"b"]
        await calls.check(r.module_unload, "rtnoop", expect=True)
        await calls.check(r.module_loadex, noop_module, args=["x"], expect=True)
        await r.module_unload("rtnoop")
        await calls.check(r.module_loadex, noop_module, expect=True)
        await r.module_unload("rtnoop")
    finally:
        await r.aclose()


# ------------------------------------------------------------------ replication, shutdown


def _replica_args() -> list[str]:
    return ["--repl-diskless-sync-delay", "0", "--repl-ping-replica-period", "1"]


def _link_up(replica: RedisServer) -> bool:
    return info_field(replica, "replication", "master_link_status") == "up"


def _failed_over(server: RedisServer) -> bool:
    """``server`` handed its primary role over, and its FAILOVER is finished.

    ROLE says "slave" as soon as the old primary starts following the new one;
    the failover ends only when the new primary answered its PSYNC, and until
    then REPLICAOF and FAILOVER are refused ("not allowed while failing over").
    """
    return (
        raw(server, "ROLE")[0] == b"slave"
        and info_field(server, "replication", "master_failover_state") == "no-failover"
    )


async def test_replication_and_failover(protocol: int) -> None:
    primary = start_server("redis8", args=_replica_args())
    replica = start_server("redis8", args=_replica_args())
    rp, rr = client_for(primary, protocol), client_for(replica, protocol)
    try:
        await calls.check(rr.replicaof, host=primary.host, port=primary.port, expect=b"OK")
        again = await calls.check(rr.replicaof, host=primary.host, port=primary.port)
        assert again == b"OK Already connected to specified master"
        wait_until("the replica to sync", lambda: _link_up(replica))
        await rp.set("rt:k", "v")
        wait_until("the write to reach the replica", lambda: raw(replica, "GET", "rt:k") == b"v")
        as_replica = await calls.check(rr.role)
        assert as_replica[:4] == [b"slave", primary.host.encode(), primary.port, b"connected"]
        as_primary = await calls.check(rp.role)
        assert as_primary[0] == b"master" and as_primary[2][0][1] == str(replica.port).encode()  # type: ignore[index]

        await calls.check(rp.failover, timeout=5000, expect=True)
        wait_until("the failover", lambda: _failed_over(primary), timeout=10)
        wait_until("the old primary to sync", lambda: _link_up(primary))
        await calls.check(rr.failover, to=(primary.host, primary.port), expect=True)
        wait_until("the failback", lambda: _failed_over(replica), timeout=10)
        await calls.error(rp.failover, abort=True, match="No failover in progress")

        with pytest.warns(DeprecationWarning):
            await calls.check(rr.slaveof, no_one=True, expect=b"OK")
        with pytest.warns(DeprecationWarning):
            await calls.check(rr.slaveof, host=primary.host, port=primary.port, expect=b"OK")
        await calls.check(rr.replicaof, no_one=True, expect=b"OK")
    finally:
        await rp.aclose()
        await rr.aclose()
        primary.stop()
        replica.stop()


def test_failover_is_finished_only_when_the_state_says_so() -> None:
    """Why the test above waits for master_failover_state, not only for ROLE.

    A target that does not answer (here: stopped) holds the old primary in
    failover-in-progress with ROLE already "slave": a test that waited on ROLE
    alone then sent REPLICAOF and got "not allowed while failing over" (a
    loaded machine made the same window by answering late).
    """
    primary = start_server("redis8", args=_replica_args())
    replica = start_server("redis8", args=_replica_args())
    try:
        raw(replica, "REPLICAOF", primary.host, primary.port)
        wait_until("the replica to sync", lambda: _link_up(replica))
        assert replica.proc is not None
        os.kill(replica.proc.pid, signal.SIGSTOP)
        try:
            raw(primary, "SET", "rt:k", "v")  # the stopped target falls behind
            raw(primary, "FAILOVER", "TO", replica.host, replica.port, "TIMEOUT", 100, "FORCE")
            wait_until("the old primary to follow", lambda: raw(primary, "ROLE")[0] == b"slave")
            assert not _failed_over(primary)
            with pytest.raises(redspec.ResponseError, match="not allowed while failing over"):
                raw(primary, "REPLICAOF", "NO", "ONE")
        finally:
            os.kill(replica.proc.pid, signal.SIGCONT)
        wait_until("the failover to finish", lambda: _failed_over(primary), timeout=10)
        assert raw(primary, "REPLICAOF", "NO", "ONE") == b"OK"
    finally:
        primary.stop()
        replica.stop()


async def test_shutdown(protocol: int) -> None:
    primary = start_server("redis8", args=[*_replica_args(), "--shutdown-timeout", "10"])
    replica = start_server("redis8", args=_replica_args())
    r1, r2 = client_for(primary, protocol), client_for(primary, protocol)
    try:
        raw(replica, "REPLICAOF", primary.host, primary.port)
        wait_until("the replica to sync", lambda: _link_up(replica))
        await calls.error(r1.shutdown, abort=True, match="No shutdown in progress")
        # A replica that stops acknowledging makes SHUTDOWN wait for it, which
        # is the one moment SHUTDOWN ABORT answers OK.
        assert replica.proc is not None
        os.kill(replica.proc.pid, signal.SIGSTOP)
        try:
            await r1.set("rt:lag", "x" * 1000)
            waiting = asyncio.ensure_future(r1.shutdown())
            await asyncio.sleep(0.3)
            assert not waiting.done()
            await calls.check(r2.shutdown, abort=True, expect=True)
            with pytest.raises(redspec.ResponseError, match="SHUTDOWN"):
                await waiting
        finally:
            os.kill(replica.proc.pid, signal.SIGCONT)
        with pytest.raises(redspec.ConnectionError):
            await calls.check(r2.shutdown, save_selector="NOSAVE", now=True, force=True)
        assert primary.proc is not None
        assert primary.proc.wait(5) == 0
    finally:
        await r1.aclose()
        await r2.aclose()
        primary.stop()
        replica.stop()


# ------------------------------------------------------------------ COMMANDLOG, other servers


async def test_valkey_commandlog(valkey8: RedisServer, protocol: int) -> None:
    r = client_for(valkey8, protocol)
    before = await _config_value(r, "commandlog-execution-slower-than")
    await r.config_set(mapping={"commandlog-execution-slower-than": 0})
    try:
        await calls.check(r.commandlog_reset, "slow", expect=True)
        await r.echo("rt-slow")
        last = await calls.check(r.commandlog_get, 2, "slow")
        assert last[0][3] == [b"ECHO", b"rt-slow"]
        assert await calls.check(r.commandlog_len, "slow") >= 2
        await calls.check(r.commandlog_reset, "large-request", expect=True)
        await calls.check(r.commandlog_len, "large-request", expect=0)
        await calls.check(r.commandlog_get, -1, "large-reply")
        await calls.check(r.commandlog_get, -1, "large-request")
        await calls.check(r.commandlog_len, "large-reply")
        await calls.check(r.commandlog_reset, "large-reply", expect=True)
        assert (await calls.check(r.commandlog_help))[0].startswith(b"COMMANDLOG <subcommand>")
    finally:
        await r.config_set(mapping={"commandlog-execution-slower-than": before})
        await r.aclose()


@pytest.mark.parametrize("kind", ["valkey8", "redis7"])
async def test_other_servers(kind: str, protocol: int, request: pytest.FixtureRequest) -> None:
    """The replies whose shapes differ most between versions, on the other two servers."""
    server: RedisServer = request.getfixturevalue(kind)
    r = client_for(server, protocol)
    try:
        mget = (await calls.check(r.command_info, "mget"))[0]
        assert mget is not None and mget[8][0][b"find_keys"] is not None
        assert await calls.check(r.acl_getuser, "default") is not None
        assert isinstance((await calls.check(r.memory_stats))[b"total.allocated"], int)
        await r.set("rt:k", "v")
        assert b"set" in await calls.check(r.latency_histogram, "set")
        await calls.check(r.slowlog_get, 1)
        await calls.check(r.role)
        await calls.check(
            r.command_getkeysandflags, "set", "a", "b", expect=[(b"a", {b"OW", b"update"})]
        )
        await calls.check(r.time)
        await r.delete("rt:k")
    finally:
        await r.aclose()


async def test_decoded(redis8: RedisServer, protocol: int) -> None:
    """A ``Redis[str]`` gets str wherever ``Redis[bytes]`` gets bytes, maps and sets included."""
    r = str_client_for(redis8, protocol)
    try:
        await calls.check(
            r.config_get, "maxmemory-policy", expect={"maxmemory-policy": "noeviction"}
        )
        await calls.check(
            r.command_getkeysandflags, "set", "a", "b", expect=[("a", {"OW", "update"})]
        )
        mget = (await calls.check(r.command_info, "mget"))[0]
        assert mget is not None and mget[0] == "mget" and "readonly" in mget[2]
        assert "# Server" in await calls.check(r.info, "server")
        seconds, _ = await calls.check(r.time)
        assert seconds.isdigit()
        user = await calls.check(r.acl_getuser, "default")
        assert user is not None and user["commands"] == "+@all"
        await calls.check(r.acl_whoami, expect="default")
        await calls.check(r.slowlog_get, 1)
        await calls.check(r.memory_stats)
    finally:
        await r.aclose()


def test_zz_every_method_called(request: pytest.FixtureRequest) -> None:
    calls.assert_covers(ServerCommands, request)
