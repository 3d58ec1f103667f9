"""`bench.pensieve_baseline` ranks every algorithm against the split's best classic and the optimum."""

from __future__ import annotations

import pandas as pd

from bench.pensieve_baseline import ALGORITHMS, table, verdict


def _frame(pensieve: float, streamlab: float) -> pd.DataFrame:
    qoe = {name: 0.0 for name in ALGORITHMS} | {
        "robustmpc": 1.0,
        "streamlab": streamlab,
        "pensieve": pensieve,
    }
    return pd.DataFrame(
        [
            {
                "trace_set": "3g",
                "trace": "a",
                "abr": name,
                "qoe_lin": value,
                "rebuffer_ratio": 0.01 if name == "pensieve" else 0.0,
                "optimal_qoe_lin": 3.0,
            }
            for name, value in qoe.items()
        ]
    )


def test_gap_closed_is_measured_from_the_best_classic_to_the_optimum() -> None:
    text = table(_frame(pensieve=2.0, streamlab=1.5))
    assert "| algorithm | QoE_lin | gap closed (from robustmpc) | rebuffer |" in text
    assert "| **pensieve** | 2.000 | 50 % | 1.00 % |" in text
    assert "| streamlab | 1.500 | 25 % | 0.00 % |" in text
    assert "| bba | 0.000 | -50 % | 0.00 % |" in text


def test_the_verdict_says_plainly_whether_pensieve_wins_on_validation() -> None:
    assert "does not win; streamlab stays the default" in verdict(_frame(1.2, 1.5))
    assert "wins on validation" in verdict(_frame(2.0, 1.5))
