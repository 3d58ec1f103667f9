"""Algorithm names and `package.module:Class` specs: one error for every name that is no algorithm."""

from __future__ import annotations

import pytest

from abr.algorithms import BolaAbr
from abr.registry import PROFILES, AlgorithmSpecError, create, resolve


def test_a_builtin_name_resolves_to_a_fresh_instance_with_the_profile_parameters() -> None:
    factory = resolve("bola", PROFILES["sabre"])
    first, second = factory(), factory()
    assert isinstance(first, BolaAbr) and first is not second
    assert first.gamma_p == 5.0  # the sabre profile's BOLA parameter


def test_a_module_spec_resolves_to_that_class() -> None:
    assert isinstance(resolve("abr.algorithms:BbaAbr")(), create("bba").__class__)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("nosuch", r"unknown ABR algorithm 'nosuch': use one of .*bola.* or package\.module:Class"),
        ("no_such_module:X", r"cannot import 'no_such_module' for --abr no_such_module:X"),
        ("abr.algorithms:Nope", r"'Nope' is not an abr\.algorithm\.AbrAlgorithm subclass"),
    ],
)
def test_a_bad_spec_says_what_is_wrong_before_any_work(spec: str, message: str) -> None:
    with pytest.raises(AlgorithmSpecError, match=message):
        resolve(spec)


def test_create_and_resolve_raise_the_same_error_for_an_unknown_name() -> None:
    with pytest.raises(AlgorithmSpecError, match="unknown ABR algorithm 'nosuch'"):
        create("nosuch")
