"""Explaining a misused argument of a generated method (failure path only).

A generated method does not check its arguments' types: hiredis's packer
refuses what cannot be sent, and building argv fails on a wrong shape (a
bare tuple where a sequence of tuples goes). When that happens the method
calls ``_encode.misuse``, which lands here: each parameter's value is checked
against the method's own annotation (the strings the generator wrote, e.g.
``Sequence[tuple[float, float, ValueT]]``), and the first one that does not fit
is named, with the command, the type received and what to pass instead::

    DEL: keys[0] is a list; expected str, bytes or memoryview; pass the keys as
    separate arguments: delete(*keys)

Annotations are read with ``ast`` from the method's signature: the generated
modules import some of their names only for the type checker.
"""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from .errors import ArgumentTypeError, RedisError

__all__ = ["explain"]

# Type names of the generated signatures -> the runtime classes a value may be.
_SCALARS: dict[str, tuple[type, ...]] = {
    "KeyT": (str, bytes, memoryview),
    "ValueT": (str, bytes, memoryview, int, float),
    "PatternT": (str, bytes),
    "StreamIdT": (str, bytes),
    "RangeT": (str, bytes, int, float),
    "Seconds": (int, timedelta),
    "Millis": (int, timedelta),
    "UnixSeconds": (int, datetime),
    "UnixMillis": (int, datetime),
    "int": (int,),
    "float": (float, int),
    "str": (str,),
    "bytes": (bytes,),
    "datetime": (datetime,),
    "timedelta": (timedelta,),
}
_TEXTS = (str, bytes, memoryview)

Problem = tuple[str, Any, str]  # (path under the parameter, bad value, what was expected)


def explain(command: str, method: str, values: dict[str, Any], exc: BaseException) -> None:
    if isinstance(exc, RedisError) and not isinstance(exc, ArgumentTypeError):
        return  # an error of ours that already says what is wrong
    owner = values.get("self")
    params = _parameters(type(owner), method) if owner is not None else None
    if params is None:
        return
    for name, kind, annotation, default, syntax in params:
        if name not in values:
            continue
        value = values[name]
        if kind == inspect.Parameter.VAR_POSITIONAL:
            for i, item in enumerate(value):
                problem = _check(annotation, item, f"[{i}]")
                if problem is not None:
                    hint = ""
                    if _iterable(item):
                        hint = (
                            f"pass the {name} as separate arguments: "
                            f"{method}({_call_shape(params, name)})"
                        )
                    _raise(command, name, problem, hint, exc)
            continue
        if default is not inspect.Parameter.empty and value is default:
            continue  # not given
        problem = _check(annotation, value, "")
        if problem is not None:
            hint = _hint(method, params, name, annotation, syntax, problem)
            _raise(command, name, problem, hint, exc)
    # Every value fits its (implementation's) annotation, which may be looser than
    # the overloads (`*keys: KeyT | Sequence[KeyT]` takes one list, not a list
    # among keys): name the item the packer could not send.
    for name, kind, annotation, _, _ in params:
        if kind == inspect.Parameter.VAR_POSITIONAL and name in values:
            for i, item in enumerate(values[name]):
                if not _sendable(item):
                    expected = _describe(_union(annotation)[0])
                    shape = _call_shape(params, name)
                    hint = f"pass the {name} as separate arguments: {method}({shape})"
                    _raise(command, name, (f"[{i}]", item, expected), hint, exc)


def _raise(command: str, name: str, problem: Problem, hint: str, exc: BaseException) -> None:
    path, bad, expected = problem
    message = f"{command}: {name}{path} is {_a(bad)}; expected {expected}"
    if hint:
        message += f"; {hint}"
    raise ArgumentTypeError(message) from exc


# ------------------------------------------------------------------ what a parameter is


Params = tuple[tuple[str, Any, ast.expr, Any, str], ...]  # name, kind, annotation, default, syntax


def _parameters(cls: type, method: str) -> Params | None:
    return _cached_parameters(cls, method)


@lru_cache(maxsize=256)
def _cached_parameters(cls: Any, method: str) -> Params | None:
    func = getattr(cls, method, None)
    if func is None:
        return None
    func = inspect.unwrap(func)
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        return None
    syntaxes = _arg_syntax(func.__doc__ or "")
    out = []
    for p in list(signature.parameters.values())[1:]:
        if p.annotation is inspect.Parameter.empty or not isinstance(p.annotation, str):
            continue
        try:
            annotation = ast.parse(p.annotation, mode="eval").body
        except SyntaxError:
            continue
        out.append((p.name, p.kind, annotation, p.default, syntaxes.get(p.name, "")))
    return tuple(out)


def _arg_syntax(doc: str) -> dict[str, str]:
    """``name: syntax`` lines of the docstring's Args section (the spec's argument syntax)."""
    found: dict[str, str] = {}
    args = doc.split("Args:", 1)
    if len(args) == 2:
        for m in re.finditer(r"^\s+(\w+): (`[^`]*`|.+)", args[1], re.M):
            found.setdefault(m.group(1), m.group(2).strip("`"))
    return found


# ------------------------------------------------------------------ does a value fit


