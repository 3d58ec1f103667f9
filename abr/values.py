"""Immutable value types for the session's contract that the simulator can afford.

Events, commands, waits and decisions are built for every segment of every simulated session.
A frozen dataclass sets each field through `object.__setattr__`, which made its construction
about 3.5x a plain object's and the interpreted lab 16 % slower (instructions counted under
valgrind, bba over 40 dev traces); a NamedTuple is as immutable at about 1.7x. A NamedTuple
also compares equal to any tuple holding the same values, though, so a `Pause(1.0)` would
equal a `Resume(1.0)`: `distinct` makes values of different classes unequal.
"""

from __future__ import annotations

from typing import Any, TypeVar

T = TypeVar("T", bound=type)


def _eq(self: tuple[Any, ...], other: object) -> bool:
    return type(self) is type(other) and tuple.__eq__(self, other) is True


def _ne(self: tuple[Any, ...], other: object) -> bool:
    return not _eq(self, other)


def distinct(cls: T) -> T:
    """Decorate a NamedTuple: equal only to values of the same class (hash unchanged)."""
    cls.__eq__ = _eq  # type: ignore[method-assign,assignment]
    cls.__ne__ = _ne  # type: ignore[method-assign,assignment]
    cls.__hash__ = tuple.__hash__  # type: ignore[method-assign,assignment]
    return cls
