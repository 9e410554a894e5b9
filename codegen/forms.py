"""redis-py's call forms (codegen/compat.py) applied to planned methods.

``project_overlay()`` is the overlay ``generate`` reads: codegen/overlay.py with
codegen/compat.py merged in. ``apply_forms`` runs last in ``plan_command``: extra
parameters, parameters made optional or positional, the fold statements, and the
``*keys`` that also take one list. ``variant_plan`` makes the second method of a
command (``xpending_range``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import compat as compat_data
from . import overlay as overlay_data
from .nodes import Overlay
from .plan import Param, Plan, PlanError, q

# overlay sections codegen/compat.py adds to, per command and parameter
_MERGED = ("RENAMES", "TYPES", "DEFAULTS")
# sections only codegen/compat.py has
COMPAT_SECTIONS = ("POSITIONAL", "OPTIONAL", "EXTRA", "FOLD", "FORMS", "LIST_OR_ARGS")


def project_overlay() -> dict[str, Any]:
    """codegen/overlay.py's data with codegen/compat.py's merged in."""
    data = dict(vars(overlay_data))
    extra = vars(compat_data)
    for sec in _MERGED:
        merged: dict[str, dict[str, str]] = {k: dict(v) for k, v in data.get(sec, {}).items()}
        for cmd, entries in extra[sec].items():
            # compat's entry wins over the overlay's for the same parameter (an entry's key
            # may list alternative spec names: "data|longitude_latitude_member")
            names = {n for k in entries for n in k.split("|")}
            mine = merged.setdefault(cmd, {})
            for k in [k for k in mine if names & set(k.split("|"))]:
                del mine[k]
            mine.update(entries)
        data[sec] = merged
    for sec in (*COMPAT_SECTIONS, "VARIANTS"):
        data[sec] = extra[sec]
    return data


def _entry(ov: Overlay, sec: str, cmd: str) -> Any:
    v = ov.data.get(sec, {}).get(cmd)
    if v is not None:
        ov.mark_used(sec, cmd, "")
    return v


def apply_forms(plan: Plan, ov: Overlay) -> None:
    cmd = plan.command

    def param(name: str, sec: str) -> Param:
        p = plan.param(name)
        if p is None:
            raise PlanError(f"compat {sec}[{cmd!r}]: no parameter {q(name)}")
        return p

    for name in _entry(ov, "OPTIONAL", cmd) or ():
        p = param(name, "OPTIONAL")
        p.kind, p.default, p.positional = "opt", "None", False
    extra: Mapping[str, tuple[str, str, str]] = _entry(ov, "EXTRA", cmd) or {}
    for name, (ann, default, note) in extra.items():
        if plan.param(name) is not None:
            raise PlanError(f"compat EXTRA[{cmd!r}]: {name} is a parameter already")
        plan.params.append(
            Param(name, ann, "opt", default=default, is_bool=ann == "bool", note=note)
        )
    order = [param(n, "POSITIONAL") for n in _entry(ov, "POSITIONAL", cmd) or ()]
    for p in order:
        if p.default is None:
            raise PlanError(f"compat POSITIONAL[{cmd!r}]: {p.name} has no default")
        p.positional = True
    listed = _entry(ov, "LIST_OR_ARGS", cmd) or ()
    for name in listed:
        if not param(name, "LIST_OR_ARGS").varargs:
            raise PlanError(f"compat LIST_OR_ARGS[{cmd!r}]: {name} is not *args")
    checks: list[str] = [s.replace("{cmd}", q(cmd)) for s in _entry(ov, "FOLD", cmd) or ()]
    plan.folds = bool(checks)
    for p in plan.params:
        if p.varargs and (p.ann == "KeyT" or p.name in listed):
            # delete("a", "b") or delete(["a", "b"]): one list stands for the keys
            p.list_or_args = True
            v = p.name
            checks.append(
                f"if len({v}) == 1 and isinstance({v}[0], (list, tuple)): {v} = tuple({v}[0])"
            )
    plan.checks[:0] = checks
    plan.forms = list(_entry(ov, "FORMS", cmd) or ())
    for name in plan.forms:
        param(name, "FORMS")
    if order or extra:
        pos = [p for p in plan.params if p.positional and not p.varargs]
        plan.params = (
            [p for p in pos if p.default is None]
            + [p for p in pos if p.default is not None and p not in order]
            + order
            + [p for p in plan.params if p.varargs]
            + [p for p in plan.params if not p.positional]
        )


def variant_plan(plan: Plan, name: str, required: list[str]) -> Plan:
    """A second method of the same command: ``required`` parameters lose their default
    and become positional, in that order, after the other required ones."""
    req = []
    for r in required:
        p = plan.param(r)
        if p is None or p.default != "None":
            raise PlanError(f"compat VARIANTS[{name!r}]: {r} is no optional parameter")
        p.kind, p.default, p.positional = "req", None, True
        req.append(p)
    first = [p for p in plan.params if p.positional and p not in req and p.default is None]
    plan.params = [*first, *req, *(p for p in plan.params if p not in first and p not in req)]
    return plan
