"""``python -m codegen`` (in the repository) / ``redspec-codegen`` (installed with
``pip install "redspec[codegen]"``): dump, merge, generate, check, extend."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .dump import DumpError


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _dump_all(urls: Sequence[str]) -> list[dict[str, object]]:
    """Every server's raw dump, or DumpError naming the first server that failed."""
    from . import dump

    raws = []
    for i, url in enumerate(urls, 1):
        host, port, _, _ = dump.parse_url(url)  # never echo the URL: it may hold a password
        _say(f"[{i}/{len(urls)}] dumping {host}:{port} ...")
        raw = dump.dump_server(url, warn=_say)
        top, subs = dump.count(raw)
        _say(f"[{i}/{len(urls)}] {raw['server']['id']}: {top} commands, {subs} subcommands")
        raws.append(raw)
    return raws


def _cmd_dump(ns: argparse.Namespace) -> int:
    from . import dump, merge

    if ns.raw:
        if len(ns.url) != 1:
            _say("dump --raw takes exactly one --url")
            return 2
        out, obj = ns.raw, _dump_all(ns.url)[0]
    else:
        out, obj = ns.output, merge.merge(_dump_all(ns.url))
    # Written only now that every server answered, and atomically.
    dump.write(out, obj)
    _say(f"wrote {out}")
    return 0


def _cmd_merge(ns: argparse.Namespace) -> int:
    from . import dump, merge

    raws = []
    for p in ns.inputs:
        try:
            raws.append(dump.read(p))
        except (OSError, ValueError) as e:
            raise DumpError(f"cannot read {p}: {e}") from None
    dump.write(ns.output, merge.merge(raws))
    _say(f"merged {len(raws)} dump(s) into {ns.output}")
    return 0


def _cmd_generate(ns: argparse.Namespace) -> int:
    from .regenerate import main_generate

    return main_generate(ns.spec, ns.out, strict=ns.strict)


def _cmd_check(ns: argparse.Namespace) -> int:
    from .regenerate import main_check

    return main_check(ns.spec, ns.out, strict=ns.strict)


def _cmd_extend(ns: argparse.Namespace) -> int:
    from . import dump, extend, merge
    from .spec import parse_spec

    if ns.url:
        text = dump.to_text(merge.merge(_dump_all(ns.url)))
    else:
        try:
            with open(ns.spec, encoding="utf-8") as f:
                text = f.read()
        except OSError as e:
            raise DumpError(f"cannot read {ns.spec}: {e}") from None
    spec = parse_spec(text.encode())
    ext = extend.build_extension(spec, extend.installed(), extend.module_name(ns.output))
    if not ext.result.errors:
        dump.write_text(ns.output, ext.text)
    extend.report(ext, ns.output)
    return 1 if ext.result.errors else 0


def _installed_generated() -> str:
    """The _generated directory of the redspec that ``import redspec`` finds."""
    import redspec._generated

    return str(next(iter(redspec._generated.__path__)))


def _prog() -> str:
    return "python -m codegen" if __package__ == "codegen" else "redspec-codegen"


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog=_prog(),
        description="Dump and merge the Redis command spec; generate the command methods.",
    )
    sub = p.add_subparsers(dest="cmd", required=True)

    d = sub.add_parser(
        "dump",
        help="dump COMMAND DOCS/INFO from live servers",
        description="Dump COMMAND DOCS and COMMAND INFO from every --url and merge them. The "
        "output is written (atomically) only when every server answered.",
    )
    d.add_argument(
        "--url",
        action="append",
        required=True,
        help="redis://[[user]:password@]HOST:PORT (repeatable)",
    )
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
        g.add_argument(
            "--strict",
            action="store_true",
            help="the project's own check: the spec must be the pinned servers', and a "
            "reply-table or overlay entry naming nothing is an error (default: skipped, listed)",
        )
        g.add_argument(
            "--installed",
            action="store_true",
            help="write to (check) the installed redspec package's _generated/ instead of --out",
        )
        g.set_defaults(func=func)

    e = sub.add_parser(
        "extend",
        help="write a module with typed methods for the commands your server has beyond redspec",
        description="Dump the servers (or read --spec) and write one self-contained module "
        "defining Redis (a redspec.Redis subclass) and its Pipeline, with a typed method for "
        "every command they have that the installed redspec lacks (newer server versions, "
        "module commands).",
    )
    src = e.add_mutually_exclusive_group(required=True)
    src.add_argument("--url", action="append", help="redis://[[user]:password@]HOST:PORT")
    src.add_argument("--spec", help="a spec written by dump, instead of --url")
    e.add_argument("--output", required=True, metavar="PATH/module.py")
    e.set_defaults(func=_cmd_extend)

    ns = p.parse_args(argv)
    if getattr(ns, "installed", False):
        ns.out = _installed_generated()
    try:
        return int(ns.func(ns))
    except (DumpError, OSError) as e:
        _say(f"error: {e}")
        if ns.cmd in ("dump", "merge", "extend"):
            _say(f"nothing written; {getattr(ns, 'raw', None) or ns.output} is unchanged")
        return 1


if __name__ == "__main__":
    sys.exit(main())
