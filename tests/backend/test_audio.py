"""`streamlab ingest FILE --audio LANG=FILE …`: separate audio files become language-tagged
audio tracks in the DASH MPD and the HLS master; a file that is not audio is refused."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest

from abr.manifests import media_playlist_urls, parse_dash, parse_hls
from backend.helpers import REPO, Stack


def _ingest_cli(stack: Stack, *args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "streamlab.commands.ingest", *args, "--api", stack.api,
         "--username", "alice", "--password", "alice-pw", "--data-dir", str(data_dir)],
        capture_output=True, text=True, cwd=REPO, timeout=180,
    )  # fmt: skip


def test_separate_audio_files_become_language_tracks_in_both_manifests(
    stack: Stack, clip: Path, tones: dict[str, Path], alice: dict[str, str], tmp_path: Path
) -> None:
    proc = _ingest_cli(
        stack, str(clip), "--title", "Dubbed Pattern",
        "--audio", f"fr={tones['fr']}", "--audio", f"de={tones['de']}", data_dir=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    video_id = json.loads(proc.stdout.strip().splitlines()[-1])["video_id"]
    m = httpx.get(f"{stack.api}/api/v1/videos/{video_id}/manifest", headers=alice).json()
    # The source's own (untagged) track first and default, then the files in the order given.
    assert [(t["language"], t["default"]) for t in m["audio_tracks"]] == [
        ("und", True),
        ("fr", False),
        ("de", False),
    ]
    master_url = m["master_playlist_url"]
    master = httpx.get(master_url).text
    playlists = {u: httpx.get(u).text for u in media_playlist_urls(master, master_url)}
    hls = parse_hls(master, master_url, playlists)
    assert [t.language for t in hls.audio_tracks] == ["und", "fr", "de"]
    mpd_url = m["dash_manifest_url"]
    dash = parse_dash(httpx.get(mpd_url).text, mpd_url)
    assert sorted(t.language or "und" for t in dash.audio_tracks) == ["de", "fr", "und"]
    # The French track plays, and is cut to the 10 s picture although the file ran 12 s.
    fr = next(t for t in hls.audio_tracks if t.language == "fr")
    assert fr.url is not None
    fr_playlist = httpx.get(fr.url).text
    total = sum(
        float(ln[8:].rstrip(",")) for ln in fr_playlist.splitlines() if ln.startswith("#EXTINF:")
    )
    assert 9.5 <= total <= 10.5, fr_playlist
    # The HLS-TS set (this stack packages it for every title): the variants carry the first
    # track muxed in; the others are audio-only TS renditions of one EXT-X-MEDIA group.
    ts_url = m["hls_ts_playlist_url"]
    ts_master = httpx.get(ts_url).text
    ts_playlists = {u: httpx.get(u).text for u in media_playlist_urls(ts_master, ts_url)}
    ts = parse_hls(ts_master, ts_url, ts_playlists)
    assert [(t.language, t.url is None) for t in ts.audio_tracks] == [
        ("und", True),
        ("fr", False),
        ("de", False),
    ]
    de = ts.audio_tracks[2]
    assert de.url is not None
    segment = urljoin(de.url, "seg-00001.ts")
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-of", "json", "-i", segment],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert [st["codec_type"] for st in json.loads(probe.stdout)["streams"]] == ["audio"]


@pytest.mark.parametrize("kind", ["text", "video-only"])
def test_a_file_that_is_not_audio_is_refused_at_ingest_naming_it(
    stack: Stack, clip: Path, tmp_path: Path, kind: str
) -> None:
    if kind == "text":
        bad = tmp_path / "commentary.m4a"
        bad.write_text("these are my notes, not a recording\n")
        expected = "audio for 'it' (commentary.m4a): ffprobe cannot read it: "
    else:
        bad = tmp_path / "silent.mp4"
        subprocess.run(
            ["ffmpeg", "-v", "error", "-y", "-i", str(clip), "-an", "-c", "copy", str(bad)],
            check=True,
        )
        expected = "audio for 'it' (silent.mp4): no audio stream in it (ffprobe found video)"
    proc = _ingest_cli(
        stack, str(clip), "--title", "Bad Dub", "--audio", f"it={bad}", data_dir=tmp_path
    )
    assert proc.returncode == 2
    assert "uploading audio track it=" in proc.stderr and expected in proc.stderr, proc.stderr
