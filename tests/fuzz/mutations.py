"""Hypothesis strategies that damage a valid input the way hostile or broken files do.

`mutated(valid)` draws a valid text from `valid`, then applies one to four mutations: byte
flips, truncation, duplicated, deleted or swapped lines, a number replaced with an extreme one,
encoding garbage, a very long line. Starting from valid inputs keeps most cases deep in the
parsers (past the header checks), where random bytes would never get.
"""

from __future__ import annotations

import re

from hypothesis import strategies as st

# Numbers that have broken loaders: overflow on conversion or on arithmetic, NaN, signed zero,
# ints past int64 and past Python's 4300-digit int() limit, other digit systems, hex.
HOSTILE_NUMBERS = (
    "1" + "0" * 400,
    "9" * 5000,
    "1e400",
    "-1e400",
    "1e308",
    "-1e308",
    "1.7976931348623157e308",
    "4.9e-324",
    "1e-400",
    "-0",
    "-0.0",
    "0",
    "-1",
    "nan",
    "NaN",
    "-nan",
    "inf",
    "-inf",
    "Infinity",
    "-Infinity",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "18446744073709551616",
    "0x10",
    "1_000",
    "١٢٣",
    "1e",
    ".",
    "",
)
# Unicode that trips decoders and splitters: controls, separators splitlines() breaks on,
# a BOM mid-file, replacement characters, right-to-left marks, full-width digits.
GARBAGE = ("\x00", "\x1c", "\x85", "\u2028", "\ufeff", "\ufffd", "\u202e", "\r", "１２", "\t\t")
# Numbers are what loaders get wrong most: they are drawn three times as often.
_KINDS = ("number", "number", "number", "flip", "truncate", "duplicate", "delete", "swap")
_KINDS += ("garbage", "long_line", "insert_text")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


@st.composite
def _mutate(draw: st.DrawFn, text: str) -> str:
    kind = draw(st.sampled_from(_KINDS))
    lines = text.splitlines(keepends=True)
    if kind == "number":
        spans = [m.span() for m in _NUMBER.finditer(text)]
        if spans:
            start, end = draw(st.sampled_from(spans))
            return text[:start] + draw(st.sampled_from(HOSTILE_NUMBERS)) + text[end:]
        kind = "flip"
    if kind == "flip" and text:
        i = draw(st.integers(0, len(text) - 1))
        return text[:i] + draw(st.characters(codec="utf-8")) + text[i + 1 :]
    if kind == "truncate":
        return text[: draw(st.integers(0, len(text)))]
    if kind in ("duplicate", "delete", "swap") and lines:
        i = draw(st.integers(0, len(lines) - 1))
        j = draw(st.integers(0, len(lines) - 1))
        if kind == "duplicate":
            lines.insert(j, lines[i])
        elif kind == "delete":
            del lines[i]
        else:
            lines[i], lines[j] = lines[j], lines[i]
        return "".join(lines)
    i = draw(st.integers(0, len(text)))
    if kind == "garbage":
        return text[:i] + draw(st.sampled_from(GARBAGE)) + text[i:]
    if kind == "long_line":
        unit = draw(st.sampled_from(("9", "a,", " 1", "[", "<a>", '"', "%")))
        return text[:i] + unit * draw(st.sampled_from((1_000, 70_000, 140_000))) + text[i:]
    return text[:i] + draw(st.text(max_size=40)) + text[i:]


@st.composite
def mutated(draw: st.DrawFn, valid: st.SearchStrategy[str]) -> str:
    text = draw(valid)
    for _ in range(draw(st.integers(1, 4))):
        text = draw(_mutate(text))
    return text


def as_bytes(text: str) -> st.SearchStrategy[bytes]:
    """The text as a file holds it: UTF-8, sometimes with a BOM, Latin-1 or a broken byte."""
    encoded = text.encode("utf-8", "surrogatepass")
    return st.sampled_from(
        (
            encoded,
            b"\xef\xbb\xbf" + encoded,
            text.encode("latin-1", "replace"),
            encoded[: len(encoded) // 2] + b"\xff\xfe" + encoded[len(encoded) // 2 :],
        )
    )
