# Each line marked `# E: <code>` must be rejected by mypy with that error code.
# redis-py's forms (codegen/compat.py) are typed: mixing them wrongly is an error.
from __future__ import annotations

from typing import AnyStr

from redspec._generated.client import Commands


class C(Commands[AnyStr]):
    pass


async def misuse(r: C[bytes]) -> None:
    await r.delete(["a"], "b")  # E: call-overload
    await r.mget(keys=["a"])  # E: call-overload
    await r.geosearch("g", member="m", frommember="m", radius=1)  # E: call-overload
    await r.geosearch("g", member="m", radius=1, unit="parsec")  # E: call-overload
    await r.expire("k", 10, nx="yes")  # E: arg-type
    await r.xpending_range("s", "g", "-", "+")  # E: call-arg
