"""The fault suite runs every test under the default event loop and under uvloop."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import LOOP_POLICIES, loop_policy


@pytest.fixture(params=LOOP_POLICIES)
def event_loop_policy(request: pytest.FixtureRequest) -> asyncio.AbstractEventLoopPolicy:
    return loop_policy(request.param)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/faults/" in str(item.fspath):
            item.add_marker(
                pytest.mark.filterwarnings(
                    'ignore:Overriding the "event_loop_policy":DeprecationWarning'
                )
            )