def _check(node: ast.expr, value: Any, path: str) -> Problem | None:
    """None when ``value`` fits the annotation ``node``; else where and why not."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        alternatives = _union(node)
        problems = [_check(alt, value, path) for alt in alternatives]
        if any(p is None for p in problems):
            return None
        # The deepest explanation helps most (data[0] over data).
        deepest = max(problems, key=lambda p: len(p[0]) if p else -1)
        assert deepest is not None
        if deepest[0] != path:
            return deepest
        return path, value, " or ".join(_describe(a) for a in alternatives)
    if isinstance(node, ast.Constant):
        return None if value is node.value else (path, value, _describe(node))
    if isinstance(node, ast.Name):
        return _check_name(node.id, value, path)
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
        return _check_generic(node, node.value.id, value, path)
    return None  # a shape this checker does not know: assume it fits


def _check_name(name: str, value: Any, path: str) -> Problem | None:
    if name == "None":
        return None if value is None else (path, value, "None")
    if name == "bool":
        return None if isinstance(value, bool) else (path, value, "bool")
    classes = _SCALARS.get(name)
    if classes is None:
        # A dataclass of redspec._generated.models (StreamTrim, BitfieldGet...).
        return None if type(value).__name__ == name else (path, value, name)
    if isinstance(value, bool) or not isinstance(value, classes):
        return path, value, _describe_name(name)
    return None


def _check_generic(node: ast.Subscript, head: str, value: Any, path: str) -> Problem | None:
    args = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
    if head == "Literal":
        allowed = [a.value for a in args if isinstance(a, ast.Constant)]
        return None if value in allowed else (path, value, _describe(node))
    if head == "Sequence":
        if isinstance(value, _TEXTS) or not _iterable(value) or isinstance(value, Mapping):
            return path, value, _describe(node)
        for i, item in enumerate(value):
            problem = _check(args[0], item, f"{path}[{i}]")
            if problem is not None:
                return problem
        return None
    if head == "Mapping":
        if not isinstance(value, Mapping):
            return path, value, _describe(node)
        for k, v in value.items():
            problem = _check(args[0], k, f"{path} key {k!r}") or _check(
                args[1], v, f"{path}[{k!r}]"
            )
            if problem is not None:
                return problem
        return None
    if head == "tuple":
        if not isinstance(value, (tuple, list)) or len(value) != len(args):
            return path, value, _describe(node)
        for i, (a, item) in enumerate(zip(args, value)):
            problem = _check(a, item, f"{path}[{i}]")
            if problem is not None:
                return problem
        return None
    return None


def _union(node: ast.expr) -> list[ast.expr]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return [*_union(node.left), *_union(node.right)]
    return [node]


def _sendable(value: Any) -> bool:
    return isinstance(value, (str, bytes, memoryview, int, float)) and not isinstance(value, bool)


def _iterable(value: Any) -> bool:
    return isinstance(value, Iterable) and not isinstance(value, _TEXTS)


# ------------------------------------------------------------------ words


def _a(value: Any) -> str:
    if value is None:
        return "None"
    name = type(value).__name__
    return f"an {name}" if name[:1] in "aeiou" else f"a {name}"


def _describe_name(name: str) -> str:
    classes = _SCALARS.get(name)
    if classes is None or name in ("int", "str", "bytes", "datetime", "timedelta"):
        return name
    names = [c.__name__ for c in classes]
    return ", ".join(names[:-1]) + " or " + names[-1]


def _describe(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return _describe_name(node.id)
    if isinstance(node, ast.Constant):
        return repr(node.value)
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
        head = node.value.id
        args = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        if head == "Literal":
            return "one of " + ", ".join(repr(getattr(a, "value", "?")) for a in args)
        if head == "tuple":
            return "a tuple (" + ", ".join(ast.unparse(a) for a in args) + ")"
        if head == "Sequence":
            return f"a sequence (list or tuple) of {ast.unparse(args[0])}"
        if head == "Mapping":
            return f"a mapping (dict) of {ast.unparse(args[0])} to {ast.unparse(args[1])}"
    return ast.unparse(node)


def _call_shape(params: Params, star: str) -> str:
    """``key, group, *ids``: the positional parameters up to and with the varargs one."""
    shape = []
    for name, kind, *_ in params:
        if kind == inspect.Parameter.VAR_POSITIONAL:
            shape.append(f"*{name}")
            break
        shape.append(name)
    return ", ".join(shape)


def _hint(
    method: str,
    params: Params,
    name: str,
    annotation: ast.expr,
    syntax: str,
    problem: Problem,
) -> str:
    path, bad, _ = problem
    text = ast.unparse(annotation)
    if text.startswith("Sequence[tuple[") and path.startswith("["):
        # A sequence of tuples given one bare tuple, or items of the wrong shape.
        fields = syntax.split(" [", 1)[0].strip()
        shape = f"({', '.join(fields.split())})" if fields else "(...)"
        required = [p[0] for p in params if p[3] is inspect.Parameter.empty]
        args = [n if n != name else f"[{shape}, ...]" for n in required]
        return f"pass {name} as a list of {shape} tuples: {method}({', '.join(args)})"
    if text.startswith("Mapping[") and path == "":
        return f"pass {name} as a dict: {method}(..., {name}={{...: ..., ...}})"
    if isinstance(bad, bool):
        return "a bool is not sent as a value: pass int(flag) or a str"
    if (path == "" and _iterable(bad)) or isinstance(bad, Mapping):
        if text.startswith(("Sequence[", "Mapping[")):
            return ""
        return "serialize it first (for instance with json.dumps), or pass its items one by one"
    return ""
