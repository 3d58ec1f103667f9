"""The base of the session's contract values: events, commands, waits and decisions.

They are built for every segment of every simulated session, so they are plain slotted classes
with an `__init__` of their own rather than frozen dataclasses or NamedTuples: a frozen
dataclass sets each field through `object.__setattr__` (about 3.5x a plain object's
construction, 16 % of an interpreted bba session) and a NamedTuple's `__new__` stays
interpreted under mypyc (the compiled lab was 20-24 % slower with them). Compiled by
`make compile`, a subclass is a native class built in ~30 ns.

Immutable: every field is declared `Final` in `__init__`, so mypy refuses an assignment and the
compiled build refuses it at run time ("attribute ... is not writable"); `__slots__` refuses new
attributes everywhere. Interpreted Python does not check `Final` itself: that would cost the
construction time this module exists to save. `replace` gives a changed copy.
"""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

V = TypeVar("V", bound="Value")


class Value:
    """Fields are the subclass's `__slots__`, set once in its `__init__`; compared by class and
    fields, so a `Pause(1.0)` never equals a `Resume(1.0)`."""

    __slots__: ClassVar[tuple[str, ...]] = ()

    def __eq__(self, other: object) -> bool:
        if type(self) is not type(other):
            return False
        return all(getattr(self, name) == getattr(other, name) for name in self.__slots__)

    def __hash__(self) -> int:
        return hash((type(self), *(getattr(self, name) for name in self.__slots__)))

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__name__}({fields})"

    def replace(self: V, **changes: Any) -> V:
        """A copy with `changes` applied (what `dataclasses.replace` does for a dataclass)."""
        fields: dict[str, Any] = {name: getattr(self, name) for name in self.__slots__}
        unknown = set(changes) - set(fields)
        if unknown:
            raise TypeError(f"{type(self).__name__} has no field {sorted(unknown)[0]!r}")
        fields.update(changes)
        return type(self)(**fields)
