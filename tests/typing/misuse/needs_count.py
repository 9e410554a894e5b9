# Each line marked `# E: <code>` must be rejected by mypy with that error code.
from __future__ import annotations

from typing import AnyStr

from redspec._generated.client import Commands


class C(Commands[AnyStr]):
    pass


async def misuse(r: C[bytes], flag: bool) -> None:
    # WITHSCORES / WITHVALUES only exist after a count: no overload takes them alone
    await r.zrandmember("z", withscores=True)  # E: call-overload
    await r.hrandfield("h", withvalues=True)  # E: call-overload
    await r.zrandmember("z", withscores=flag)  # E: call-overload
