"""A run-time check of a reply against a method's declared return annotation.

This is what proves the reply table: every generated method is called
against a live server and its reply must fit the type the IDE shows. The
checker walks typing annotations (unions, Literals, containers, tuples,
NamedTuples, the recursive RespValue) with ``AnyStr`` bound to bytes or str.
"""

from __future__ import annotations

import collections.abc
import inspect
import sys
import types
import typing
from typing import Any, ForwardRef, TypeVar

import typing_extensions

import redspec.types as rtypes

_NONE = type(None)


def _namespace(func: Any) -> dict[str, Any]:
    ns: dict[str, Any] = {}
    ns.update(vars(typing))
    ns.update(vars(collections.abc))
    ns.update(vars(rtypes))
    module = sys.modules.get(getattr(func, "__module__", ""), None)
    if module is not None:
        ns.update(vars(module))
    return ns


def return_annotation(method: Any) -> Any:
    """The resolved return annotation of a (bound) method."""
    func = inspect.unwrap(getattr(method, "__func__", method))
    raw = func.__annotations__.get("return", Any)
    return _resolve(raw, _namespace(func))


def _resolve(raw: Any, ns: dict[str, Any]) -> Any:
    if isinstance(raw, str):
        return eval(raw, ns)
    if isinstance(raw, ForwardRef):
        return eval(raw.__forward_arg__, ns)
    return raw


def check(value: object, annotation: Any, anystr: type, path: str = "reply") -> None:
    """Raise AssertionError naming the path where ``value`` does not fit ``annotation``."""
    ns = _namespace(None)
    _check(value, annotation, anystr, path, ns)


def _fail(path: str, value: object, annotation: Any) -> typing.NoReturn:
    raise AssertionError(f"{path}: {value!r} does not match {annotation!r}")


def _check(value: object, ann: Any, anystr: type, path: str, ns: dict[str, Any]) -> None:
    ann = _resolve(ann, ns)
    if ann is Any or ann is object:
        return
    if ann is None or ann is _NONE:
        if value is not None:
            _fail(path, value, ann)
        return
    if isinstance(ann, TypeVar):
        if ann.__name__ != "AnyStr":
            raise AssertionError(f"{path}: unexpected type variable {ann}")
        if type(value) is not anystr:
            _fail(path, value, anystr)
        return
    origin = typing.get_origin(ann)
    args = typing.get_args(ann)
    if origin is typing.Union or (sys.version_info >= (3, 10) and origin is types.UnionType):
        errors = []
        for alt in args:
            try:
                _check(value, alt, anystr, path, ns)
                return
            except AssertionError as e:
                errors.append(str(e))
        _fail(path, value, ann)
    if origin is typing.Literal:
        if value not in args:
            _fail(path, value, ann)
        return
    if ann is bool:
        if type(value) is not bool:
            _fail(path, value, ann)
        return
    if ann is int:
        if type(value) is not int:
            _fail(path, value, ann)
        return
    if ann is float:
        if type(value) is not float:
            _fail(path, value, ann)
        return
    if ann in (bytes, str):
        if type(value) is not ann:
            _fail(path, value, ann)
        return
    if origin in (list, collections.abc.Sequence):
        if not isinstance(value, list):
            _fail(path, value, ann)
        for i, item in enumerate(value):
            _check(item, args[0] if args else Any, anystr, f"{path}[{i}]", ns)
        return
    if origin in (set, frozenset, collections.abc.Set):
        if not isinstance(value, (set, frozenset)):
            _fail(path, value, ann)
        for item in value:
            _check(item, args[0] if args else Any, anystr, f"{path}{{{item!r}}}", ns)
        return
    if origin in (dict, collections.abc.Mapping):
        if not isinstance(value, dict):
            _fail(path, value, ann)
        kt, vt = args if args else (Any, Any)
        for k, v in value.items():
            _check(k, kt, anystr, f"{path}.key({k!r})", ns)
            _check(v, vt, anystr, f"{path}[{k!r}]", ns)
        return
    if origin is tuple:
        if not isinstance(value, tuple):
            _fail(path, value, ann)
        if len(args) == 2 and args[1] is Ellipsis:
            for i, item in enumerate(value):
                _check(item, args[0], anystr, f"{path}[{i}]", ns)
            return
        if args and _is_unpack(args[-1]):
            # tuple[A, B, Unpack[tuple[T, ...]]]: A, B, then any number of T
            head = args[:-1]
            (rest,) = typing.get_args(args[-1])
            rest_args = typing.get_args(rest)
            if len(rest_args) != 2 or rest_args[1] is not Ellipsis or len(value) < len(head):
                _fail(path, value, ann)
            for i, item in enumerate(value):
                _check(item, head[i] if i < len(head) else rest_args[0], anystr, f"{path}[{i}]", ns)
            return
        if len(value) != len(args):
            _fail(path, value, ann)
        for i, (item, alt) in enumerate(zip(value, args)):
            _check(item, alt, anystr, f"{path}[{i}]", ns)
        return
    cls = origin if isinstance(origin, type) else ann
    if isinstance(cls, type) and issubclass(cls, tuple) and hasattr(cls, "_fields"):
        if not isinstance(value, cls):
            _fail(path, value, ann)
        hints = typing.get_type_hints(cls, globalns=ns)
        for name in cls._fields:
            _check(getattr(value, name), hints.get(name, Any), anystr, f"{path}.{name}", ns)
        return
    if isinstance(cls, type):
        if not isinstance(value, cls):
            _fail(path, value, ann)
        return
    raise AssertionError(f"{path}: the checker does not understand {ann!r}")


def _is_unpack(ann: Any) -> bool:
    origin = typing.get_origin(ann)
    return origin is not None and origin in (
        typing_extensions.Unpack,
        getattr(typing, "Unpack", None),
    )


def assert_reply_matches(method: Any, value: object) -> None:
    """Check ``value`` against the return annotation of ``method`` (a bound client method).

    ``AnyStr`` is bytes, or str when the client decodes responses.
    """
    owner = getattr(method, "__self__", None)
    settings = getattr(owner, "settings", None)
    decoded = bool(getattr(settings, "decode_responses", False))
    annotation = return_annotation(method)
    check(value, annotation, str if decoded else bytes, path=f"{method.__name__}()")
