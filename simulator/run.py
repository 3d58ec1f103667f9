"""Run one streaming session on a virtual clock over a trace-shaped link.

This is a driver of `abr.session.Session`, like the player: it carries out FetchSegment and
AbortRequest commands on a `TraceLink` and feeds back SegmentDone / BytesReceived / Tick at
the times they would happen. Time jumps from event to event, so a 10-minute session costs a
few hundred events.
"""

from __future__ import annotations

from dataclasses import dataclass

from abr.algorithm import AbrAlgorithm
from abr.commands import AbortRequest, Command, FetchSegment, PlaybackEnded, SessionFailed
from abr.config import SessionConfig
from abr.events import BytesReceived, ManifestLoaded, SegmentDone, Tick
from abr.presentation import Presentation
from abr.qoe import QoeSummary, summarize
from abr.session import Phase, Session, SessionMetrics, WaitKind
from simulator.errors import SimulationError
from simulator.link import RequestModel, TraceLink
from simulator.live_qoe import LiveSummary
from traces.trace import Trace

# A session that needs more events than this is stuck, not slow: 199 segments take ~600.
MAX_EVENTS_PER_SEGMENT = 200


@dataclass(slots=True)
class SimulationResult:
    summary: QoeSummary
    metrics: SessionMetrics
    link_name: str
    live: LiveSummary | None = None  # live sessions only (`simulator.live`)


class Simulation:
    """One session in progress. `run()` drives it to the end, or until the algorithm defers a
    decision (its `choose` returned None): then `deferred` is True, and `run()` again after
    the decision is known resumes it (the Gymnasium environment works this way)."""

    def __init__(
        self,
        trace: Trace,
        presentation: Presentation,
        algorithm: AbrAlgorithm,
        config: SessionConfig | None = None,
        *,
        noise: float = 0.0,
        seed: int = 0,
        requests: RequestModel | None = None,
    ) -> None:
        if not presentation.is_indexed:
            # The lab models transfers from sizes it knows; an index fetch has no place in it.
            raise SimulationError(
                f"{presentation.source or 'presentation'}: its segment indexes (DASH sidx) are "
                "not loaded; index it first (abr.manifests.with_indexes)"
            )
        self.trace = trace
        self.requests = requests
        self.presentation = presentation
        self.link = TraceLink(trace, noise=noise, seed=seed)
        self.session = Session(algorithm, config)
        self.now = 0.0
        self.deferred = False
        # The download in flight: (request id, first byte at, done at, size in bits).
        self._flight: tuple[int, float, float, float] | None = None
        self._budget = MAX_EVENTS_PER_SEGMENT * presentation.segment_count + 1000
        self._commands: list[Command] = self.session.handle(ManifestLoaded(0.0, presentation))

    @property
    def finished(self) -> bool:
        return self.session.phase is Phase.ENDED or self.session.phase is Phase.FAILED

    def run(self) -> None:
        session, link = self.session, self.link
        handle, next_wakeup = session.handle, session.next_wakeup
        now, flight, commands, budget = self.now, self._flight, self._commands, self._budget
        if self.deferred:
            self.deferred = False
            commands = handle(Tick(now))  # the decision is in: ask again
        over = False
        while True:
            for command in commands:
                kind = type(command)
                if kind is FetchSegment:
                    assert isinstance(command, FetchSegment)
                    if self.requests is None:
                        first_byte = now + link.latency_at(now)
                        size = command.segment.size_bits
                    else:
                        first_byte, size = self._modelled_request(command, now)
                    flight = (
                        command.request_id,
                        first_byte,
                        link.transfer_end(first_byte, size),
                        size,
                    )
                elif kind is AbortRequest:
                    flight = None
                elif kind is PlaybackEnded or kind is SessionFailed:
                    over = True  # the commands say it, so the hot loop need not ask the phase
            if over:
                break
            budget -= 1
            if budget < 0:
                raise SimulationError(
                    f"{self.trace.name}: session did not finish (stuck at t={now:.3f} s)"
                )
            wake = next_wakeup()
            if flight is not None and (wake is None or flight[2] <= wake):
                request_id, first_byte, now, size = flight
                flight = None
                commands = handle(SegmentDone(now, request_id, size / 8.0, first_byte))
            elif flight is None and session.waiting.kind is WaitKind.DECISION:
                # Time stands still while the algorithm decides: were the clock to move on to
                # the next wake-up (the buffer running dry), every deferred decision would be
                # taken in a stall.
                self.deferred = True
                break
            elif wake is None:
                raise SimulationError(
                    f"{self.trace.name}: session waits for nothing at t={now:.3f} s"
                )
            elif flight is not None:
                now = wake
                request_id, first_byte, _, _ = flight
                if now < first_byte:
                    # Nothing has arrived yet: a real driver has no progress to report (the
                    # player's engine reports only bytes it received), only the time.
                    commands = handle(Tick(now))
                else:
                    received = link.bits_between(first_byte, now)
                    commands = handle(BytesReceived(now, request_id, received / 8.0, first_byte))
            else:
                now = wake
                commands = handle(Tick(now))
        self.now, self._flight, self._commands, self._budget = now, flight, [], budget

    def _modelled_request(self, command: FetchSegment, now: float) -> tuple[float, float]:
        """(first byte at, bits to transfer) of a request under the request model."""
        model = self.requests
        assert model is not None
        first_byte = now + self.link.latency_at(now) + model.overhead_s
        if model.transfer_bits is not None:
            return first_byte, model.transfer_bits[command.segment_index][command.rendition_index]
        return first_byte, command.segment.size_bits

    def result(self) -> SimulationResult:
        metrics = self.session.metrics()
        return SimulationResult(summarize(metrics, self.presentation), metrics, self.trace.name)


def simulate(
    trace: Trace,
    presentation: Presentation,
    algorithm: AbrAlgorithm,
    config: SessionConfig | None = None,
    *,
    noise: float = 0.0,
    seed: int = 0,
    requests: RequestModel | None = None,
) -> SimulationResult:
    simulation = Simulation(
        trace, presentation, algorithm, config, noise=noise, seed=seed, requests=requests
    )
    simulation.run()
    if simulation.deferred:
        raise SimulationError(
            f"{trace.name}: the algorithm deferred a decision (choose returned None)"
        )
    return simulation.result()
