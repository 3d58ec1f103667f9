"""The README's example of a researcher's own algorithm (tested in tests/test_cli.py)."""

from abr.algorithm import AbrAlgorithm
from abr.context import AbrContext


class Cautious(AbrAlgorithm):
    """Half the estimated throughput, and the lowest rendition while the buffer is thin."""

    name = "cautious"

    def choose(self, ctx: AbrContext) -> int:
        if ctx.throughput_kbps is None or ctx.buffer_s < ctx.segment_duration_s:
            return 0
        return ctx.highest_sustainable(ctx.throughput_kbps * 0.5)
