"""Backend configuration: one dataclass, persisted as JSON so subprocesses see the same values."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass, field
from pathlib import Path

from backend_stub.errors import ConfigError

# Highest rendition each device class may receive. The manifest endpoint points the
# client at a master playlist filtered to this height.
DEFAULT_DEVICE_CAPS: dict[str, int] = {
    "mobile": 1080,
    "tablet": 1080,
    "web": 1440,
    "desktop": 1440,
    "smarttv": 2160,
}

# A live channel NAME is the catalog entry f"{LIVE_ID_PREFIX}{NAME}".
LIVE_ID_PREFIX = "live-"

CONFIG_FILE = "backend.json"
SECRETS_FILE = "secrets.json"


@dataclass
class BackendConfig:
    data_dir: Path
    database_url: str = ""  # empty: sqlite file inside data_dir
    store_url: str = ""  # empty: file:// store inside data_dir
    jwt_secret: str = ""
    url_signing_secret: str = ""
    jwt_ttl_seconds: int = 3600
    signed_url_ttl_seconds: int = 6 * 3600
    segment_seconds: int = 4
    x264_preset: str = "veryfast"
    max_height: int = 2160
    per_title_ladder: bool = False
    hls_ts: bool = False  # also package HLS with MPEG-TS segments
    encrypt: bool = False  # CENC for CMAF, AES-128 for HLS-TS, one key per title
    drm_scheme: str = "cenc"  # the CMAF set's common-encryption scheme: cenc or cbcs
    visibility_timeout_seconds: float = 60.0
    max_attempts: int = 3
    device_caps: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_DEVICE_CAPS))
    default_device_type: str = "web"
    edge_url: str = ""  # where signed URLs point; set by `serve` once ports are known
    debug_endpoints: bool = False  # /api/v1/debug/* on the origin (serve --debug-endpoints)
    live_channels: dict[str, str] = field(default_factory=dict)  # name → source file or ""
    live_segment_seconds: int = 2
    live_dvr_seconds: int = 60

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir).resolve()
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'streamlab.db'}"
        if not self.store_url:
            self.store_url = f"file://{self.data_dir / 'store'}"
        if not 2 <= self.segment_seconds <= 6:
            raise ConfigError(
                f"segment_seconds must be 2..6 (GOP-aligned), got {self.segment_seconds}"
            )
        # 2 s at least: live playlists are cached for half a segment, and nginx caches in
        # whole seconds.
        if not 2 <= self.live_segment_seconds <= 6:
            raise ConfigError(f"live_segment_seconds must be 2..6, got {self.live_segment_seconds}")
        if not 3 * self.live_segment_seconds <= self.live_dvr_seconds <= 6 * 3600:
            raise ConfigError(
                f"live_dvr_seconds must be 3 segments ({3 * self.live_segment_seconds} s) "
                f"to 6 h, got {self.live_dvr_seconds}"
            )
        if self.drm_scheme not in ("cenc", "cbcs"):
            raise ConfigError(f"drm_scheme must be cenc or cbcs, got {self.drm_scheme!r}")
        if self.default_device_type not in self.device_caps:
            raise ConfigError(
                f"default_device_type {self.default_device_type!r} is not one of {sorted(self.device_caps)}"
            )

    @property
    def live_video_ids(self) -> frozenset[str]:
        return frozenset(f"{LIVE_ID_PREFIX}{name}" for name in self.live_channels)

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def work_dir(self) -> Path:
        return self.data_dir / "work"

    def to_json(self) -> str:
        data = asdict(self)
        data["data_dir"] = str(self.data_dir)
        return json.dumps(data, indent=2, sort_keys=True)

    def save(self) -> Path:
        """Write the config where subprocesses (origin, workers) read it; secrets inside, so 0600."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        path = self.data_dir / CONFIG_FILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(self.to_json())
        os.chmod(tmp, 0o600)
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: Path) -> BackendConfig:
        try:
            data = json.loads(Path(path).read_text())
        except FileNotFoundError as exc:
            raise ConfigError(f"backend config {path} does not exist") from exc
        except json.JSONDecodeError as exc:
            raise ConfigError(f"backend config {path} is not valid JSON: {exc}") from exc
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise ConfigError(f"backend config {path} has unknown keys: {sorted(unknown)}")
        return cls(**data)


def load_or_create_secrets(data_dir: Path) -> tuple[str, str]:
    """(jwt_secret, url_signing_secret), created once per data dir so tokens and signed
    URLs survive a restart of `serve`."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / SECRETS_FILE
    if path.exists():
        data = json.loads(path.read_text())
        return data["jwt_secret"], data["url_signing_secret"]
    data = {"jwt_secret": secrets.token_hex(32), "url_signing_secret": secrets.token_hex(32)}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(data, fh)
    return data["jwt_secret"], data["url_signing_secret"]
