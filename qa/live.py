"""`qa --live CHANNEL`: which channel the sessions watch, and what a live run checks.

A live session joins the backend's channel at the live edge through its own shaped link, as a
title's session starts a title, and stops after a fixed time (`--live-seconds`): a channel
has no end and no progress. Its latency (UTC now minus when the media at the playhead was
live, `Session.live_latency_s`) is gated by `latency_p95_s`, by default the session's target
latency plus 1 s.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Sequence

import httpx

from abr.manifests import ManifestError
from abr.registry import Profile
from backend_stub.config import LIVE_ID_PREFIX
from backend_stub.errors import ConfigError
from backend_stub.live.encoder import ChannelSpec
from player.api import BackendApi, Title
from player.manifest_loader import load_manifest
from qa.errors import QaInputError

# The live goal of issue 16: latency p95 within the target plus this.
LATENCY_MARGIN_S = 1.0
# A session whose channel is not playing within this (join, first segment) after its time
# is up has failed: the same slack a title's session gets beyond its length.
STOP_SLACK_S = 60.0
# How often a channel too young to join is looked at again.
JOINABLE_POLL_S = 0.5
# Seconds of DVR window beyond a session's length, on the backend qa starts: every segment a
# session played is still listed when it ends, so `--fidelity` can read its size.
DVR_MARGIN_S = 30


def check_channel_name(name: str) -> str:
    """The channel's video id (`live-NAME`); QaInputError when NAME cannot be a channel."""
    if "=" in name:
        raise QaInputError(f"--live {name!r}: a channel name, not NAME=SOURCE")
    try:
        return ChannelSpec.parse(name).video_id
    except ConfigError as exc:
        raise QaInputError(str(exc).replace("--live-channel", "--live", 1)) from exc


def check_live_seconds(seconds: float) -> None:
    if not 0 < seconds <= 6 * 3600:
        raise QaInputError(f"--live-seconds must be in (0, 21600], got {seconds:g}")


def dvr_seconds(live_seconds: float) -> int:
    """The DVR depth qa starts its backend with: serve's default 60 s, or enough to list a
    whole session's segments at its end."""
    return max(60, math.ceil(live_seconds) + DVR_MARGIN_S)


def find_channel(titles: Sequence[Title], name: str) -> Title:
    """The READY channel `live-NAME` among the backend's titles."""
    video_id = check_channel_name(name)
    for title in titles:
        if title.video_id == video_id and title.live:
            return title
    channels = [t.video_id.removeprefix(LIVE_ID_PREFIX) for t in titles if t.live]
    on_air = ", ".join(channels) if channels else "none"
    raise QaInputError(
        f"--live {name}: the backend has no live channel {video_id!r} on the air "
        f"(channels READY: {on_air})"
    )


def segment_seconds(channel: Title) -> float:
    if channel.target_segment_s is None or not channel.target_segment_s > 0:
        raise QaInputError(f"backend: channel {channel.video_id} does not say its segment length")
    return channel.target_segment_s


def target_latency_s(profile: Profile, channel: Title) -> float:
    """The latency a session of `profile` joins this channel at and holds."""
    return profile.session.live_target_s(segment_seconds(channel))


def joinable_media_s(profile: Profile, channel: Title) -> float:
    """Media a channel must list before a session joins it: the target latency behind the
    edge and the segment in production."""
    return target_latency_s(profile, channel) + segment_seconds(channel)


def default_latency_limit_s(profile: Profile, channel: Title) -> float:
    return target_latency_s(profile, channel) + LATENCY_MARGIN_S


async def wait_until_joinable(
    api: BackendApi, channel: Title, media_s: float, timeout_s: float
) -> None:
    """Wait until the channel lists `media_s` seconds of media. A channel READY since its
    first segments (the backend qa has just started) has less than the target latency behind
    its edge: its first viewers would join at the window's start on a thin buffer and stall,
    which says nothing about the network or the player."""
    deadline = time.monotonic() + timeout_s
    listed = 0.0
    async with httpx.AsyncClient(timeout=10.0) as client:
        while True:
            url = (await api.playback_info(channel.video_id)).dash_url
            try:
                listed = (await load_manifest(client, url, time.time)).presentation.duration_s
            except (ManifestError, httpx.HTTPError):
                listed = 0.0  # not listing anything yet: wait as for a short window
            if listed >= media_s:
                return
            if time.monotonic() > deadline:
                raise QaInputError(
                    f"--live: channel {channel.video_id} lists {listed:.0f} s of media after "
                    f"{timeout_s:.0f} s, not the {media_s:.0f} s a viewer joins behind live"
                )
            await asyncio.sleep(JOINABLE_POLL_S)
