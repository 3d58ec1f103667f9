"""One fuzz case, classified: it passed, it was refused with the project's own error, it crashed
(any other exception) or it hung (ran past its time limit).

Every fuzz target calls `FuzzRecorder.case` once per generated input. Crashes and hangs fail the
test at once (hypothesis then shrinks the input); the counts of every outcome go to the session's
`FuzzRecorder`, which `make fuzz` (`python -m bench.fuzz`) turns into the table in
bench/results.md. `STREAMLAB_FUZZ_EXAMPLES` sets the cases per target (a few hundred in `make test`).
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TypeVar

from hypothesis import HealthCheck, settings

T = TypeVar("T")

OUTCOMES = ("ok", "domain_error", "crash", "hang")
EXAMPLES = int(os.environ.get("STREAMLAB_FUZZ_EXAMPLES", "200"))

# Fuzz tests run EXAMPLES cases with no per-case deadline (a hang is caught by the alarm below).
fuzz_settings = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
    derandomize=False,
)


class FuzzHang(Exception):
    """A case ran past its time limit."""


@contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    def _expire(_signum: int, _frame: FrameType | None) -> None:
        raise FuzzHang(f"no answer within {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, _expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class FuzzRecorder:
    """Counts outcomes per target for one pytest session, and when each target's first and
    last outcome came (its wall time, input generation included)."""

    counts: dict[str, Counter[str]] = field(default_factory=dict)
    spans: dict[str, tuple[float, float]] = field(default_factory=dict)

    def _tally(self, target: str) -> Counter[str]:
        """The target's counts, its span stretched to now."""
        now = time.monotonic()
        self.spans[target] = (self.spans.get(target, (now, now))[0], now)
        return self.counts.setdefault(target, Counter())

    def case(
        self,
        target: str,
        run: Callable[[], T],
        domain_errors: tuple[type[BaseException], ...],
        timeout_s: float = 5.0,
    ) -> T | None:
        """Run one case; return its result, or None when it was refused with a domain error.

        Raises AssertionError naming the target on a crash or a hang.
        """
        try:
            self._tally(target)  # a target's span starts with its first case
            with _time_limit(timeout_s):
                result = run()
        except FuzzHang as exc:
            self._tally(target)["hang"] += 1
            raise AssertionError(f"{target}: hang: {exc}") from exc
        except domain_errors:
            self._tally(target)["domain_error"] += 1
            return None
        except Exception as exc:
            self._tally(target)["crash"] += 1
            raise AssertionError(f"{target}: crash: {type(exc).__name__}: {exc}") from exc
        self._tally(target)["ok"] += 1
        return result

    def count(self, target: str, outcome: str) -> None:
        """Record an outcome judged by the caller (an HTTP status, for the API targets)."""
        assert outcome in OUTCOMES, outcome
        self._tally(target)[outcome] += 1

    def write(self, path: Path) -> None:
        """{target: {outcome: count, ..., "wall_s": seconds}} as JSON."""
        table: dict[str, dict[str, float]] = {
            target: {o: tally[o] for o in OUTCOMES} for target, tally in self.counts.items()
        }
        for target, (first, last) in self.spans.items():
            table[target]["wall_s"] = round(last - first, 3)
        path.write_text(json.dumps(table, indent=2, sort_keys=True) + "\n")
