"""RESP2 and RESP3 give the same Python values for the nested replies.

RESP2 has no map type: a map nested in an array (or in a map) arrives as a
flat array, and a double as a string. The reply table types these replies
precisely enough (records ``{field:T}``, ``maprow``, named types) that the
generated converters rebuild the same values on both protocols. Each
command here runs on one data set with a RESP3 and a RESP2 client (bytes,
then str), and the values must be equal, and fit the declared type. The
few fields that change from one call to the next (ages, the calling
client's description, allocator figures) are compared by type only.
"""

from __future__ import annotations

from typing import Any

import pytest

import redspec
from codegen.replies import load_replies
from redspec import _replies
from tests.integration.replies._data_support import ALL, client_for
from tests.reply_check import assert_reply_matches, check
from tests.servers import RedisServer

LIB = """#!lua name=bothlib
redis.register_function('echo', function(keys, args) return {keys[1], args[1]} end)
redis.register_function{function_name='ro', description='reads', callback=function(keys, args)
  return redis.call('GET', keys[1]) end, flags={'no-writes', 'allow-stale'}}
"""

ENTRIES = load_replies()

# (method, args, keywords, servers (None: all), fields whose values vary between calls)
CALLS: list[
    tuple[str, tuple[Any, ...], dict[str, Any], tuple[str, ...] | None, tuple[str, ...]]
] = [
    ("function_list", (), {"withcode": True}, None, ()),
    ("function_stats", (), {}, None, ()),
    ("xinfo_stream", ("both:s",), {"full": True}, None, ()),
    ("acl_getuser", ("both-user",), {}, None, ()),
    ("acl_log", (), {}, None, ("age-seconds", "client-info")),
    ("client_trackinginfo", (), {}, None, ()),
    ("lcs", ("both:a", "both:b"), {"idx": True, "withmatchlen": True}, None, ()),
    ("lcs", ("both:a", "both:b"), {"idx": True}, None, ()),
    ("latency_histogram", ("lcs",), {}, None, ()),
    ("command_info", ("get", "xinfo", "nosuch"), {}, None, ()),
    ("command_docs", ("get", "xinfo", "zadd"), {}, None, ()),
    ("command", (), {}, None, ()),
    ("memory_stats", (), {}, None, ("*",)),
    ("vsim", ("both:v",), {"ele": "a", "withscores": True, "withattribs": True}, ("redis8",), ()),
    ("vemb", ("both:v", "a"), {"raw": True}, ("redis8",), ()),
    ("dump", ("both:a",), {}, None, ()),
    ("function_dump", (), {}, None, ()),
    ("eval", ("return {1, {'a', {2.5, false}}, 'b'}",), {}, None, ()),
]


async def _setup(r: Any, kind: str) -> None:
    await r.execute_command("FLUSHALL")
    await r.function_flush()
    await r.function_load(LIB)
    await r.xadd("both:s", {"f": "v"}, id="1-0")
    await r.xadd("both:s", {"f": "w"}, id="2-0")
    await r.xgroup_create("both:s", "g", "0")
    await r.xgroup_create("both:s", "h", "$")
    await r.xreadgroup("g", "c", {"both:s": ">"}, count=1)
    await r.xgroup_createconsumer("both:s", "g", "idle")
    await r.acl_setuser("both-user", "on", ">pw", "~k*", "+get", "(~x* +set)")
    await r.acl_log(reset=True)
    await r.mset({"both:a": "ohmytext", "both:b": "mynewtext"})
    await r.lcs("both:a", "both:b")
    with pytest.raises(redspec.ResponseError, match="WRONGPASS"):
        await r.execute_command("AUTH", "both-user", "wrong")
    if kind == "redis8":
        await r.vadd("both:v", "a", values=[1, 0], setattr='{"x": 1}', quantization="NOQUANT")
        await r.vadd("both:v", "b", values=[0, 1], quantization="NOQUANT")


def _masked(value: Any, varying: tuple[str, ...]) -> Any:
    """``value`` with the varying fields of its maps (any depth) replaced by their type."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            name = k.decode() if isinstance(k, bytes) else k
            if "*" in varying or name in varying:
                out[k] = type(v).__name__
            else:
                out[k] = _masked(v, varying)
        return out
    if isinstance(value, list):
        return [_masked(v, varying) for v in value]
    return value


@pytest.mark.parametrize("decoded", [False, True], ids=["bytes", "str"])
@pytest.mark.parametrize("kind", ALL)
async def test_same_values(kind: str, decoded: bool, request: pytest.FixtureRequest) -> None:
    server: RedisServer = request.getfixturevalue(kind)
    r3 = client_for(server, 3, decode_responses=decoded)
    r2 = client_for(server, 2, decode_responses=decoded)
    try:
        await _setup(r3, kind)
        for r in (r3, r2):
            await r.execute_command("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "both:")
        checked = 0
        for name, args, kwargs, servers, varying in CALLS:
            if servers is not None and kind not in servers:
                continue
            values = []
            for r in (r3, r2):
                method = getattr(r, name)
                value = await method(*args, **kwargs)
                assert_reply_matches(method, value)
                values.append(_masked(value, varying))
            assert values[0] == values[1], (
                f"{kind} {name}{args}: RESP3 {values[0]!r} != RESP2 {values[1]!r}"
            )
            checked += 1
        assert checked >= 16
        # HELLO has no generated method (the connection layer sends it): its
        # table type and converter, applied to each protocol's own greeting.
        values = []
        for protocol, r in ((3, r3), (2, r2)):
            reply = ENTRIES["HELLO"].base
            assert reply is not None and reply.conv is not None
            value = eval(reply.conv, vars(_replies))(await r.execute_command("HELLO", protocol))
            check(value, reply.ann, str if decoded else bytes, path="HELLO")
            values.append(_masked(value, ("id", "proto")))
        assert values[0] == values[1]
    finally:
        await r3.aclose()
        await r2.aclose()
