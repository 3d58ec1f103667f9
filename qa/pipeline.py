"""The QA pipeline behind `streamlab qa`: start or reach the backend, play the planned sessions
over their shaped links (with faults and the simulator's replay when asked), check progress and
targets, and write the results; `run_qa(QaRequest(...))` is the whole of it. With `live`, the
sessions watch a live channel for `live_seconds` each instead (`qa/live.py`)."""

from __future__ import annotations

import asyncio
import json
import socket
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

from abr.registry import PROFILES, AlgorithmSpecError, resolve
from player.api import ApiError, BackendApi, Title
from qa.backend import ManagedBackend, alive, log_in, open_api, ready_titles
from qa.errors import QaInputError
from qa.faults import FaultRun, parse_kinds, plan_faults
from qa.fidelity import FidelityRow, measured_overhead_s, probe_sizes
from qa.fidelity import compare as compare_with_sim
from qa.fidelity import summarize as summarize_fidelity
from qa.junit import write_junit
from qa.live import (
    STOP_SLACK_S,
    check_channel_name,
    check_live_seconds,
    default_latency_limit_s,
    dvr_seconds,
    find_channel,
    joinable_media_s,
    segment_seconds,
    wait_until_joinable,
)
from qa.live_fidelity import (
    ChannelSizes,
    LiveFidelityRow,
    LiveReplay,
    probe_channel,
    replay_all,
)
from qa.live_fidelity import summarize as summarize_live_fidelity
from qa.placement import (
    Cluster,
    Placement,
    cluster_of,
    host_loads,
    in_process,
    placement_rows,
)
from qa.progress import check_progress, mark_lost_progress
from qa.report import (
    COLUMNS,
    LIVE_QA_COLUMNS,
    ReportInput,
    Section,
    faults_section,
    fidelity_section,
    live_fidelity_section,
    placement_section,
    progress_section,
    session_row,
    write_csv,
    write_fault_log,
    write_report,
)
from qa.runner import (
    CONCURRENCY_LIMIT_DECODE,
    CONCURRENCY_LIMIT_NO_DECODE,
    RunStats,
    plan,
    run_all,
)
from qa.session import PlayerSetup, SessionOutcome, SessionSpec
from qa.targets import SessionFigures, Targets, check, load_targets
from traces.errors import TraceError
from traces.load import iter_trace_files, load_trace
from traces.trace import Trace

DEMO_USER = ("demo", "demo")
READY_TIMEOUT_S = 300.0


def _traces(paths: Sequence[str]) -> list[Trace]:
    try:
        files = iter_trace_files(paths)
        traces = [load_trace(f) for f in files]
    except TraceError as exc:
        raise QaInputError(str(exc)) from exc
    if not traces:
        raise QaInputError(f"no trace files in {', '.join(paths)}")
    return traces


@dataclass(frozen=True)
class QaRequest:
    """What `streamlab qa` was asked for (its options, checked by `run_qa`)."""

    traces: list[str]  # trace folders or files
    out: Path
    targets: Path | None = None  # None: the product's targets
    sessions: int = 10
    concurrency: int = 2
    abr: str = "streamlab"
    title: str | None = None
    catalog: bool = False
    backend: str | None = None  # a running backend's API; None: start one in out/backend
    decode: bool = True
    demo_seconds: int = 20
    max_height: int = 720
    over_limit: bool = False
    faults: str | None = None  # "all" or a comma list of kinds
    fidelity: bool = False
    seed: int = 0
    show_progress: bool = False
    live: str | None = None  # a live channel's name: the sessions watch it instead of titles
    live_seconds: float = 60.0  # how long each live session watches
    workers: int | None = None  # a LocalCluster of this many worker processes
    scheduler: str | None = None  # an existing Dask cluster's scheduler
    host_limit: int | None = None  # Dask runs: sessions at a time per host (default: the limit)
    # What to cite (`streamlab.provenance.Provenance.summary_rows`): the report's last section.
    provenance: Sequence[tuple[str, str]] = ()


@dataclass(frozen=True)
class _Checked:
    """A request whose options passed the checks, its traces loaded and fault kinds parsed."""

    request: QaRequest
    traces: list[Trace]
    fault_kinds: tuple[str, ...]
    cluster: Cluster | None  # None: every session in this process


def run_qa(request: QaRequest) -> int:
    """Play the sessions, write sessions.csv, junit.xml, summary.json and report.html under
    `request.out`; 0 when every target holds, 1 when one is missed. Bad input raises
    QaInputError naming it."""
    try:
        return _run(request)
    except ApiError as exc:  # the API failed outside any session
        raise QaInputError(f"backend: {exc}") from exc


