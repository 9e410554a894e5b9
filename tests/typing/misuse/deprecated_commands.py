# Each line marked `# E: <code>` must be rejected by mypy with that error code.
# (checked with --enable-error-code deprecated)
from __future__ import annotations

from typing import AnyStr

from redspec._generated.client import Commands


class C(Commands[AnyStr]):
    pass


async def misuse(r: C[bytes]) -> None:
    await r.getset("k", "v")  # E: deprecated
    await r.setex("k", 10, "v")  # E: deprecated
    await r.zrangebyscore("z", 0, 1, withscores=True)  # E: deprecated
