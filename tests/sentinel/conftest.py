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
