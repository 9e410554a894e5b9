# Each line marked `# E: <code>` must be rejected by mypy with that error code.
from __future__ import annotations

from typing import AnyStr

from redspec._generated.client import Commands


class C(Commands[AnyStr]):
    pass


async def misuse(r: C[bytes]) -> None:
    await r.set("k", "v", nx="yes")  # E: call-overload
    await r.set("k", "v", ex="10")  # E: call-overload
    await r.get("k", ex=1)  # E: call-arg
