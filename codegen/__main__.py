"""``python -m codegen {dump,merge,generate,check}``."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from codegen.dump import DumpError


def _cmd_dump(ns: argparse.Namespace) -> int:
    from codegen import dump, merge

    if ns.raw:
        if len(ns.url) != 1:
            print("dump --raw takes exactly one --url", file=sys.stderr)
            return 2
        dump.write(ns.raw, dump.dump_server(ns.url[0]))
        return 0
    raws = [dump.dump_server(u) for u in ns.url]
    dump.write(ns.output, merge.merge(raws))
    return 0


def _cmd_merge(ns: argparse.Namespace) -> int:
    from codegen import dump, merge

    dump.write(ns.output, merge.merge([dump.read(p) for p in ns.inputs]))
    return 0


def _generator(name: str) -> Callable[[str, str], int]:
    # Imported lazily (and dynamically, so that this module type-checks on its own):
    # `from codegen.generate import main_generate, main_check`.
    try:
        module = importlib.import_module("codegen.generate")
    except ModuleNotFoundError as e:
        if e.name != "codegen.generate":
            raise
        raise DumpError("codegen/generate.py is missing") from None
    func: Callable[[str, str], int] = getattr(module, name)
    return func


def _cmd_generate(ns: argparse.Namespace) -> int:
    return int(_generator("main_generate")(ns.spec, ns.out))


def _cmd_check(ns: argparse.Namespace) -> int:
    return int(_generator("main_check")(ns.spec, ns.out))


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m codegen",
        description="Dump and merge the Redis command spec; generate the command methods.",
    )
    sub = p.add_subparsers(dest="cmd", required=True)

    d = sub.add_parser("dump", help="dump COMMAND DOCS/INFO from live servers")
    d.add_argument("--url", action="append", required=True, help="redis://HOST:PORT (repeatable)")
    out = d.add_mutually_exclusive_group()
    out.add_argument(
        "--output", default="commands.json", help="merged spec (default commands.json)"
    )
    out.add_argument("--raw", metavar="OUT.json", help="write one server's unmerged dump instead")
    d.set_defaults(func=_cmd_dump)

    m = sub.add_parser("merge", help="merge raw dumps (from dump --raw) into one spec")
    m.add_argument("inputs", nargs="+", metavar="RAW.json")
    m.add_argument("--output", default="commands.json")
    m.set_defaults(func=_cmd_merge)

    for name, func, helptext in (
        ("generate", _cmd_generate, "generate the command methods from the spec"),
        ("check", _cmd_check, "check that the generated code matches the spec"),
    ):
        g = sub.add_parser(name, help=helptext)
        g.add_argument("--spec", default="commands.json")
        g.add_argument("--out", default="src/redspec/_generated")
        g.set_defaults(func=func)

    ns = p.parse_args(argv)
    try:
        return int(ns.func(ns))
    except DumpError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
