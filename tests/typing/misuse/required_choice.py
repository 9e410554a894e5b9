# Each line marked `# E: <code>` must be rejected by mypy with that error code.
# A required oneof flattened into keywords needs exactly one of them; durations
# take int or timedelta (RESTORE's ttl also a datetime), not strings.
from __future__ import annotations

from datetime import date
from typing import AnyStr

from redspec._generated.client import Commands


class C(Commands[AnyStr]):
    pass


async def misuse(r: C[bytes]) -> None:
    await r.vsim("v")  # E: call-overload
    await r.vsim("v", ele="a", values=[1.0])  # E: call-overload
    await r.vsim("v", withscores=True, withattribs=True)  # E: call-overload
    await r.vadd("v", "e")  # E: call-overload
    await r.vadd("v", "e", fp32=b"\x00\x00\x80\x3f", values=[1.0])  # E: call-overload
    await r.geosearch("g", byradius=(1, "KM"))  # E: call-overload
    await r.restore("k", "10", b"payload")  # E: arg-type
    await r.restore("k", date(2030, 1, 1), b"payload")  # E: arg-type
    await r.wait(1, "100")  # E: arg-type
    await r.client_setinfo()  # E: call-overload
