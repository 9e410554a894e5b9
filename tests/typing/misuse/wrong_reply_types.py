# Each line marked `# E: <code>` must be rejected by mypy with that error code.
from __future__ import annotations

from typing import AnyStr

from redspec._generated.client import Commands
from redspec._generated.pipeline import PipelineCommands


class C(Commands[AnyStr]):
    pass


class P(PipelineCommands[AnyStr]):
    pass


async def misuse(rb: C[bytes], rs: C[str], p: P[bytes]) -> None:
    a: str | None = await rb.get("k")  # E: assignment
    b: bytes = await rb.get("k")  # E: assignment
    c: list[bytes] = await rb.zrange("z", 0, 1, withscores=True)  # E: assignment
    d: list[tuple[str, float]] = await rs.zrange("z", 0, 1)  # E: assignment
    e: bool = await rb.set("k", "v", get=True)  # E: assignment
    f: bytes = p.get("k").result()  # E: assignment
    print(a, b, c, d, e, f)
