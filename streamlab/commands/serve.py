"""`streamlab serve`: the reference backend (origin API, transcode workers, nginx edge + shield)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from backend_stub.config import DEFAULT_DEVICE_CAPS
from backend_stub.errors import BackendError
from backend_stub.live.encoder import ChannelSpec
from backend_stub.serve import ServeInfo, ServeOptions, serve

# The channel --demo-catalog adds: the test pattern with a clock.
DEMO_CHANNEL = "clock"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data-dir",
        type=Path,
        default=Path("streamlab-data"),
        help="database, object store, caches and logs (default ./streamlab-data)",
    )
    p.add_argument(
        "--api-port", type=int, default=8080, help="origin/API port (0 = pick a free one)"
    )
    p.add_argument(
        "--edge-port", type=int, default=8081, help="edge nginx port (0 = pick a free one)"
    )
    p.add_argument(
        "--shield-port", type=int, default=8082, help="origin-shield nginx port (0 = free one)"
    )
    p.add_argument("--workers", type=int, default=2, help="transcode worker processes (default 2)")
    p.add_argument(
        "--database-url",
        default="",
        help="SQLAlchemy URL, e.g. postgresql://user:pw@host/db (default: SQLite in the data dir)",
    )
    p.add_argument(
        "--store-url",
        default="",
        help="object store: file://DIR or s3://BUCKET/PREFIX?endpoint=URL&region=R, credentials "
        "from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (default: DATA_DIR/store)",
    )
    p.add_argument(
        "--demo-catalog",
        action="store_true",
        help="seed demo titles generated with ffmpeg and a demo/demo user",
    )
    p.add_argument(
        "--demo-seconds", type=int, default=30, help="length of each demo title (default 30)"
    )
    p.add_argument(
        "--preset", default="veryfast", help="x264 preset for the ladder (default veryfast)"
    )
    p.add_argument(
        "--segment-seconds", type=int, default=4, help="segment length, 2..6 (default 4)"
    )
    p.add_argument(
        "--max-height", type=int, default=2160, help="tallest rung to produce (default 2160)"
    )
    p.add_argument("--hls-ts", action="store_true", help="also package HLS with MPEG-TS segments")
    p.add_argument(
        "--encrypt",
        action="store_true",
        help="encrypt every new title and every live channel: CENC (ClearKey) for CMAF, AES-128 for HLS-TS",
    )
    p.add_argument(
        "--drm-scheme",
        choices=("cenc", "cbcs"),
        default="cenc",
        help="common-encryption scheme of the CMAF set when encrypting (default cenc)",
    )
    p.add_argument(
        "--per-title", action="store_true", help="scale each title's ladder by a complexity probe"
    )
    p.add_argument(
        "--device-cap",
        action="append",
        default=[],
        metavar="TYPE=HEIGHT",
        help="cap a device type's ladder, e.g. mobile=720 (repeatable; adds new types too)",
    )
    p.add_argument(
        "--visibility-timeout",
        type=float,
        default=60.0,
        help="seconds a worker's job lease lasts without a heartbeat (default 60)",
    )
    p.add_argument(
        "--live-channel",
        action="append",
        default=[],
        metavar="NAME[=SOURCE]",
        help="run a live channel (repeatable): SOURCE, a media file, is played in a loop; "
        "without it a test pattern with the wall clock burnt in (--demo-catalog adds one)",
    )
    p.add_argument(
        "--live-segment-seconds",
        type=int,
        default=2,
        help="live segment length, 2..6 (default 2)",
    )
    p.add_argument(
        "--live-dvr-seconds",
        type=int,
        default=60,
        help="how far back a live channel can be played, and when its segments are deleted "
        "(default 60; at least 3 segments)",
    )
    p.add_argument(
        "--debug-endpoints",
        action="store_true",
        help="answer /api/v1/debug/origin-fetches on the origin (never through the edge); "
        "off by default, since it names every title's objects",
    )


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("serve", help="run the reference backend and CDN on 127.0.0.1")
    add_arguments(p)
    p.set_defaults(func=run)


def options_from_args(args: argparse.Namespace) -> ServeOptions:
    for name in ("api_port", "edge_port", "shield_port"):
        value = getattr(args, name)
        if not 0 <= value <= 65535:
            raise BackendError(
                f"--{name.replace('_', '-')} {value} is not a port number (0..65535)"
            )
    if not 2 <= args.segment_seconds <= 6:
        raise BackendError(
            f"--segment-seconds must be 2..6 (GOP-aligned segments), got {args.segment_seconds}"
        )
    if args.max_height < 144:
        raise BackendError(f"--max-height must be at least 144, got {args.max_height}")
    if not 2 <= args.demo_seconds <= 3600:
        raise BackendError(f"--demo-seconds must be 2..3600, got {args.demo_seconds}")
    if args.workers < 1:
        raise BackendError(f"--workers must be at least 1, got {args.workers}")
    if not 2 <= args.live_segment_seconds <= 6:
        raise BackendError(
            f"--live-segment-seconds must be 2..6 (live playlists are cached for half a "
            f"segment, in whole seconds), got {args.live_segment_seconds}"
        )
    if not 3 * args.live_segment_seconds <= args.live_dvr_seconds <= 6 * 3600:
        raise BackendError(
            f"--live-dvr-seconds must be 3 segments ({3 * args.live_segment_seconds}) to "
            f"21600, got {args.live_dvr_seconds}"
        )
    channels = [ChannelSpec.parse(text) for text in args.live_channel]
    if args.demo_catalog and not channels:
        channels.append(ChannelSpec(DEMO_CHANNEL))
    names = [c.name for c in channels]
    if len(set(names)) < len(names):
        raise BackendError(f"--live-channel names must differ, got {names}")
    caps = dict(DEFAULT_DEVICE_CAPS)
    for item in args.device_cap:
        name, _, height = item.partition("=")
        if not name or not height.isdigit() or int(height) < 144:
            raise BackendError(
                f"--device-cap {item!r} is not TYPE=HEIGHT with HEIGHT >= 144 (e.g. mobile=720)"
            )
        caps[name.strip().lower()] = int(height)
    return ServeOptions(
        data_dir=args.data_dir,
        api_port=args.api_port,
        edge_port=args.edge_port,
        shield_port=args.shield_port,
        workers=args.workers,
        demo_catalog=args.demo_catalog,
        demo_seconds=args.demo_seconds,
        database_url=args.database_url,
        live_channels=channels,
        config_overrides={
            "x264_preset": args.preset,
            "segment_seconds": args.segment_seconds,
            "max_height": args.max_height,
            "hls_ts": args.hls_ts,
            "per_title_ladder": args.per_title,
            "encrypt": args.encrypt,
            "drm_scheme": args.drm_scheme,
            "store_url": args.store_url,
            "visibility_timeout_seconds": args.visibility_timeout,
            "device_caps": caps,
            "debug_endpoints": args.debug_endpoints,
            "live_segment_seconds": args.live_segment_seconds,
            "live_dvr_seconds": args.live_dvr_seconds,
        },
    )


def run(args: argparse.Namespace) -> int:
    def announce(info: ServeInfo) -> None:
        print(info.to_json(), flush=True)
        print(
            f"streamlab serve: up; data in {Path(args.data_dir).resolve()}; Ctrl-C stops",
            file=sys.stderr,
        )

    try:
        return serve(options_from_args(args), announce)
    except BackendError as exc:
        print(f"streamlab serve: error: {exc}", file=sys.stderr)
        return 2


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point usable without the `streamlab` dispatcher (tests, scripts)."""
    parser = argparse.ArgumentParser(prog="streamlab serve")
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