def _run(request: QaRequest) -> int:
    targets = load_targets(request.targets)
    if request.sessions < 1:
        raise QaInputError(f"--sessions must be at least 1, got {request.sessions}")
    if request.concurrency < 1:
        raise QaInputError(f"--concurrency must be at least 1, got {request.concurrency}")
    limit = CONCURRENCY_LIMIT_DECODE if request.decode else CONCURRENCY_LIMIT_NO_DECODE
    cluster = cluster_of(
        request.workers,
        request.scheduler,
        request.host_limit,
        request.concurrency,
        limit,
        request.over_limit,
        request.backend,
    )
    if cluster is not None:
        # Without Dask (the 'sweep' extra) this fails here, before a backend is started.
        import qa.distributed  # noqa: F401
    elif request.concurrency > limit and not request.over_limit:
        mode = "decoding" if request.decode else "--no-decode"
        raise QaInputError(
            f"--concurrency {request.concurrency} is above this machine's measured limit for "
            f"{mode} sessions ({limit}): the harness would distort the results "
            "(--over-limit runs anyway)"
        )
    try:
        resolve(request.abr, PROFILES["default"])
    except AlgorithmSpecError as exc:
        raise QaInputError(f"--abr: {exc}") from exc
    if request.live is not None:
        check_channel_name(request.live)
        check_live_seconds(request.live_seconds)
    elif targets.latency_p95_s is not None:
        raise QaInputError(
            f"{request.targets}: latency_p95_s is a live target; this run plays titles "
            "(--live CHANNEL watches a channel)"
        )
    opts = _Checked(
        request,
        _traces(request.traces),
        parse_kinds(request.faults) if request.faults else (),
        cluster,
    )
    opts.request.out.mkdir(parents=True, exist_ok=True)
    managed: ManagedBackend | None = None
    api_url = request.backend
    try:
        if api_url is None:
            # Kept in the output folder: its logs explain a bad run, and a second run in the
            # same folder reuses the packaged catalog.
            managed = ManagedBackend(
                opts.request.out / "backend",
                request.demo_seconds,
                request.max_height,
                request.live,
                None if request.live is None else dvr_seconds(request.live_seconds),
            )
            api_url = managed.start()
        passed = asyncio.run(_session_run(opts, api_url, targets, managed))
    finally:
        if managed is not None:
            managed.stop()
    return 0 if passed else 1


