# Each line marked `# E: <code>` must be rejected by mypy with that error code.
from __future__ import annotations

from typing import AnyStr

from redspec._generated.client import Commands
from redspec._generated.models import StreamTrim


class C(Commands[AnyStr]):
    pass


async def misuse(r: C[bytes]) -> None:
    await r.delete(1)  # E: call-overload
    await r.lmove("a", "b", "UP", "LEFT")  # E: arg-type
    await r.xadd("s", ["f", "v"])  # E: call-overload
    await r.hset("h", mapping=[("a", 1)])  # E: arg-type
    await r.geosearch("g", frommember="m", byradius=(1, "LIGHTYEARS"))  # E: arg-type
    StreamTrim("SIZE", 10)  # E: arg-type
