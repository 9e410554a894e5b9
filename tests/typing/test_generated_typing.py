"""Run mypy --strict on the typing check files: generated_types.py must pass; every misuse file
must fail exactly on its lines marked ``# E: <code>``, with that code."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
MISUSE = sorted((HERE / "misuse").glob("*.py"))
_ERR = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): error: .*\[(?P<code>[a-z-]+)\]$")


@pytest.fixture(scope="module")
def mypy_errors() -> set[tuple[str, int, str]]:
    files = [str(HERE / "generated_types.py"), *map(str, MISUSE)]
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--enable-error-code",
            "deprecated",
            "--no-error-summary",
            "--show-error-codes",
            "--no-pretty",
            *files,
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=900,
    )
    found = set()
    for line in proc.stdout.splitlines():
        m = _ERR.match(line)
        if m:
            found.add((Path(m["file"]).name, int(m["line"]), m["code"]))
    return found


def _expected(path: Path) -> set[tuple[str, int, str]]:
    out = set()
    for i, line in enumerate(path.read_text().splitlines(), 1):
        m = re.search(r"# E: ([a-z-]+)\s*$", line)
        if m:
            out.add((path.name, i, m.group(1)))
    return out


@pytest.mark.timeout(900)
def test_generated_types_check(mypy_errors: set[tuple[str, int, str]]) -> None:
    assert {e for e in mypy_errors if e[0] == "generated_types.py"} == set()


@pytest.mark.timeout(900)
@pytest.mark.parametrize("path", MISUSE, ids=[p.stem for p in MISUSE])
def test_misuse_is_rejected(path: Path, mypy_errors: set[tuple[str, int, str]]) -> None:
    want = _expected(path)
    assert want, f"{path.name} marks no line"
    got = {e for e in mypy_errors if e[0] == path.name}
    assert got == want
