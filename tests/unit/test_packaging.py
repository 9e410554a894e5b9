"""What a pip user gets: the wheel carries the MIT license and a description that
starts with what they run (pip install, a first program); the repository's README
keeps starting with the make commands (tests/integration/test_demo.py).

Building the wheel takes a few seconds (pip's isolated build of this checkout).
"""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# METADATA headers (each a list: some repeat), its body, the file names in the wheel
Wheel = tuple[dict[str, list[str]], str, set[str]]


@pytest.fixture(scope="module")
def metadata(tmp_path_factory: pytest.TempPathFactory) -> Wheel:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = out.glob("redspec-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        (meta_name,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        msg = Parser().parsestr(zf.read(meta_name).decode())
    headers: dict[str, list[str]] = {}
    for key, value in msg.items():
        headers.setdefault(key, []).append(value)
    return headers, str(msg.get_payload()), names


def test_license_file_is_mit_and_shipped(metadata: Wheel) -> None:
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License")
    assert "Copyright (c) 2026 the redspec authors" in text
    headers, _, names = metadata
    assert headers["License-Expression"] == ["MIT"]
    assert headers["License-File"] == ["LICENSE"]
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names), sorted(names)


def test_wheel_description_starts_with_what_a_pip_user_runs(metadata: Wheel) -> None:
    headers, body, _ = metadata
    assert headers["Description-Content-Type"] == ["text/markdown"]
    blocks = re.findall(r"```(\w*)\n(.*?)```", body, re.S)
    # The first command is the install, the first program comes right after it ...
    assert blocks[0][0] == "sh" and blocks[0][1].strip() == "pip install redspec"
    first_program = next(code for lang, code in blocks if lang == "python")
    assert "redspec.Redis" in first_program and "asyncio.run(main())" in first_program
    # ... and the repository's make commands only below them.
    assert "make test" in body
    assert body.index(first_program) < body.index("make test")


def test_repository_readme_still_starts_with_make_demo_and_make_test() -> None:
    readme = (ROOT / "README.md").read_text()
    first = re.search(r"```sh\n(.*?)```", readme, re.S)
    assert first is not None
    commands = [ln.split("#")[0].strip() for ln in first.group(1).splitlines()]
    assert commands == ["make demo", "make test"]
    # then what a pip user needs
    assert readme.index("pip install redspec") < readme.index("## What redspec is")
