"""Docstrings of generated methods: summary, complexity, availability, arguments, reply, link.

The words for each parameter and reply come from ``describe.py``; this module lays them
out (Google style, so IDEs and mkdocstrings render the Args and Returns sections).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .describe import command_link, param_words, reply_words
from .replies import Entry
from .signatures import Plan
from .spec import Command, Spec


def _label(server_id: str) -> str:
    vendor, _, version = server_id.partition("-")
    return f"{vendor.capitalize()} {version}"


def availability(ids: Iterable[str], spec: Spec, only: bool = False) -> str:
    wanted = set(ids)
    ids = [s.id for s in spec.servers if s.id in wanted]
    vendors = {spec.server(i).vendor for i in ids}
    listed = ", ".join(_label(i) for i in ids)
    all_of_vendor = all(s.id in wanted for s in spec.servers if s.vendor in vendors)
    if len(vendors) == 1 and len({s.vendor for s in spec.servers}) > 1 and all_of_vendor:
        return f"{vendors.pop().capitalize()} only"
    return f"only {listed}" if only else listed


def _clean_md(text: str) -> str:
    return re.sub(r"[`!]", "", text).strip()


def docstring(
    cmd: Command,
    plan: Plan,
    spec: Spec,
    overlaid: bool,
    summary: str | None = None,
    entry: Entry | None = None,
) -> list[str]:
    lines = [(cmd.summary or summary or f"The {cmd.name} command.").strip()]
    lines.append("")
    if cmd.complexity:
        lines.append(f"- Complexity: {cmd.complexity.strip()}")
    since = cmd.since or ""
    others = ", ".join(f"{_label(k)}: {v}" for k, v in sorted(cmd.since_by_server.items()))
    if since:
        lines.append(f"- Since: {since}" + (f" ({others})" if others else ""))
    lines.append(f"- Available on: {availability(cmd.available_in, spec)}.")
    if cmd.module:
        lines.append(f"- Module: {cmd.module}.")
    if cmd.is_deprecated:
        lines.append("- " + deprecation(cmd) + ".")
    if overlaid:
        lines.append("- Signature from the overlay (the server publishes no argument grammar).")
    if plan.undescribed:
        lines.append(
            "- The server described no arguments for this command: the keys its key specs "
            "name, then the other arguments as the command's documentation gives them."
        )
    args = [p for p in plan.params]
    if args:
        lines += ["", "Args:"]
        for p in args:
            note = f"    {p.name}: {param_words(p, plan)}"
            if p.avail and set(p.avail) != set(cmd.available_in):
                note += f" ({availability(p.avail, spec, only=True)[:1].upper()}"
                note += f"{availability(p.avail, spec, only=True)[1:]}.)"
            if p.deprecated:
                note += " (Deprecated.)"
            lines.append(note)
    if entry is not None and entry.base is not None:
        lines += ["", "Returns:"]
        for flags, _, src in entry.overloads:
            key = "|".join(flags)
            alts = [" and ".join(alt.split("&")) for alt in flags]
            when = " or ".join(alts) if len(alts) < 3 else ", ".join(alts[:-1]) + " or " + alts[-1]
            sentence = _reply_sentence(src, entry.notes.get(key, ""))
            lines.append(f"    - With {when}: {sentence}")
        sentence = _reply_sentence(entry.base_src, entry.base_note)
        if entry.overloads:
            lines.append(f"    - Otherwise: {sentence}")
        else:
            lines.append(f"    {sentence[:1].upper()}{sentence[1:]}")
    vendors = {spec.server(i).vendor for i in cmd.available_in}
    lines += ["", f"See {command_link(cmd.name, vendors == {'valkey'})}."]
    return lines


def _reply_sentence(src: str, note: str) -> str:
    words = reply_words(src)
    return f"{words}; {note}." if note else f"{words}."


def deprecation(cmd: Command) -> str:
    msg = f"Deprecated since {cmd.deprecated_since}" if cmd.deprecated_since else "Deprecated"
    if cmd.replaced_by:
        msg += f"; use {_clean_md(cmd.replaced_by)}"
    return msg
