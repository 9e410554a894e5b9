"""Run the type checkers IDEs use on the typing check files: generated_types.py must pass
mypy --strict and pyright (standard mode); every misuse file must fail under both, exactly on
its lines marked ``# E: <code>`` (mypy: with that code; pyright names its rules differently,
so only the lines are compared)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
MISUSE = sorted((HERE / "misuse").glob("*.py"))
CHECKED = [HERE / "generated_types.py", *MISUSE]
_ERR = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): error: .*\[(?P<code>[a-z-]+)\]$")


@pytest.fixture(scope="module")
def mypy_errors() -> set[tuple[str, int, str]]:
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
            *map(str, CHECKED),
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


@pytest.fixture(scope="module")
def pyright_errors(tmp_path_factory: pytest.TempPathFactory) -> set[tuple[str, int]]:
    # The project's [tool.pyright] excludes the misuse files (CI checks must pass):
    # here a config of their own, standard mode as IDEs run it, deprecations as errors.
    # src/ explicitly: the editable install is an import hook (codegen/ is mapped to
    # redspec_codegen), which pyright cannot follow.
    config = tmp_path_factory.mktemp("pyright") / "pyrightconfig.json"
    config.write_text(
        json.dumps(
            {
                "pythonVersion": "3.10",
                "typeCheckingMode": "standard",
                "reportDeprecated": "error",
                "extraPaths": [str(ROOT / "src")],
            }
        )
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pyright",
            "--outputjson",
            "--project",
            str(config),
            "--pythonpath",
            sys.executable,
            *map(str, CHECKED),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=900,
    )
    report = json.loads(proc.stdout)
    assert report["summary"]["filesAnalyzed"] == len(CHECKED), proc.stderr
    return {
        (Path(d["file"]).name, d["range"]["start"]["line"] + 1)
        for d in report["generalDiagnostics"]
        if d["severity"] == "error"
    }


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
def test_generated_types_check_pyright(pyright_errors: set[tuple[str, int]]) -> None:
    assert {e for e in pyright_errors if e[0] == "generated_types.py"} == set()


@pytest.mark.timeout(900)
@pytest.mark.parametrize("path", MISUSE, ids=[p.stem for p in MISUSE])
def test_misuse_is_rejected(path: Path, mypy_errors: set[tuple[str, int, str]]) -> None:
    want = _expected(path)
    assert want, f"{path.name} marks no line"
    got = {e for e in mypy_errors if e[0] == path.name}
    assert got == want


@pytest.mark.timeout(900)
@pytest.mark.parametrize("path", MISUSE, ids=[p.stem for p in MISUSE])
def test_misuse_is_rejected_pyright(path: Path, pyright_errors: set[tuple[str, int]]) -> None:
    want = {(name, line) for name, line, _ in _expected(path)}
    got = {e for e in pyright_errors if e[0] == path.name}
    assert got == want
