"""Chunked CMAF in the lab's live mode: segments made and delivered chunk by chunk."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from random_traces import traces

from abr.manifests import parse_sabre_video
from abr.registry import create
from simulator.errors import LiveSetupError
from simulator.link import TraceLink
from simulator.live import simulate_live
from simulator.live_channel import LiveChannel, LiveSetup
from simulator.synthetic_video import synthetic_video
from traces import synthetic
from traces.formats import sabre_json
from traces.trace import Trace

VIDEO = parse_sabre_video(synthetic_video(segments=40, segment_duration_s=2.0, seed=4), source="v")


@pytest.mark.parametrize("algorithm", ["lolp", "l2a"])
def test_chunks_bring_latency_below_one_segment(algorithm: str) -> None:
    link = synthetic.constant(20_000)
    whole = simulate_live(link, VIDEO, create(algorithm), LiveSetup(1.5)).live
    chunked = simulate_live(link, VIDEO, create(algorithm), LiveSetup(1.5, None, 0.5))
    assert whole is not None and chunked.live is not None
    assert chunked.live.latency_mean_s <= 2.0
    assert chunked.live.latency_mean_s < whole.latency_mean_s
    assert chunked.summary.rebuffer_s == 0
    # Throughput is measured while bytes arrive, not while the encoder makes them: the link's
    # 20 Mbit/s, not the rendition's bitrate.
    assert min(d.throughput_kbps for d in chunked.metrics.downloads) > 10_000


@st.composite
def chunked_responses(draw: st.DrawFn) -> tuple[float, list[float], list[float]]:
    first_byte = draw(st.floats(0.0, 30.0))
    gaps = draw(st.lists(st.floats(0.0, 3.0), min_size=1, max_size=8))
    made_at = [first_byte - draw(st.floats(0.0, 1.0))]  # the first is made when requested
    for gap in gaps[1:]:
        made_at.append(made_at[-1] + gap)
    bits = draw(st.lists(st.floats(1.0, 5e6), min_size=len(made_at), max_size=len(made_at)))
    return first_byte, made_at, bits


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trace=traces(), response=chunked_responses(), probes=st.lists(st.floats(0, 1), max_size=8))
def test_the_link_never_delivers_a_byte_before_it_is_made(
    trace: Trace, response: tuple[float, list[float], list[float]], probes: list[float]
) -> None:
    first_byte, made_at, bits = response
    link = TraceLink(trace)
    transfer = link.produced_transfer(first_byte, made_at, bits)
    done = transfer.done_at
    assert done >= made_at[-1]
    for probe in [*probes, 1.0]:
        t = first_byte + probe * (done - first_byte)
        received = transfer.received_bits(link, t)
        made = sum(b for m, b in zip(made_at, bits, strict=True) if m <= t + 1e-9)
        assert received <= made * (1 + 1e-9) + 1e-6
        assert received <= link.bits_between(first_byte, t) * (1 + 1e-9) + 1e-6
    assert transfer.received_bits(link, done) == pytest.approx(sum(bits))
    assert transfer.busy_s <= done - first_byte + 1e-9


SHORT = parse_sabre_video(synthetic_video(segments=12, segment_duration_s=2.0, seed=5), source="s")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    trace=traces(max_pieces=20, min_piece_s=0.5),
    algorithm=st.sampled_from(["lolp", "l2a", "streamlab", "bola"]),
    target=st.floats(0.5, 6.0),
    chunk=st.sampled_from([0.25, 0.5, 1.0, 2.0]),
)
def test_no_segment_arrives_before_it_is_made(
    trace: Trace, algorithm: str, target: float, chunk: float
) -> None:
    setup = LiveSetup(target, None, chunk)
    result = simulate_live(trace, SHORT, create(algorithm), setup)
    channel = LiveChannel(SHORT, setup)
    m = result.metrics
    assert m.ended_at is not None, m.failed_reason
    for download in m.downloads:
        if download.abandoned:
            continue
        number = download.segment_index  # the channel lists from segment 0: index = number
        made = channel.available_at(number) + channel.segment_s - channel.chunk_s
        assert download.done_at >= made - 1e-6
        assert download.requested_at >= channel.available_at(number) - 1e-6


def test_a_chunk_longer_than_the_segment_is_refused_by_name() -> None:
    with pytest.raises(LiveSetupError, match="chunk duration 3 s is longer than the segments"):
        LiveSetup(2.0, 2.0, 3.0)
    with pytest.raises(LiveSetupError, match="longer than the segments"):
        LiveChannel(VIDEO, LiveSetup(2.0, None, 2.5))  # the video's own 2 s segments


def _inputs(tmp_path: Path) -> list[str]:
    video = tmp_path / "video.json"
    video.write_text(json.dumps(synthetic_video(segments=10, segment_duration_s=2.0, seed=2)))
    trace = tmp_path / "constant.json"
    trace.write_text(sabre_json.dump(synthetic.constant(3_000)))
    return ["--traces", str(trace), "--video", str(video), "--out", str(tmp_path / "out")]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--chunk-duration", "0.5"], "--chunk-duration need --live"),
        (["--live", "--target-latency", "2", "--chunk-duration", "3"], "longer than the segments"),
        (
            ["--live", "--target-latency", "2", "--segment-duration", "1", "--chunk-duration", "2"],
            "chunk duration 2 s is longer than the segments (1 s)",
        ),
        (["--live", "--target-latency", "2", "--chunk-duration", "0"], "positive number"),
        (
            ["--live", "--target-latency", "2", "--chunk-duration", "0.5", "--optimal"],
            "bounds nothing under chunked delivery",
        ),
    ],
)
def test_compare_refuses_bad_chunk_options_by_name(
    tmp_path: Path, options: list[str], message: str
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "streamlab.cli", "compare", *_inputs(tmp_path), *options],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out" / "results.csv").exists()
