"""Regeneration as a user does it, from the one server they run: a spec dumped from Redis
7.0.15, Redis 8.2.3 or Valkey 8.1.8 alone generates a client that imports, passes
mypy --strict, has that server's commands and not the others', and works against it.

Each server kind runs in its own temporary copy of the project (codegen/ and src/), as a
user's checkout would. One module-scoped regeneration per kind; the tests read it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.servers import RedisServer, start_server

ROOT = Path(__file__).resolve().parents[2]

# kind -> (methods the regenerated client must have, methods it must not have)
EXPECTED = {
    "redis7": (
        ["get", "hset", "command_getkeys", "zrank"],
        ["hgetex", "hexpire", "commandlog_get", "vadd", "waitaof", "xackdel"],
    ),
    "redis8": (["get", "hgetex", "hexpire", "vadd", "waitaof", "xackdel"], ["commandlog_get"]),
    "valkey8": (["get", "commandlog_get"], ["hgetex", "hexpire", "vadd", "xackdel"]),
}
# reply-table/overlay entries the generator must list as skipped for that server
SKIPPED = {
    "redis7": ["HGETEX", "ZRANK +withscore", "VSIM"],
    "redis8": ["ZSCAN +noscores", "COMMANDLOG GET"],
    "valkey8": ["HGETEX", "VSIM"],
}

# A user's program against the regenerated client; {calls} differs per server.
PROGRAM = """\
import asyncio
import redspec

async def main(url: str) -> None:
    async with redspec.Redis.from_url(url) as r:
        await r.flushall()
        print(await r.hset("h", mapping={{"a": 1, "b": 2}}))
{calls}

asyncio.run(main({url!r}))
"""
CALLS = {
    # COMMAND GETKEYS has no argument tree on 7.0: keys come back all the same
    "redis7": [
        'keys: list[bytes] = await r.command_getkeys("SET", "k", "v")',
        "print(keys)",
    ],
    "redis8": [
        'vals: list[bytes | None] = await r.hgetex("h", "a", px=60000)',
        "print(vals, await r.pttl('h') == -1)",
    ],
    "valkey8": [
        'log: list[tuple[int, int, int, list[bytes], bytes, bytes]] = '
        'await r.commandlog_get(5, "slow")',
        "print(type(log).__name__)",
    ],
}
OUTPUT = {
    "redis7": ["2", "[b'k']"],
    "redis8": ["2", "[b'1'] True"],
    "valkey8": ["2", "list"],
}


@dataclass
class Regenerated:
    kind: str
    work: Path
    server: RedisServer
    report: str


def _python(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, **env},
    )


def _ok(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout + proc.stderr


@pytest.fixture(scope="module", params=sorted(EXPECTED))
def regenerated(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Regenerated]:
    kind = str(request.param)
    work = tmp_path_factory.mktemp(f"regen-{kind}")
    skip = shutil.ignore_patterns("__pycache__", "*.egg-info")
    shutil.copytree(ROOT / "codegen", work / "codegen", ignore=skip)
    shutil.copytree(ROOT / "src", work / "src", ignore=skip)
    shutil.copy(ROOT / "pyproject.toml", work / "pyproject.toml")
    shutil.copy(ROOT / "commands.json", work / "commands.json")
    with start_server(kind) as server:
        dump = _ok(_python(["-m", "codegen", "dump", "--url", server.url], work))
        assert f"[1/1] {server.host}:{server.port}" in dump or "[1/1] dumping" in dump
        report = _ok(_python(["-m", "codegen", "generate"], work))
        yield Regenerated(kind, work, server, report)


def test_generate_lists_what_it_skipped(regenerated: Regenerated) -> None:
    assert "error" not in regenerated.report.lower(), regenerated.report
    for entry in SKIPPED[regenerated.kind]:
        assert any(
            entry in line for line in regenerated.report.splitlines() if "skipped:" in line
        ), (entry, regenerated.report)
    # the spec is this server's alone, and the committed tree is in step with it
    spec = (regenerated.work / "commands.json").read_text()
    assert spec.count('"vendor"') == 1
    _ok(_python(["-m", "codegen", "check"], regenerated.work))


def test_methods_match_the_server(regenerated: Regenerated) -> None:
    present, absent = EXPECTED[regenerated.kind]
    probe = (
        "import redspec, redspec.pipeline as p\n"
        f"for n in {present + absent!r}:\n"
        "    print(n, hasattr(redspec.Redis, n), hasattr(p.Pipeline, n))\n"
    )
    out = _ok(_python(["-c", probe], regenerated.work, PYTHONPATH=str(regenerated.work / "src")))
    seen = {line.split()[0]: line.split()[1:] for line in out.splitlines()}
    for name in present:
        assert seen[name] == ["True", "True"], (name, out)
    for name in absent:
        assert seen[name] == ["False", "False"], (name, out)


def test_user_program_type_checks_and_runs(regenerated: Regenerated) -> None:
    calls = "\n".join(f"        {c}" for c in CALLS[regenerated.kind])
    program = regenerated.work / "app.py"
    program.write_text(PROGRAM.format(calls=calls, url=regenerated.server.url))
    # mypy --strict over the whole regenerated package and the program using it
    mypy = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "src/redspec", "app.py"],
        cwd=regenerated.work,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "MYPYPATH": str(regenerated.work / "src")},
    )
    assert mypy.returncode == 0, mypy.stdout + mypy.stderr
    out = _ok(_python(["app.py"], regenerated.work, PYTHONPATH=str(regenerated.work / "src")))
    assert out.splitlines() == OUTPUT[regenerated.kind], out
