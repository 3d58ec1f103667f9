"""The player's client for the backend API (`streamlab serve`): catalog, playback, progress, keys.

Async (httpx), one `httpx.AsyncClient` shared with the media downloads so connections are
reused. Errors carry what failed and where: `AuthError` when the token is missing, wrong or
expired (the UI asks the viewer to log in again), `ApiError` for anything else the API
refused or could not be reached for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

import api_paths as paths

DEVICE_TYPES = ("smarttv", "desktop", "web", "mobile", "tablet")


class ApiError(Exception):
    """The API refused a request or could not be reached; the message says which and where."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status  # None when no HTTP answer came back


class AuthError(ApiError):
    """401/403: the viewer's session is missing, expired or not allowed this."""


@dataclass(frozen=True)
class Title:
    video_id: str
    title: str
    duration_s: float
    genre: str = ""
    poster_url: str | None = None
    intro: tuple[float, float] | None = None
    status: str = "READY"  # or PENDING, TRANSCODING, FAILED
    live: bool = False  # a live channel: no duration, no progress, its own home row
    target_segment_s: float | None = None  # live: the channel's segment duration

    @property
    def ready(self) -> bool:
        return self.status == "READY"


@dataclass(frozen=True)
class ContinueItem:
    video_id: str
    title: str
    offset_s: float
    duration_s: float
    device_id: str


@dataclass(frozen=True)
class StoredProgress:
    """What the server keeps for the viewer and title after a report: the newest by
    `reported_at`, which is this report's position only when `applied`."""

    offset_s: float
    reported_at: float
    applied: bool


@dataclass(frozen=True)
class Subtitle:
    language: str
    url: str


@dataclass(frozen=True)
class PlaybackInfo:
    """What `GET /videos/{id}/manifest` answers: signed edge URLs and one playback session."""

    video_id: str
    title: str
    session_id: str
    duration_s: float
    hls_url: str
    dash_url: str
    hls_ts_url: str | None
    subtitles: tuple[Subtitle, ...] = ()
    intro: tuple[float, float] | None = None
    thumbnails_url: str | None = None
    poster_url: str | None = None
    drm: dict[str, Any] | None = None
    live: bool = False
    target_segment_s: float | None = None  # live: the channel's segment duration
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def encrypted(self) -> bool:
        return self.drm is not None


def _intro(value: Any) -> tuple[float, float] | None:
    if not value:
        return None
    return float(value["start_seconds"]), float(value["end_seconds"])


def _title(item: dict[str, Any]) -> Title:
    return Title(
        video_id=item["video_id"],
        title=item["title"],
        duration_s=float(item.get("duration_seconds") or 0.0),
        genre=item.get("genre") or "",
        poster_url=item.get("poster_url"),
        intro=_intro(item.get("intro")),
        status=item.get("status", "READY"),
        live=bool(item.get("live", False)),
        target_segment_s=_seconds(item.get("target_segment_seconds")),
    )


def _seconds(value: Any) -> float | None:
    return None if value is None else float(value)


class BackendApi:
    def __init__(
        self, api_url: str, client: httpx.AsyncClient, device_type: str = "desktop"
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.client = client
        self.device_type = device_type
        self.token: str | None = None

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    async def _request(self, method: str, path: str, auth: bool = True, **kwargs: Any) -> Any:
        url = path if path.startswith("http") else f"{self.api_url}{path}"
        # The token goes to the API only, never to the CDN with a media URL.
        headers = {**(self._headers() if auth else {}), **kwargs.pop("headers", {})}
        try:
            response = await self.client.request(method, url, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise ApiError(f"{method} {url}: {exc.__class__.__name__}: {exc}") from exc
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail", response.text)
            except ValueError:
                detail = response.text
            error = AuthError if response.status_code in (401, 403) else ApiError
            raise error(
                f"{method} {url}: HTTP {response.status_code}: {detail}", response.status_code
            )
        if response.headers.get("content-type", "").startswith("application/json"):
            return response.json()
        return response.content

    async def login(self, username: str, password: str) -> None:
        body = await self._request(
            "POST", paths.AUTH_TOKEN, json={"username": username, "password": password}
        )
        self.token = body["access_token"]

    async def titles(self) -> list[Title]:
        body = await self._request("GET", paths.VIDEOS)
        return [_title(item) for item in body["videos"]]

    async def continue_watching(self) -> list[ContinueItem]:
        body = await self._request("GET", paths.CONTINUE_WATCHING)
        return [
            ContinueItem(
                video_id=item["video_id"],
                title=item["title"],
                offset_s=float(item["offset_seconds"]),
                duration_s=float(item.get("duration_seconds") or 0.0),
                device_id=item.get("device_id") or "",
            )
            for item in body["items"]
        ]

    async def recommendations(self) -> list[str]:
        """Recommended video ids, best first."""
        body = await self._request("GET", paths.RECOMMENDATIONS)
        return [item["video_id"] for item in body["items"]]

    async def playback_info(self, video_id: str) -> PlaybackInfo:
        body = await self._request(
            "GET",
            paths.VIDEO_MANIFEST.format(video_id=video_id),
            headers={"X-Device-Type": self.device_type},
        )
        return PlaybackInfo(
            video_id=body["video_id"],
            title=body["title"],
            session_id=body["playback_session_id"],
            duration_s=float(body.get("duration_seconds") or 0.0),
            hls_url=body["master_playlist_url"],
            dash_url=body["dash_manifest_url"],
            hls_ts_url=body.get("hls_ts_playlist_url"),
            subtitles=tuple(Subtitle(s["language"], s["url"]) for s in body.get("subtitles", [])),
            intro=_intro(body.get("intro")),
            thumbnails_url=body.get("thumbnails_url"),
            poster_url=body.get("poster_url"),
            drm=body.get("drm"),
            live=bool(body.get("live", False)),
            target_segment_s=_seconds(body.get("target_segment_seconds")),
            raw=body,
        )

    async def report_progress(self, report: dict[str, Any]) -> StoredProgress:
        body = await self._request("POST", paths.PLAYBACK_PROGRESS, json=report)
        return StoredProgress(
            float(body["offset_seconds"]), float(body["reported_at"]), bool(body["applied"])
        )

    async def clearkey_license(
        self, license_url: str, kids_b64: list[str], session_id: str
    ) -> dict[str, str]:
        """kid (base64url) -> key (base64url), from the W3C ClearKey licence endpoint."""
        body = await self._request(
            "POST",
            license_url,
            json={"kids": kids_b64, "type": "temporary", "playback_session_id": session_id},
        )
        return {k["kid"]: k["k"] for k in body["keys"]}

    async def hls_key(self, key_url: str, session_id: str) -> bytes:
        data = await self._request("GET", key_url, headers={"X-Playback-Session": session_id})
        if not isinstance(data, bytes) or len(data) != 16:
            raise ApiError(f"GET {key_url}: expected a 16-byte AES-128 key")
        return data

    async def fetch(self, url: str) -> bytes:
        """A media or text object by (signed) URL: posters, thumbnails, subtitles."""
        data = await self._request("GET", url, auth=False)
        return data if isinstance(data, bytes) else str(data).encode()
