"""Another version of redspec side by side with this one: ``run.py --baseline REF``.

The package at git ``REF`` (a commit, a tag, ``main``) is extracted into a
temporary directory as ``redspec_baseline`` (its absolute ``redspec``
imports renamed), and measured as client ``redspec@REF`` in the same run, on
the same server, as the working tree's redspec: a before/after comparison
without the noise of two separate runs.
"""

from __future__ import annotations

import atexit
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from clients import CLIENTS, RedspecClient

__all__ = ["add_baseline"]

REPO = Path(__file__).resolve().parent.parent
_IMPORT = re.compile(r"(?m)^(\s*)(from|import) redspec(?=[\s.])")


def add_baseline(ref: str) -> str:
    """Register client ``redspec@REF``; returns its name."""
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", ref, "src/redspec"],
        capture_output=True, check=True,
    ).stdout
    tmp = tempfile.mkdtemp(prefix="redspec-baseline-")
    atexit.register(shutil.rmtree, tmp, True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(tmp, filter="data")
    package = Path(tmp, "redspec_baseline")
    Path(tmp, "src", "redspec").rename(package)
    for path in package.rglob("*.py"):
        text = path.read_text()
        renamed = _IMPORT.sub(r"\1\2 redspec_baseline", text)
        if renamed != text:
            path.write_text(renamed)
    sys.path.insert(0, tmp)
    # Fresh interpreters (import-time samples) find it too.
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (tmp, os.environ.get("PYTHONPATH")) if p
    )

    class Baseline(RedspecClient):
        name = f"redspec@{ref}"
        module = "redspec_baseline"

        def describe(self) -> str:
            return f"redspec at git {ref}; " + super().describe()

    CLIENTS[Baseline.name] = Baseline
    return Baseline.name
