"""Argument checks shared by the library, with Keras-style messages.

Every check raises `ValueError` whose text ends in `Received: name=value`, as
Keras' own layers do. These are for programmers' arguments; problems with a
user's data are `infoif.data.DataError`s, explained in plain sentences.
"""

from __future__ import annotations

import math
import numbers

__all__ = [
    "is_int",
    "is_real",
    "check",
    "positive_int",
    "int_in",
    "real_in",
    "unit_interval",
    "non_negative",
    "one_of",
]


def is_int(value) -> bool:
    """An integer (Python or numpy), not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_real(value) -> bool:
    """A real number (Python or numpy), not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check(condition: bool, message: str) -> None:
    """Raises `ValueError(message)` unless `condition`."""
    if not condition:
        raise ValueError(message)


def positive_int(name: str, value, allow_none: bool = False) -> int | None:
    """`value` as int if it is an integer >= 1 (or None when allowed)."""
    if value is None and allow_none:
        return None
    check(is_int(value) and int(value) >= 1,
          f"`{name}` must be a positive integer. Received: {name}={value!r}")
    return int(value)


def int_in(name: str, value, lo: int, hi: int) -> int:
    """`value` as int if it is an integer in [lo, hi]."""
    check(is_int(value) and lo <= int(value) <= hi,
          f"`{name}` must be an integer from {lo:,} to {hi:,}. Received: {name}={value!r}")
    return int(value)


def real_in(name: str, value, lo: float, hi: float, *, open_low: bool = False) -> float:
    """`value` as float if it is a real number in [lo, hi] (or (lo, hi] with `open_low`)."""
    ok = is_real(value) and not math.isnan(float(value))
    ok = ok and (lo < float(value) if open_low else lo <= float(value)) and float(value) <= hi
    bracket = "(" if open_low else "["
    check(ok, f"`{name}` must be a number in {bracket}{lo:g}, {hi:g}]. Received: {name}={value!r}")
    return float(value)


def unit_interval(name: str, value) -> float:
    """`value` as float if it is a real number in [0, 1]."""
    return real_in(name, value, 0.0, 1.0)


def non_negative(name: str, value) -> float:
    """`value` as float if it is a finite real number >= 0."""
    check(is_real(value) and math.isfinite(float(value)) and float(value) >= 0.0,
          f"`{name}` must be a finite number >= 0. Received: {name}={value!r}")
    return float(value)


def one_of(name: str, value, options) -> object:
    """`value` if it is one of `options`."""
    hashable = isinstance(value, (str, int, float, type(None)))
    check(hashable and value in options, f"`{name}` must be one of {list(options)}. Received: {name}={value!r}")
    return value
