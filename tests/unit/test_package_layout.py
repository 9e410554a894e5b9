"""pyproject.toml lists every package explicitly (codegen/ ships as redspec_codegen through
a package-dir mapping, which rules out automatic discovery): a package added under src/
must be listed too, or the wheel would silently lack it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _listed() -> set[str]:
    text = (ROOT / "pyproject.toml").read_text()
    m = re.search(r"^packages = \[(.*?)\]", text, re.S | re.M)
    assert m, "pyproject.toml has no [tool.setuptools] packages list"
    return set(re.findall(r'"([\w.]+)"', m.group(1)))


def test_every_package_is_listed() -> None:
    found = {
        ".".join(p.parent.relative_to(ROOT / "src").parts)
        for p in (ROOT / "src").rglob("__init__.py")
    }
    assert (ROOT / "codegen" / "__init__.py").exists()
    assert _listed() == found | {"redspec_codegen"}, "update [tool.setuptools] packages"


def test_codegen_data_is_package_data() -> None:
    text = (ROOT / "pyproject.toml").read_text()
    m = re.search(r"^redspec_codegen = \[(.*?)\]", text, re.M | re.S)
    assert m
    patterns = re.findall(r'"([^"]+)"', m.group(1))
    data = {p.relative_to(ROOT / "codegen").as_posix() for p in (ROOT / "codegen").rglob("*")
            if p.is_file() and p.suffix != ".py" and "__pycache__" not in p.parts}
    covered = {d for d in data if any(Path(d).match(pat) for pat in patterns)}
    assert covered == data, sorted(data - covered)
