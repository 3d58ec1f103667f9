"""The HLS-TS set (`ts/`): the encoded CMAF rungs remuxed, without re-encoding, into MPEG-TS
segments for players that do not take fMP4, AES-128 encrypted when the title has a key."""

from __future__ import annotations

from pathlib import Path

from backend_stub.media.encryption import hls_aes128_args
from backend_stub.media.ffmpeg import ffmpeg_prefix, run


def package_hls_ts(
    out: Path,
    joined: list[Path],
    n: int,
    languages: tuple[str, ...],
    seg: int,
    content_key: tuple[str, str] | None,
    key_uri: str,
) -> None:
    """Remux (no re-encode) the CMAF rungs into MPEG-TS; every variant is muxed with the
    same PIDs (video + the first audio track), so a player can switch by concatenating TS
    segments too. Further audio tracks become audio-only TS renditions `ts/a{k}/` in an
    EXT-X-MEDIA group whose first entry, without URI, is the audio muxed in the variants
    (the classic HLS layout, playable by players that know no alternate audio). With a key,
    all segments are AES-128 encrypted by ffmpeg's HLS muxer."""
    ts = out / "ts"
    ts.mkdir(exist_ok=True)
    has_audio = bool(languages)
    stream_map = [f"v:{i},a:{i}" if has_audio else f"v:{i}" for i in range(n)]
    for i in range(n):
        (ts / f"r{i}").mkdir(exist_ok=True)
    with hls_aes128_args(out, content_key, key_uri) as encrypt:
        hls = [
            "-c", "copy", "-f", "hls", "-hls_time", str(seg), "-hls_playlist_type", "vod",
            "-hls_segment_type", "mpegts", "-mpegts_start_pid", "0x100", *encrypt,
        ]  # fmt: skip
        cmd = ffmpeg_prefix()
        for path in joined[: n + 1]:
            cmd += ["-i", str(path)]
        for i in range(n):
            cmd += ["-map", f"{i}:v"]
            if has_audio:
                cmd += ["-map", f"{n}:a"]
        cmd += [
            *hls,
            "-hls_segment_filename",
            str(ts / "r%v" / "seg-%05d.ts"),
            "-master_pl_name",
            "master.m3u8",
            "-var_stream_map",
            " ".join(stream_map),
            str(ts / "r%v" / "index.m3u8"),
        ]
        run(cmd, "ffmpeg HLS-TS remux")
        for k in range(1, len(languages)):
            (ts / f"a{k}").mkdir(exist_ok=True)
            run(
                [
                    *ffmpeg_prefix(), "-i", str(joined[n + k]),
                    "-map", "0:a", *hls,
                    "-hls_segment_filename", str(ts / f"a{k}" / "seg-%05d.ts"),
                    str(ts / f"a{k}" / "index.m3u8"),
                ],
                f"ffmpeg HLS-TS remux of audio track {languages[k]!r}",
            )  # fmt: skip
    if len(languages) > 1:
        master = ts / "master.m3u8"
        master.write_text(_with_ts_audio_group(master.read_text(), languages))


def _with_ts_audio_group(master: str, languages: tuple[str, ...]) -> str:
    """Add the alternate audio group to ffmpeg's TS master playlist."""
    media = [
        f'#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="{lang}",LANGUAGE="{lang}",'
        f"DEFAULT={'YES' if k == 0 else 'NO'},AUTOSELECT=YES"
        + (f',URI="a{k}/index.m3u8"' if k else "")
        for k, lang in enumerate(languages)
    ]
    lines = master.splitlines()
    at = next(i for i, ln in enumerate(lines) if ln.startswith("#EXT-X-STREAM-INF"))
    lines[at:at] = media
    lines = [ln + ',AUDIO="aud"' if ln.startswith("#EXT-X-STREAM-INF") else ln for ln in lines]
    return "\n".join(lines) + "\n"
