"""Common encryption of a live channel's segments, one batch per publishing pass.

ffmpeg 5.1's dash muxer takes the mp4 muxer's `encryption_*` options but writes fragments
without `senc`/`saiz`/`saio` (the per-sample IVs), so no player can decrypt them (tried:
ffmpeg's own demuxer refuses them, "Incorrect number of samples in encryption info"). So
the encoder writes clear CMAF into its private run directory, and each new segment, with
its track's init segment in front, goes through Shaka Packager (the binary VOD encryption
uses) as a one-segment file: packager keeps the media times (`tfdt`) and writes the
`senc` boxes; its init segment (`encv`/`enca` + `tenc` + a common PSSH) serves every
segment of a track and key, so the first one of a run is published as the run's init. For
that, cbcs needs the same constant IV in every packager run (it lives in `tenc`), while cenc
must not have one: every run would restart the AES-CTR counter from it and reuse keystream;
its IVs are random per run and carried per sample in `senc`. One packager process per pass encrypts every new segment of every track (~70 ms)."""

from __future__ import annotations

import base64
import hashlib
import shutil
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from backend_stub.errors import TranscodeError
from backend_stub.media.encryption import PROTECTION_SCHEMES, packager_binary
from backend_stub.media.ffmpeg import run

# W3C "Common PSSH box format": the system every CENC player reads the key ids from.
COMMON_SYSTEM_ID = bytes.fromhex("1077efecc0b24d02ace33c1e52e2fb4b")
# Longer than any live segment: packager must never cut one input into two outputs.
_NO_SPLIT_SECONDS = "3600"


@dataclass(frozen=True)
class ChannelKey:
    kid: str  # 32 hex digits
    key: str  # 32 hex digits
    scheme: str  # cenc or cbcs

    def __post_init__(self) -> None:
        if self.scheme not in PROTECTION_SCHEMES:
            raise ValueError(
                f"protection scheme {self.scheme!r} is not one of {PROTECTION_SCHEMES}"
            )

    @property
    def pssh_b64(self) -> str:
        """The common PSSH box (version 1, the key id, no data) as the MPD's cenc:pssh."""
        body = struct.pack(">B3x", 1) + COMMON_SYSTEM_ID + struct.pack(">I", 1)
        body += bytes.fromhex(self.kid) + struct.pack(">I", 0)
        return base64.b64encode(struct.pack(">I", 8 + len(body)) + b"pssh" + body).decode()

    @property
    def iv_args(self) -> list[str]:
        """cbcs: one constant IV per channel, derived from the key so it survives restarts
        (it is public anyway, in every init segment)."""
        if self.scheme != "cbcs":
            return []
        return ["--iv", hashlib.sha256(b"cbcs-iv" + bytes.fromhex(self.key)).hexdigest()[:32]]


@dataclass(frozen=True)
class ClearSegment:
    content_type: str  # video or audio
    init: Path  # the track's clear init segment in the run directory
    media: Path  # the clear media segment


@dataclass(frozen=True)
class EncryptedSegment:
    init: Path
    media: Path


def encrypt_segments(
    segments: Sequence[ClearSegment], key: ChannelKey, scratch: Path
) -> list[EncryptedSegment]:
    """Encrypt each segment with the channel's key into scratch (emptied first); the
    results are in the same order. Raises TranscodeError with packager's message."""
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    streams = []
    results = []
    for i, seg in enumerate(segments):
        joined = scratch / f"in-{i}.mp4"
        with joined.open("wb") as sink:
            sink.write(seg.init.read_bytes())
            sink.write(seg.media.read_bytes())
        streams.append(
            f"in={joined},stream={seg.content_type},init_segment={scratch}/init-{i}.m4s,"
            f"segment_template={scratch}/seg-{i}-$Number$.m4s"
        )
        results.append(EncryptedSegment(scratch / f"init-{i}.m4s", scratch / f"seg-{i}-1.m4s"))
    run(
        [
            packager_binary(),
            *streams,
            "--segment_duration",
            _NO_SPLIT_SECONDS,
            "--enable_raw_key_encryption",
            "--keys",
            f"label=:key_id={key.kid}:key={key.key}",
            "--protection_scheme",
            key.scheme,
            *key.iv_args,
            "--protection_systems",
            "CommonSystem",
            "--clear_lead",
            "0",
            "--quiet",
        ],
        "Shaka Packager (live segment encryption)",
        timeout=60,
    )
    for seg, out in zip(segments, results, strict=True):
        if not (out.init.is_file() and out.media.is_file()):
            raise TranscodeError(f"Shaka Packager wrote no encrypted segment for {seg.media}")
    return results
