"""`streamlab play [URL]`: the 10-foot Qt player; `--headless` plays a URL and prints QoE JSON.

With no URL the window opens the catalog of `streamlab serve` (found through `--api` or
`DATA_DIR/serve.json`); with a URL it plays that HLS or DASH manifest directly. Headless,
libmpv decodes with no window (`vo=null`); `--no-decode` counts bytes instead and the
session's real-time playout clock stands in for the decoder. `--trace FILE` puts a
trace-shaped access link (the QA harness's, `emulator.shaper`) between the player and the
backend's edge or the URL's host: the real player on a lab trace.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from abr.manifests import ManifestError
from abr.registry import PROFILES, AlgorithmSpecError, resolve
from emulator.shaper import shaped_link_in_thread
from player.api import DEVICE_TYPES
from player.engine import CountingSink, PlaybackEngine
from player.mpv_sink import MpvSink
from player.routing import Address, ReroutingTransport
from streamlab.errors import UsageError
from traces.errors import TraceError
from traces.load import load_trace


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("play", help="play an HLS or DASH URL")
    p.add_argument("url", nargs="?", help="an HLS or DASH URL (default: the backend's catalog)")
    p.add_argument("--api", help="backend API URL (default: from DATA_DIR/serve.json)")
    p.add_argument("--data-dir", type=Path, default=Path("streamlab-data"))
    p.add_argument("--username", default="demo")
    p.add_argument("--password", default="demo")
    p.add_argument(
        "--device-type",
        default="desktop",
        type=str.lower,  # SmartTV, Desktop, Mobile as well as the API's spelling
        choices=DEVICE_TYPES,
        help="what the backend caps the ladder for",
    )
    p.add_argument("--fullscreen", action="store_true")
    p.add_argument("--http-proxy", metavar="URL", help="send every request through this proxy")
    p.add_argument(
        "--trace",
        type=Path,
        metavar="FILE",
        help="play through a link shaped by this network trace (any format the lab reads), "
        "to the backend's edge or the URL's host; plain http only",
    )
    p.add_argument(
        "--packaging",
        choices=("dash", "hls", "hls-ts"),
        default="dash",
        help="which of a catalog title's packagings to play (default dash: CMAF with ClearKey)",
    )
    p.add_argument("--abr", default="streamlab", help="algorithm name or package.module:Class")
    p.add_argument("--headless", action="store_true", help="no window")
    p.add_argument("--no-decode", action="store_true", help="count bytes instead of decoding")
    p.add_argument("--stop-after", type=float, default=None, metavar="SECONDS")
    p.add_argument("--json", action="store_true", help="print the session's QoE as JSON")
    p.set_defaults(func=run)


async def _play(args: argparse.Namespace, routes: Mapping[Address, Address]) -> dict[str, object]:
    profile = PROFILES["default"]
    algorithm = resolve(args.abr, profile)()
    sink: CountingSink | MpvSink = CountingSink() if args.no_decode else MpvSink()
    timeout = httpx.Timeout(10.0, connect=5.0)
    started = time.monotonic()
    try:
        network: httpx.AsyncBaseTransport = httpx.AsyncHTTPTransport(proxy=args.http_proxy)
        if routes:
            network = ReroutingTransport(routes, network)
        async with httpx.AsyncClient(
            timeout=timeout, follow_redirects=True, transport=network
        ) as client:
            engine = PlaybackEngine(args.url, algorithm, sink, client, profile.session)
            result = await engine.run(stop_after_s=args.stop_after)
        # Without a decoder: playback start, from the start of the command as with one.
        ttff = engine.started_at - started + result.summary.startup_s
        if isinstance(sink, MpvSink):
            if args.stop_after is None:
                sink.wait_until_played(timeout_s=30.0)
            ttff = math.nan if sink.first_frame_at is None else sink.first_frame_at - started
    finally:
        if isinstance(sink, MpvSink):
            sink.close()
    row: dict[str, object] = {"url": args.url, "abr": args.abr}
    row.update(result.summary.as_dict())
    row["ttff_s"] = ttff  # from the start of the command: manifest, first segment, decode
    row["decoded"] = not args.no_decode
    row["renditions_played"] = sorted({q for _, q in result.metrics.buffered})
    row["error"] = result.failure
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}


def _window(args: argparse.Namespace, routes: Mapping[Address, Address]) -> int:
    from player.ui.app import PlayerOptions, run  # Qt only when a window is wanted

    # Each start's time to first frame and its breakdown, and playback trouble, on stderr.
    logging.basicConfig(level=logging.INFO, format="streamlab play: %(message)s")

    api = args.api
    if args.url is None and api is None:
        api = _served(args.data_dir, "api")
    try:
        resolve(args.abr, PROFILES["default"])
    except AlgorithmSpecError as exc:
        raise UsageError(str(exc)) from exc
    options = PlayerOptions(
        api_url=None if args.url else api,
        url=args.url,
        username=args.username,
        password=args.password,
        device_type=args.device_type,
        abr=args.abr,
        fullscreen=args.fullscreen,
        packaging=args.packaging,
        http_proxy=args.http_proxy,
        routes=routes,
    )
    return run(options)


def _served(data_dir: Path, name: str, instead: str = "pass --api URL or a manifest URL") -> str:
    """A URL `streamlab serve` wrote to DATA_DIR/serve.json ("api" or "edge")."""
    serve_json = data_dir / "serve.json"
    try:
        return str(json.loads(serve_json.read_text())[name])
    except (OSError, ValueError, KeyError) as exc:
        raise UsageError(
            f"no URL and no backend: {serve_json} is missing or unreadable ({exc}); "
            f"start `streamlab serve` or {instead}"
        ) from exc


def run(args: argparse.Namespace) -> int:
    if args.headless and args.url is None:
        raise UsageError("--headless plays a URL: give the manifest URL")
    if args.trace is None:
        return _run(args, {})
    if args.http_proxy:
        raise UsageError("--trace starts its own shaped link: leave out --http-proxy")
    if args.url is None and args.api:
        raise UsageError(
            "--trace relays the catalog to the backend's edge, which --api does not name: "
            "use --data-dir (its serve.json) instead, or give a manifest URL"
        )
    try:
        trace = load_trace(args.trace)
    except TraceError as exc:
        raise UsageError(str(exc)) from exc
    # The link relays bytes to one host: the URL's, or the edge, which also serves /api/.
    where = args.url or _served(args.data_dir, "edge", instead="give a manifest URL")
    target = urlsplit(where)
    if target.scheme != "http" or target.hostname is None:
        raise UsageError(
            f"--trace needs an http:// URL (the link relays bytes, so it cannot shape TLS): {where}"
        )
    hosts = [(target.hostname, target.port or 80)]
    if args.url is None:
        api = urlsplit(_served(args.data_dir, "api"))
        hosts.append((api.hostname or "127.0.0.1", api.port or 80))
    with shaped_link_in_thread(trace, *hosts[0]) as port:
        print(
            f"streamlab play: through a link shaped by {args.trace} (mean "
            f"{trace.mean_bandwidth_kbps:.0f} kbit/s, repeating every "
            f"{trace.total_duration_s:.0f} s) on 127.0.0.1:{port} to {target.netloc}",
            file=sys.stderr,
        )
        return _run(args, {host: ("127.0.0.1", port) for host in hosts})


def _run(args: argparse.Namespace, routes: Mapping[Address, Address]) -> int:
    """Play as asked; requests for the hosts in `routes` connect to their shaped link."""
    if not args.headless:
        return _window(args, routes)
    try:
        row = asyncio.run(_play(args, routes))
    except (ManifestError, AlgorithmSpecError) as exc:
        raise UsageError(str(exc)) from exc
    print(json.dumps(row) if args.json else "\n".join(f"{k}: {v}" for k, v in row.items()))
    return 0 if row["error"] is None else 1