async def _session_run(
    opts: _Checked, api_url: str, targets: Targets, managed: ManagedBackend | None
) -> bool:
    api = open_api(api_url)
    try:
        await log_in(api, *DEMO_USER)
        live = opts.request.live
        titles = _choose(
            await ready_titles(api, READY_TIMEOUT_S), opts.request.title, opts.request.catalog, live
        )
        live_seconds = None if live is None else opts.request.live_seconds
        specs = plan(opts.traces, titles, opts.request.sessions, opts.request.abr, live_seconds)
        profile = PROFILES["default"]
        if live is not None:
            media_s = joinable_media_s(profile, titles[0])
            await wait_until_joinable(api, titles[0], media_s, READY_TIMEOUT_S)
        factory = resolve(opts.request.abr, profile)
        longest = max(t.duration_s for t in titles)
        timeout = 3 * longest + 60.0 if live_seconds is None else live_seconds + STOP_SLACK_S
        # Live with --fidelity: the channel's segment sizes, read as each session ends (its
        # segments age out of the window).
        channel_sizes: dict[int, ChannelSizes] | None = (
            {} if live is not None and opts.request.fidelity else None
        )
        edge = await _edge(api, titles[0])
        # Faults fall within what every session plays: all of the shortest title (the demo
        # catalog's are cut in 2 s segments), or the first half of a watch, whose stalls (a
        # stopped origin) leave fewer segments than its length would hold.
        if live_seconds is None:
            watched = min(t.duration_s for t in titles)
            segments = int(watched // 2)
        else:
            watched = live_seconds
            segments = int(watched / segment_seconds(titles[0]) / 2)
        planned = (
            plan_faults(opts.fault_kinds, len(specs), watched, segments, opts.request.seed)
            if opts.fault_kinds
            else []
        )
        first_wave = (
            opts.cluster.first_wave(len(specs))
            if opts.cluster
            else min(opts.request.concurrency, len(specs))
        )
        faults = FaultRun(planned, managed, edge, first_wave)

        setup = PlayerSetup(
            factory, profile, opts.request.decode, timeout, opts.request.out / "progress"
        )

        async def play_one(spec: SessionSpec) -> SessionOutcome:
            outcome = await faults.sessions.play(spec, api, setup, faults.session_began)
            if channel_sizes is not None and not outcome.failed:
                channel_sizes[spec.index] = await probe_channel(api, spec.video_id)
            return outcome

        faults.start()
        try:
            if opts.cluster is None:
                outcomes, stats = await run_all(
                    specs, opts.request.concurrency, play_one, opts.request.show_progress
                )
                placements = in_process(outcomes)
            else:
                outcomes, stats, placements = await _on_dask(opts, api, timeout, specs, faults)
                if channel_sizes is not None:
                    # Workers cannot probe for the client: the window as it stands now serves
                    # every session (segments gone from it keep their announced sizes).
                    window = await probe_channel(api, titles[0].video_id)
                    channel_sizes.update({o.spec.index: window for o in outcomes if not o.failed})
        finally:
            await faults.finish()
        if not await alive(api):
            failed = sum(o.failed for o in outcomes)
            raise QaInputError(
                f"backend {api_url} stopped answering during the run ({failed} of "
                f"{len(outcomes)} sessions failed)"
            )
        progress = await check_progress(api, outcomes)
        fidelity: list[FidelityRow] = []
        live_fidelity: list[LiveFidelityRow] = []
        ok = [o for o in outcomes if not o.failed]
        overhead = measured_overhead_s(ok)
        if channel_sizes is not None and live_seconds is not None:
            how = LiveReplay(factory, profile, segment_seconds(titles[0]), live_seconds)
            live_fidelity = replay_all(outcomes, channel_sizes, how, overhead)
        elif opts.request.fidelity:
            sizes = {
                video_id: await probe_sizes((await api.playback_info(video_id)).dash_url)
                for video_id in sorted({o.spec.video_id for o in ok})
            }
            fidelity = compare_with_sim(ok, sizes, factory, profile, overhead)
    finally:
        await api.client.aclose()
    mark_lost_progress(outcomes, progress)
    faults_by_session = {o.spec.index: faults.log.kinds_for(o) for o in outcomes}
    figures = [
        SessionFigures(
            o.ttff_s,
            o.summary.rebuffer_ratio if o.summary else float("nan"),
            o.summary.bitrate_kbps if o.summary else float("nan"),
            o.failed,
            _latency_p95(o),
        )
        for o in outcomes
    ]
    latency_default = None if live is None else default_latency_limit_s(profile, titles[0])
    checks = check(targets, figures, latency_default)
    latency_limit = next((c.limit for c in checks if c.name == "latency_p95_s"), None)
    rows = [session_row(o, faults_by_session[o.spec.index]) for o in outcomes]
    columns = COLUMNS if live is None else (*COLUMNS, *LIVE_QA_COLUMNS)
    write_csv(opts.request.out / "sessions.csv", rows, columns)
    cap = opts.cluster.host_limit if opts.cluster else opts.request.concurrency
    loads = host_loads(outcomes, placements, cap)
    mode = opts.cluster.describe() if opts.cluster else "one process on this host"
    write_junit(opts.request.out / "junit.xml", checks, outcomes, stats.wall_s)
    decode = (
        "libmpv decoding (vo=null, ao=null)"
        if opts.request.decode
        else "--no-decode: bytes counted, the session's real-time playout clock instead of a decoder"
    )
    header = [
        ("date", time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())),
        ("backend", api_url + (" (started by qa)" if managed else "")),
        ("ABR", opts.request.abr),
        ("ran on", mode),
        ("decode mode", decode),
        (
            "sessions",
            f"{len(outcomes)} ({sum(o.failed for o in outcomes)} failed), {opts.request.concurrency} at a time",
        ),
        ("traces", f"{len(opts.traces)} from {', '.join(opts.request.traces)}"),
        ("titles", ", ".join(sorted({s.video_id for s in specs}))),
        *(
            []
            if live is None
            else [("live", f"{live_seconds:g} s per session, latency target {latency_limit:g} s")]
        ),
        (
            "harness CPU",
            f"{stats.cpu_per_session_s(len(outcomes)):.2f} s per session, {stats.wall_s:.1f} s wall",
        ),
    ]
    # Channels have no progress: live sessions report none, so there is nothing to check.
    sections = [progress_section(progress)] if live is None else []
    sections.append(placement_section(mode, loads, placements))
    summary_fidelity: list[Mapping[str, object]] = []
    if opts.request.fidelity:
        replayed = [r.as_dict() for r in (fidelity if live is None else live_fidelity)]
        header_row = list(replayed[0]) if replayed else ["session"]
        write_csv(opts.request.out / "fidelity.csv", replayed, header_row)
    if live is not None and opts.request.fidelity:
        sections.append(live_fidelity_section(live_fidelity, overhead))
        for lf in summarize_live_fidelity(live_fidelity):
            summary_fidelity.append(lf.as_dict())
            print(
                f"fidelity (live, {lf.model} model): |d latency| {lf.latency_abs_s:.2f} s "
                f"(p95 {lf.latency_p95_abs_s:.2f} s), |d rebuffer| {lf.rebuffer_abs_pp:.2f} pp, "
                f"|d start-up| {lf.startup_abs_s:.2f} s, |d bitrate| {lf.bitrate_abs_pct:.1f} %",
                file=sys.stderr,
            )
    elif opts.request.fidelity:
        sections.append(fidelity_section(fidelity, overhead))
        for f in summarize_fidelity(fidelity):
            summary_fidelity.append(asdict(f))
            print(
                f"fidelity ({f.model} model): |dQoE_lin| {f.qoe_abs_pct:.1f} % of real, "
                f"|d rebuffer| {f.rebuffer_abs_pp:.2f} pp, |d start-up| {f.startup_abs_s:.2f} s, "
                f"|d bitrate| {f.bitrate_abs_pct:.1f} %",
                file=sys.stderr,
            )
    if opts.fault_kinds:
        header.append(("faults", f"seed {opts.request.seed}: {', '.join(opts.fault_kinds)}"))
        sections.append(faults_section(faults, outcomes))
        write_fault_log(opts.request.out / "faults.jsonl", faults.log)
    if opts.request.provenance:
        sections.append(
            Section(
                "Provenance",
                "What ran, on what and with which inputs; provenance.json beside the results "
                "has every file's SHA-256. Real-time sessions: re-run the command and compare "
                "the figures (streamlab reproduce cannot match them byte for byte).",
                rows=[{"": name, "value": value} for name, value in opts.request.provenance],
            )
        )
    write_report(
        opts.request.out,
        ReportInput(outcomes, checks, targets, header, faults_by_session, sections, latency_limit),
    )
    summary: dict[str, object] = {
        "sessions": len(outcomes),
        "failed": sum(o.failed for o in outcomes),
        "concurrency": opts.request.concurrency,
        "decoded": opts.request.decode,
        "mode": "dask" if opts.cluster else "process",
        "ran_on": mode,
        "hosts": [asdict(load) for load in loads],
        "placement": placement_rows(outcomes, placements),
        "wall_s": stats.wall_s,
        "cpu_s": stats.cpu_s,
        "cpu_per_session_s": stats.cpu_per_session_s(len(outcomes)),
        "targets": {
            c.name: {"limit": c.limit, "measured": c.measured, "met": c.met} for c in checks
        },
    }
    if live is not None:
        summary["live"] = {"channel": titles[0].video_id, "seconds_per_session": live_seconds}
    if opts.request.fidelity:
        summary["fidelity"] = summary_fidelity
    (opts.request.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    for c in checks:
        mark = "met   " if c.met else "MISSED"
        print(f"{mark} {c.name}: {c.measured:.4g} (limit {c.limit:g})", file=sys.stderr)
    print(f"streamlab qa: report in {opts.request.out / 'report.html'}", file=sys.stderr)
    return all(c.met for c in checks)


def _latency_p95(outcome: SessionOutcome) -> float:
    metrics = outcome.metrics
    if metrics is None or metrics.live_latency_p95_s is None:
        return float("nan")
    return metrics.live_latency_p95_s


async def _on_dask(
    opts: _Checked, api: BackendApi, timeout_s: float, specs: list[SessionSpec], faults: FaultRun
) -> tuple[list[SessionOutcome], RunStats, list[Placement]]:
    from qa.distributed import SessionJob, new_topic, run_on_dask

    assert opts.cluster is not None
    job = SessionJob(
        api.api_url,
        api.token,
        opts.request.abr,
        opts.request.decode,
        timeout_s,
        (opts.request.out / "progress").resolve(),
        socket.gethostname(),
        opts.cluster.concurrency,
        opts.cluster.host_limit,
        new_topic(),
    )
    return await run_on_dask(opts.cluster, specs, job, faults, opts.request.show_progress)


def _choose(
    titles: list[Title], wanted: str | None, catalog: bool, live: str | None
) -> list[Title]:
    if live is not None:
        return [find_channel(titles, live)]
    titles = [t for t in titles if not t.live]  # a channel is watched with --live
    if wanted is not None:
        match = [t for t in titles if t.video_id == wanted]
        if not match:
            known = ", ".join(t.video_id for t in titles)
            raise QaInputError(f"--title {wanted}: no READY title with that id (READY: {known})")
        return match
    return titles if catalog else titles[:1]


async def _edge(api: BackendApi, title: Title) -> tuple[str, int]:
    """The edge the API's signed URLs point at: each session's shaper connects there."""
    url = urlsplit((await api.playback_info(title.video_id)).dash_url)
    return url.hostname or "127.0.0.1", url.port or 80
