"""``generate`` and ``check``: build from a spec file, report what was skipped, write or diff.

Lenient by default: reply-table lines, overlay entries and ``+flag`` variants that name a
command, argument or parameter the spec's servers lack are skipped and listed (a user's spec
from one server, or from another server). ``--strict`` is the project's own check (CI): the
spec must be the pinned servers' and every entry must match something.
"""

from __future__ import annotations

import difflib
import re
import sys
from collections.abc import Mapping
from pathlib import Path

from .generate import PINNED_SERVERS, GenerateError, Result, build
from .known import KNOWN_PATH, check_known
from .replies import ReplyError
from .spec import SpecError, load_spec


def _say(msg: str) -> None:
    print(msg, file=sys.stderr)


def report(res: Result) -> None:
    """What the user should know about a build, on stderr."""
    if res.missing_replies:
        _say(
            f"{len(res.missing_replies)} command(s) have no reply entry; their methods return "
            "RespValue (any RESP value): " + ", ".join(res.missing_replies)
        )
    if res.undescribed:
        _say(
            f"{len(res.undescribed)} command(s) come with no argument description; their "
            "methods take the keys, then *args: " + ", ".join(res.undescribed)
        )
    if res.new_arguments:
        _say(
            f"{len(res.new_arguments)} command(s) have parameters the reply table predates; "
            "given, they make the method return RespValue:"
        )
        for n in res.new_arguments:
            _say(f"  new: {n}")
    for a in res.arity:
        _say(f"arity mismatch: {a}")
    if res.routing:
        _say(
            f"{len(res.routing)} command(s) whose cluster routing the spec does not wholly "
            "define (redspec.cluster.routing documents what it does with them):\n  "
            + "\n  ".join(res.routing)
        )
    if res.unused:
        _say(
            f"{len(res.unused)} reply-table/overlay entries name what this spec's servers "
            "do not have (skipped):"
        )
        for u in res.unused:
            _say(f"  skipped: {u}")
    for e in res.errors:
        _say(f"error: {e}")


def build_file(spec_path: str, strict: bool = False) -> Result:
    """Build from a commands.json file; problems with the inputs become ``Result.errors``."""
    res = Result()
    try:
        spec = load_spec(spec_path)
    except (OSError, ValueError, SpecError) as e:
        res.errors.append(f"cannot read the spec {spec_path}: {e}")
        return res
    servers = {s.id for s in spec.servers}
    if strict and servers != PINNED_SERVERS:
        res.errors.append(
            f"--strict needs a spec of exactly the pinned servers {sorted(PINNED_SERVERS)}; "
            f"{spec_path} has {sorted(servers)}"
        )
        return res
    _say(
        f"generating from {spec_path}: {sum(1 for _ in spec.all_commands())} commands of "
        + ", ".join(s.id for s in spec.servers)
    )
    try:
        return build(spec, strict=strict)
    except (ReplyError, GenerateError) as e:
        res.errors.append(str(e))
        return res


def _methods(files: Mapping[str, str]) -> set[str]:
    return {
        m
        for rel, text in files.items()
        if rel.startswith("client/")
        for m in re.findall(r"\n    async def (\w+)\(", text)
    }


def main_generate(
    spec_path: str = "commands.json",
    out_dir: str = "src/redspec/_generated",
    strict: bool = False,
) -> int:
    res = build_file(spec_path, strict)
    report(res)
    if res.errors:
        _say("generate failed; nothing written")
        return 1
    write(res.files, Path(out_dir))
    if strict:  # the pinned servers: what the reply table was written against
        KNOWN_PATH.write_text(res.known_arguments)
    print(f"wrote {len(res.files)} files to {out_dir} ({len(_methods(res.files))} command methods)")
    return 0


def write(files: Mapping[str, str], out: Path) -> None:
    """Make ``out`` hold exactly ``files`` (stale generated modules are removed)."""
    out.mkdir(parents=True, exist_ok=True)
    for old in sorted(out.rglob("*.py")):
        rel = old.relative_to(out).as_posix()
        if rel not in files:
            old.unlink()
    for rel, text in sorted(files.items()):
        p = out / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if not p.exists() or p.read_text() != text:
            p.write_text(text)


def main_check(
    spec_path: str = "commands.json",
    out_dir: str = "src/redspec/_generated",
    strict: bool = False,
) -> int:
    res = build_file(spec_path, strict)
    if res.errors:
        report(res)
        return 1
    out = Path(out_dir)
    diffs: list[str] = []
    on_disk = {p.relative_to(out).as_posix(): p.read_text() for p in sorted(out.rglob("*.py"))}
    for rel in sorted(set(on_disk) | set(res.files)):
        a, b = on_disk.get(rel, ""), res.files.get(rel, "")
        if a != b:
            diffs.extend(
                difflib.unified_diff(a.splitlines(True), b.splitlines(True), f"a/{rel}", f"b/{rel}")
            )
    stale = check_known(res.known_arguments) if strict else None
    if stale:
        _say(stale)
        return 1
    if diffs:
        sys.stdout.writelines(diffs)
        _say(f"\n{out_dir} is out of date: run the generator's `generate`")
        return 1
    return 0
