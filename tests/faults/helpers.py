"""Small helpers shared by the fault tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


async def until(condition: Callable[[], bool], timeout: float = 10.0, what: str = "") -> None:
    """Poll ``condition`` until it holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout}s: {what or condition}")
        await asyncio.sleep(0.01)


def report(line: str) -> None:
    """A figure the suite measured; shown with pytest -s (and in the fault-suite log)."""
    print(f"\n[fault figure] {line}", flush=True)
