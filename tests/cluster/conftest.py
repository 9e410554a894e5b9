"""Module-scoped clusters (see harness.py), on Redis 8.2.3 and Valkey 8.1.8.

``cluster``: 3 primaries. ``replicated_cluster``: 3 primaries + 3 replicas.
Each is started once per test module and server kind, and always stopped.
Tests that change the topology (reshard, failover, migration) start their
own with ``harness.running_cluster``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.cluster.harness import Cluster, running_cluster

KINDS = ["redis8", "valkey8"]


@pytest.fixture(scope="module", params=KINDS)
def cluster(request: pytest.FixtureRequest) -> Iterator[Cluster]:
    with running_cluster(request.param, primaries=3) as c:
        yield c


@pytest.fixture(scope="module", params=KINDS)
def replicated_cluster(request: pytest.FixtureRequest) -> Iterator[Cluster]:
    with running_cluster(request.param, primaries=3, replicas_per_primary=1) as c:
        yield c
