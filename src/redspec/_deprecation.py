"""``@deprecated`` for generated methods, without importing typing_extensions at run time.

Type checkers see ``typing_extensions.deprecated`` (the generated modules import
it under TYPE_CHECKING), so editors strike deprecated methods through and
``mypy --enable-error-code deprecated`` reports their use. At run time this
stand-in does the other half: calling the method warns ``DeprecationWarning``.
typing_extensions itself costs ~10 ms of ``import redspec``.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

__all__ = ["deprecated"]


def deprecated(message: str) -> Callable[[F], F]:
    def mark(func: F) -> F:
        @functools.wraps(func)
        def warn_then_call(*args: Any, **kwargs: Any) -> Any:
            warnings.warn(message, DeprecationWarning, stacklevel=2)
            return func(*args, **kwargs)

        warn_then_call.__deprecated__ = message  # type: ignore[attr-defined]
        return warn_then_call  # type: ignore[return-value]

    return mark
