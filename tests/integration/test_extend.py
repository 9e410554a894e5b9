"""The shipped generator, as a user gets it from a wheel: ``redspec-codegen`` in a fresh
virtualenv, against Redis 8.2.3 with the JSON, Search and Bloom modules loaded.

The wheel is built once for the module and installed (no dependencies) into a venv that
sees nothing of this checkout: its dependencies come from this environment's
site-packages through a .pth path entry (so no download), and the checkout is on no path.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.modules import start_module_server
from tests.servers import RedisServer

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Venv:
    root: Path
    python: Path
    codegen: Path  # the console script
    env: dict[str, str]

    def run(self, *args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=300,
            env=self.env,
        )  # fmt: skip


def _ok(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    # the build backend comes from pip's cache (CI installed the project the same way)
    _ok(subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)],
        capture_output=True, text=True, timeout=600,
    ))  # fmt: skip
    (built,) = dist.glob("redspec-*.whl")
    return built


def make_venv(wheel: Path, root: Path) -> Venv:
    """A venv with only the wheel installed; its dependencies are this environment's."""
    _ok(subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)],
                       capture_output=True, text=True, timeout=120))  # fmt: skip
    python = root / "bin" / "python"
    _ok(subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
         str(wheel)],
        capture_output=True, text=True, timeout=300,
    ))  # fmt: skip
    # hiredis, typing_extensions, jinja2 from this environment, behind the venv's own packages
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    Path(site, "outer-deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{root / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return Venv(root, python, root / "bin" / "redspec-codegen", env)


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Venv:
    return make_venv(wheel, tmp_path_factory.mktemp("venv") / "venv")


@pytest.fixture(scope="module")
def module_server() -> Iterator[RedisServer]:
    # Dedicated: loading modules changes what COMMAND DOCS lists.
    with start_module_server() as server:
        yield server


def test_the_wheel_installs_the_generator_under_its_own_name(venv: Venv, tmp_path: Path) -> None:
    probe = (
        "import importlib.util, redspec, redspec_codegen\n"
        "print(importlib.util.find_spec('codegen') is None)\n"
        "print(redspec.__file__.startswith(PREFIX), redspec_codegen.__file__.startswith(PREFIX))\n"
    ).replace("PREFIX", repr(str(venv.root)))
    assert _ok(venv.run(venv.python, "-c", probe, cwd=tmp_path)).split() == ["True"] * 3
    usage = _ok(venv.run(venv.codegen, "--help", cwd=tmp_path))
    assert usage.startswith("usage: redspec-codegen")
    for sub in ("dump", "merge", "generate", "check", "extend"):
        assert sub in usage


EXT_PROGRAM = """\
import asyncio
import sys

from typing_extensions import assert_type

from redspec.types import RespValue
from stack import Pipeline, Redis


async def main(url: str) -> None:
    async with Redis.from_url(url, decode_responses=True) as r:
        assert_type(r, Redis[str])
        print(await r.json_set("doc", "$", '{"a": [1, 2]}'))
        got = await r.json_get("doc", "$.a")
        assert_type(got, RespValue)
        print(got)
        print(await r.bf_add("bloom", "x"), await r.bf_exists("bloom", "y"))
        async with r.pipeline() as p:
            assert_type(p, Pipeline[str])
            p.json_arrappend("doc", "$.a", "3")
            p.json_get("doc", "$.a")
            p.incr("n")
            print(await p.execute())
        print(await r.get("missing"))


asyncio.run(main(sys.argv[1]))
"""


def test_extend_with_modules_from_the_wheel(
    venv: Venv, module_server: RedisServer, tmp_path: Path
) -> None:
    report = _ok(venv.run(
        venv.codegen, "extend", "--url", module_server.url, "--output", "stack.py", cwd=tmp_path
    ))  # fmt: skip
    text = (tmp_path / "stack.py").read_text()
    head = text.splitlines()[0]
    assert head.startswith("# DO NOT EDIT: generated by `redspec-codegen extend` from redis-8.2.3")
    assert "ReJSON" in head and "bf" in head and "search" in head
    assert "for redspec 0.1.0" in text.splitlines()[1]
    for name in ("json_set", "json_get", "bf_add", "ft_search", "cf_add"):
        assert f"    async def {name}(self, key: KeyT, *args: ValueT) -> RespValue:" in text or (
            name == "ft_search"
        ), name
    # the base's methods (and the vector-set commands it already has) are not redefined
    for name in ("get", "vadd", "set"):
        assert f"    async def {name}(" not in text
    assert "no argument description" in report and "json_set (JSON.SET)" in report
    (tmp_path / "app.py").write_text(EXT_PROGRAM)
    mypy = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental",
         "--python-executable", str(venv.python), "app.py", "stack.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert mypy.returncode == 0, mypy.stdout + mypy.stderr
    out = _ok(venv.run(venv.python, "app.py", module_server.url, cwd=tmp_path))
    assert out.splitlines() == [
        "OK",
        "[[1,2]]",
        "True False",
        "[[3], '[[1,2,3]]', 1]",
        "None",
    ], out


def test_regenerate_the_installed_package_for_the_module_server(
    wheel: Path, module_server: RedisServer, tmp_path: Path
) -> None:
    """The README's "Regenerating for your server" from pip: dump, generate --installed
    (in a venv of its own: it rewrites the installed package)."""
    venv = make_venv(wheel, tmp_path / "venv")
    _ok(venv.run(venv.codegen, "dump", "--url", module_server.url, "--output", "mine.json",
                 cwd=tmp_path))  # fmt: skip
    report = _ok(venv.run(venv.codegen, "generate", "--spec", "mine.json", "--installed",
                          cwd=tmp_path))  # fmt: skip
    assert "skipped:" in report and "ZSCAN +noscores" in report  # Valkey-only, listed
    _ok(venv.run(venv.codegen, "check", "--spec", "mine.json", "--installed", cwd=tmp_path))
    probe = (
        "import asyncio, sys, redspec\n"
        "async def main():\n"
        "    async with redspec.Redis.from_url(sys.argv[1]) as r:\n"
        "        print(await r.json_set('d', '$', '1'), await r.json_get('d'))\n"
        "        print(hasattr(r, 'commandlog_get'), hasattr(r, 'hgetex'))\n"
        "asyncio.run(main())\n"
    )
    out = _ok(venv.run(venv.python, "-c", probe, module_server.url, cwd=tmp_path))
    assert out.splitlines() == ["b'OK' b'1'", "False True"], out
