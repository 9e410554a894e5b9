"""Fixtures of the Sentinel tests: one deployment per build and test module.

``deployment`` (module scope) starts a master, two replicas and three
sentinels of one build and stops them after the module; ``healthy``
(per test) first brings it back to a healthy state, whatever the previous
test did (a failover, a kill), by waiting on state.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest

import redspec
from tests.sentinel.harness import BUILDS, Deployment


@pytest.fixture(scope="module", params=sorted(BUILDS))
def deployment(request: pytest.FixtureRequest) -> Iterator[Deployment]:
    with Deployment(BUILDS[request.param]) as d:
        yield d


@pytest.fixture
def healthy(deployment: Deployment) -> Deployment:
    deployment.heal()
    return deployment


T = TypeVar("T")


def sentinel_for(d: Deployment, **settings: Any) -> redspec.Sentinel:
    return redspec.Sentinel([(s.host, s.port) for s in d.sentinels], **settings)


async def eventually(
    probe: Callable[[], Awaitable[T]], timeout: float = 30.0, interval: float = 0.05
) -> T:
    """Await ``probe()`` until it returns something truthy (errors count as not yet)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last: object = None
    while True:
        try:
            value = await probe()
            if value:
                return value
            last = value
        except (redspec.ConnectionError, redspec.TimeoutError, redspec.ResponseError) as exc:
            last = exc
        if loop.time() > deadline:
            raise AssertionError(f"still not true after {timeout}s (last: {last!r})")
        await asyncio.sleep(interval)


class SwitchTimer:
    """Times a switch: polls SENTINEL GET-MASTER-ADDR-BY-NAME on every sentinel every 50 ms.

    ``at`` is the loop time of the first poll at which any sentinel named a
    master other than ``old_port`` (None until then).
    """

    def __init__(self, d: Deployment, old_port: int, service: str) -> None:
        self._clients = [
            redspec.Redis(s.host, s.port, command_timeout=1.0) for s in d.sentinels if s.running
        ]
        self._old = old_port
        self._service = service
        self.at: float | None = None
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> SwitchTimer:
        self._task = asyncio.ensure_future(self._poll())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        for c in self._clients:
            await c.aclose()

    async def wait(self, timeout: float = 60.0) -> float:
        assert self._task is not None
        await asyncio.wait_for(asyncio.shield(self._task), timeout)
        assert self.at is not None
        return self.at

    async def _poll(self) -> None:
        loop = asyncio.get_running_loop()
        while self.at is None:
            sent = loop.time()
            replies = await asyncio.gather(
                *(
                    c.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", self._service)
                    for c in self._clients
                ),
                return_exceptions=True,
            )
            if any(isinstance(r, list) and int(r[1]) != self._old for r in replies):
                self.at = sent
                return
            await asyncio.sleep(max(0.0, 0.05 - (loop.time() - sent)))
