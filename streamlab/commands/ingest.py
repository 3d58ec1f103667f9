"""`streamlab ingest FILE --title …`: resumable upload through the API, then wait for READY."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path

import httpx
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

from backend_stub.client import ApiClient, IngestRequest, sha256_file
from backend_stub.errors import BackendError

_TIME = re.compile(r"^(?:(\d+):)?(\d+):(\d+(?:\.\d+)?)$|^(\d+(?:\.\d+)?)$")


def parse_time(text: str) -> float:
    """'0:05', '1:02:03', '35' or '12.5' → seconds."""
    m = _TIME.match(text.strip())
    if not m:
        raise BackendError(f"{text!r} is not a time like 0:05, 1:02:03 or 35")
    if m.group(4) is not None:
        return float(m.group(4))
    return int(m.group(1) or 0) * 3600 + int(m.group(2)) * 60 + float(m.group(3))


def parse_intro(text: str) -> tuple[float, float]:
    start, sep, end = text.partition("-")
    if not sep:
        raise BackendError(f"--intro {text!r} is not START-END like 0:05-0:35")
    a, b = parse_time(start), parse_time(end)
    if b <= a:
        raise BackendError(f"--intro {text!r}: the end must come after the start")
    return a, b


def parse_language_files(
    option: str, items: Sequence[str], shape: str
) -> tuple[tuple[str, Path], ...]:
    """`--subtitles en=a.vtt`, `--audio fr=b.m4a`: (language, existing file) pairs."""
    out: list[tuple[str, Path]] = []
    for item in items:
        lang, sep, file = item.partition("=")
        if not sep or not lang or not file:
            raise BackendError(f"{option} {item!r} is not {shape}")
        path = Path(file)
        if not path.is_file():
            raise BackendError(f"{option} {item!r}: {path} does not exist")
        if lang in (seen := [known for known, _ in out]):
            raise BackendError(f"{option} {item!r}: language {lang!r} given twice ({seen})")
        out.append((lang, path))
    return tuple(out)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", type=Path, help="source video")
    p.add_argument("--title", required=True)
    p.add_argument("--subtitles", action="append", default=[], metavar="LANG=FILE.vtt")
    p.add_argument(
        "--audio",
        action="append",
        default=[],
        metavar="LANG=FILE",
        help="extra audio track from a separate file, e.g. fr=movie.fr.m4a (repeatable)",
    )
    p.add_argument(
        "--intro", metavar="START-END", help="intro span for 'skip intro', e.g. 0:05-0:35"
    )
    p.add_argument("--genre", default="")
    p.add_argument("--tag", action="append", default=[], help="content tag (repeatable)")
    p.add_argument("--hls-ts", action="store_true", help="also package HLS with MPEG-TS segments")
    p.add_argument(
        "--encrypt", action="store_true", help="CENC (ClearKey) + HLS AES-128 for this title"
    )
    p.add_argument(
        "--drm-scheme",
        choices=("cenc", "cbcs"),
        help="with --encrypt: the CMAF set's scheme (default: the server's, normally cenc)",
    )
    p.add_argument(
        "--per-title", action="store_true", help="scale the ladder by a complexity probe"
    )
    p.add_argument(
        "--data-dir",
        type=Path,
        default=Path("streamlab-data"),
        help="where `streamlab serve` wrote serve.json (default ./streamlab-data)",
    )
    p.add_argument("--api", help="API base URL (default: read DATA_DIR/serve.json)")
    p.add_argument("--username", default="demo")
    p.add_argument("--password", default="demo")
    p.add_argument("--chunk-mib", type=int, default=8, help="upload chunk size in MiB (default 8)")
    p.add_argument(
        "--no-wait", action="store_true", help="return once uploaded, without waiting for READY"
    )


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "ingest", help="upload a video to `streamlab serve` and wait until READY"
    )
    add_arguments(p)
    p.set_defaults(func=run)


def _api_url(args: argparse.Namespace) -> str:
    if args.api:
        return str(args.api)
    path = args.data_dir / "serve.json"
    try:
        return str(json.loads(path.read_text())["api"])
    except FileNotFoundError as exc:
        raise BackendError(
            f"{path} not found: is `streamlab serve --data-dir {args.data_dir}` running? "
            "(or pass --api URL)"
        ) from exc


def _resume_state(args: argparse.Namespace) -> Path:
    return Path(args.data_dir) / "ingest-uploads.json"


def ingest(args: argparse.Namespace) -> int:
    if not args.file.is_file():
        raise BackendError(f"{args.file} does not exist or is not a file")
    if args.chunk_mib < 1:
        raise BackendError(f"--chunk-mib must be at least 1, got {args.chunk_mib}")
    req = IngestRequest(
        path=args.file,
        title=args.title,
        genre=args.genre,
        tags=tuple(args.tag),
        intro=parse_intro(args.intro) if args.intro else None,
        subtitles=parse_language_files("--subtitles", args.subtitles, "LANG=FILE.vtt"),
        audio=parse_language_files("--audio", args.audio, "LANG=FILE (an audio file)"),
        options=tuple(
            (k, True)
            for k, on in (
                ("hls_ts", args.hls_ts),
                ("per_title", args.per_title),
                ("encrypt", args.encrypt),
            )
            if on
        )
        + ((("drm_scheme", args.drm_scheme),) if args.drm_scheme else ()),
    )
    client = ApiClient(_api_url(args))
    try:
        client.login(args.username, args.password)
        digest = sha256_file(req.path)
        # Remember open uploads by content hash: re-running after a cut resumes the same
        # upload from the server's offset instead of starting over.
        state_path = _resume_state(args)
        state: dict[str, str] = json.loads(state_path.read_text()) if state_path.exists() else {}
        upload_id = state.get(digest)
        if upload_id is not None:
            try:
                client.offset(upload_id)
            except BackendError:
                upload_id = None
        if upload_id is None:
            upload_id = client.create_upload(req, digest)
            state[digest] = upload_id
            state_path.parent.mkdir(parents=True, exist_ok=True)
            state_path.write_text(json.dumps(state))
        size = req.path.stat().st_size
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            transient=False,
        ) as progress:
            task = progress.add_task(
                f"upload {req.path.name}", total=size, completed=client.offset(upload_id)
            )
            client.send(
                upload_id,
                req.path,
                args.chunk_mib * 1024 * 1024,
                on_progress=lambda done, _total: progress.update(task, completed=done),
            )
            video_id = client.complete(upload_id)
            state.pop(digest, None)
            state_path.write_text(json.dumps(state))
            if args.no_wait:
                print(json.dumps({"video_id": video_id, "status": "PENDING"}))
                return 0
        # A spinner, not a bar: the worker reports a state, not a fraction.
        with Console(stderr=True).status("transcode: PENDING") as status:
            video = client.wait_ready(
                video_id, on_status=lambda s: status.update(f"transcode: {s}")
            )
        print(
            json.dumps(
                {
                    "video_id": video_id,
                    "status": video["status"],
                    "duration_seconds": video["duration_seconds"],
                }
            )
        )
        return 0
    finally:
        client.close()


def run(args: argparse.Namespace) -> int:
    try:
        return ingest(args)
    except BackendError as exc:
        print(f"streamlab ingest: error: {exc}", file=sys.stderr)
        return 2
    except httpx.HTTPError as exc:
        # Connection refused, timeouts, a cut: re-running the same command resumes.
        try:
            where = str(exc.request.url)
        except RuntimeError:  # httpx raises when the error carries no request
            where = "the API"
        print(
            f"streamlab ingest: error: talking to {where}: {exc or type(exc).__name__}; "
            "run the same command again to resume",
            file=sys.stderr,
        )
        return 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="streamlab ingest")
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
