"""``dump`` writes its output only when every server answered, and atomically: a failure
leaves the existing file byte-identical, exits non-zero with a message naming the server,
and leaves no temp file behind. A password in the URL never appears in the output."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.servers import RedisServer, free_port

ROOT = Path(__file__).resolve().parents[2]
BEFORE = b'{"servers": [], "commands": {}}\n'


def _dump(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "codegen", "dump", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


@pytest.fixture
def out(tmp_path: Path) -> Path:
    path = tmp_path / "commands.json"
    path.write_bytes(BEFORE)
    return path


def _unchanged(out: Path) -> None:
    assert out.read_bytes() == BEFORE
    assert sorted(p.name for p in out.parent.iterdir()) == ["commands.json"]  # no temp left


def test_unreachable_second_server_writes_nothing(redis8: RedisServer, out: Path) -> None:
    port = free_port()  # nothing listens there
    proc = _dump(
        "--url", redis8.url, "--url", f"redis://127.0.0.1:{port}", "--output", str(out),
        cwd=out.parent,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    # the first server was dumped (progress on stderr), the second named in the error
    assert "[1/2] redis-8.2.3:" in proc.stderr
    assert f"error: 127.0.0.1:{port}:" in proc.stderr
    assert "nothing written" in proc.stderr
    _unchanged(out)


def test_refused_command_docs_writes_nothing_and_hides_the_password(
    redis8: RedisServer, out: Path
) -> None:
    """A user allowed HELLO and INFO but not COMMAND: the dump fails half-way."""
    user, password = f"dumper-{uuid.uuid4().hex[:8]}", "s3cret-pw-" + uuid.uuid4().hex[:6]
    acl = ["ACL", "SETUSER", user, "on", f">{password}", "+hello", "+info", "-command"]
    subprocess.run(
        ["redis-cli", "-p", str(redis8.port), *acl], check=True, capture_output=True, timeout=30
    )
    try:
        url = f"redis://{user}:{password}@127.0.0.1:{redis8.port}"
        proc = _dump("--url", url, "--output", str(out), cwd=out.parent)
        assert proc.returncode == 1, proc.stderr
        assert "COMMAND DOCS" in proc.stderr and "NOPERM" in proc.stderr, proc.stderr
        assert password not in proc.stderr + proc.stdout
        _unchanged(out)
        # the raw form fails the same way
        raw = out.parent / "raw.json"
        proc = _dump("--url", url, "--raw", str(raw), cwd=out.parent)
        assert proc.returncode == 1 and not raw.exists()
    finally:
        subprocess.run(
            ["redis-cli", "-p", str(redis8.port), "ACL", "DELUSER", user],
            check=True,
            capture_output=True,
            timeout=30,
        )


def test_success_replaces_the_file_keeping_its_mode(redis8: RedisServer, out: Path) -> None:
    out.chmod(0o640)
    proc = _dump("--url", redis8.url, "--output", str(out), cwd=out.parent)
    assert proc.returncode == 0, proc.stderr
    assert '"redis-8.2.3"' in out.read_text()
    assert out.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in out.parent.iterdir()) == ["commands.json"]
    assert f"wrote {out}" in proc.stderr
