"""examples/demo.py runs on its own embedded Redis 8.2.3 and leaves no server behind."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from tests.servers import RedisServer

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo.py"
STARTED = re.compile(r"started embedded Redis (\S+) \(pid (\d+)\) on redis://127\.0\.0\.1:(\d+)/0")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("REDIS_URL", None)
    return env


def _is_redis_server(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False  # no such process
    return b"redis-server" in cmdline


def test_demo_runs_and_stops_its_server() -> None:
    proc = subprocess.run(
        [sys.executable, str(DEMO)], env=_env(), capture_output=True, text=True, timeout=90
    )
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    started = STARTED.search(out)
    assert started, out
    assert started.group(1) == "8.2.3"
    pid = int(started.group(2))

    assert "set + get            -> b'hello'" in out
    assert re.search(r"1000 concurrent INCRs -> final value 1000 in [\d.]+ ms", out), out
    assert re.search(
        r"1000 SETs awaited one by one [\d.]+ ms, pipelined [\d.]+ ms -> [\d.]+x faster", out
    ), out
    assert re.search(r"xadd x2 \+ xread      -> 2 entries, first id b'\d+-\d+'", out), out
    assert "got b'redspec says hi' on b'demo:news'" in out
    assert f"stopped embedded Redis (pid {pid})" in out
    assert not _is_redis_server(pid)


def test_demo_stops_its_server_when_terminated() -> None:
    proc = subprocess.Popen(
        [sys.executable, str(DEMO)], env=_env(), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        started = STARTED.search(first)
        assert started, first + (proc.stderr.read() if proc.stderr else "")
        proc.send_signal(signal.SIGTERM)  # mid-tour, or just after it: the server must go
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode in (0, 130), out + err
    assert not _is_redis_server(int(started.group(2)))


def test_first_program_of_the_pypi_page_runs(redis8: RedisServer) -> None:
    """The program a pip user copies first (docs/PYPI.md, the wheel's description) works."""
    page = (Path(__file__).resolve().parents[2] / "docs" / "PYPI.md").read_text()
    program = re.search(r"```python\n(.*?)```", page, re.S)
    assert program is not None
    source = program.group(1)
    url = "redis://localhost:6379/0"
    assert source.count(url) == 2
    source = source.replace(url, redis8.url + "/0")
    proc = subprocess.run(
        [sys.executable, "-c", source], env=_env(), capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "b'hello'"
    assert int(lines[1]) >= 1
    assert lines[2] == "hello"
