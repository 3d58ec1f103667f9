"""nginx configs for the two CDN tiers: edge (client-facing) → shield → origin.

Both tiers cache by object key with the signing token stripped (one cached copy per object
however many tokens point at it), and both hold a cache lock on a miss so N concurrent
misses become one upstream fetch.

Both tiers validate the signed URL themselves, with auth_request to the origin's validator
before looking in their cache: a forged, expired or other-title token is refused even for a
cached object, whether it comes to the edge or straight to the shield. (The alternative, a
secret header the edge adds and the shield requires, would leave the shield's cache open to
anyone who learns that one secret, and put it in two config files; the shield's own check
costs a validator call only on an edge miss, and its decision is cached like the edge's.)

The validator decides on the decoded path (`backend_stub.signing.verify_path`), and the
cache key comes from nginx's decoded, normalised `$uri`; the validator refuses every path
whose decoded form nginx would normalise differently ('.', '..', empty parts), so for any
URI a tier lets through, the key it caches under and the object the origin serves agree.
"""

from __future__ import annotations

import os
import pwd
from dataclasses import dataclass
from pathlib import Path

from api_paths import EDGE_VALIDATE


@dataclass(frozen=True)
class TierPaths:
    root: Path  # everything this nginx writes lives here: pid, logs, temp, cache

    def prepare(self) -> None:
        for sub in (
            "logs",
            "tmp/body",
            "tmp/proxy",
            "tmp/fastcgi",
            "tmp/uwsgi",
            "tmp/scgi",
            "cache",
        ):
            (self.root / sub).mkdir(parents=True, exist_ok=True)

    @property
    def conf(self) -> Path:
        return self.root / "nginx.conf"

    @property
    def access_log(self) -> Path:
        return self.root / "logs" / "access.log"

    @property
    def error_log(self) -> Path:
        return self.root / "logs" / "error.log"


def _user_line() -> str:
    # Run as root, nginx would drop its workers to `nobody`, who cannot read a data dir
    # under a private home or /tmp/pytest-of-root; keep them as the user running serve.
    if os.geteuid() != 0:
        return ""
    return f"user {pwd.getpwuid(os.geteuid()).pw_name};"


def _common(paths: TierPaths, name: str) -> str:
    r = paths.root
    return f"""
{_user_line()}
worker_processes 1;
worker_rlimit_nofile 16384;
pid {r}/nginx.pid;
error_log {paths.error_log} warn;
events {{ worker_connections 8192; }}
http {{
    log_format {name} '$remote_addr [$time_local] "$request" $status $body_bytes_sent '
                      'cache=$upstream_cache_status upstream=$upstream_addr '
                      'rt=$request_time urt=$upstream_response_time';
    access_log {paths.access_log} {name};
    client_body_temp_path {r}/tmp/body;
    proxy_temp_path {r}/tmp/proxy;
    fastcgi_temp_path {r}/tmp/fastcgi;
    uwsgi_temp_path {r}/tmp/uwsgi;
    scgi_temp_path {r}/tmp/scgi;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 10000;
    server_tokens off;
"""


# Cache directives shared by both tiers. proxy_cache_lock makes one request per key fetch
# upstream while the others wait (nginx 1.22 re-checks the lock every 500 ms, so waiting
# clients see up to +0.5 s); lock timeout/age are long so a slow origin never lets the
# herd through.
_CACHE = """
        proxy_cache_key $object_key;
        proxy_cache_lock on;
        proxy_cache_lock_timeout 60s;
        proxy_cache_lock_age 60s;
        proxy_cache_revalidate on;
        # The origin's Cache-Control decides for 200s; these are fallbacks. 404s are cached
        # briefly because an uncacheable answer under a cache lock is fetched again by each
        # waiter in turn, 500 ms apart: a herd on a missing object would queue for minutes.
        proxy_cache_valid 200 206 1m;
        proxy_cache_valid 404 10s;
        proxy_cache_use_stale error timeout updating;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $host;
"""


# A raw URI already in the one spelling verify_path accepts without decoding anything: no
# '%', every name of [A-Za-z0-9._-] not starting with '.'. Only such URIs share a cached auth
# decision per token + title; any other spelling is validated on its own, uncached, so a
# decision cached for /t/T/media/A/x never answers for /t/T/media/A/..%2f..%2fB/x.
_CANONICAL = (
    r"^/t/(?<t>[0-9]+\.[A-Za-z0-9_-]+)/media/(?<v>[A-Za-z0-9_-]+)"
    r"(?:/[A-Za-z0-9_-][A-Za-z0-9._-]*)+(?:\?.*)?$"
)


def _maps() -> str:
    # $request_uri is the client's URI inside the auth subrequest too.
    return f"""
    map $uri $object_key {{
        ~^/t/[^/]+/(?<k>media/.+)$ $k;
        default "";
    }}
    map $request_uri $auth_scope {{
        ~{_CANONICAL} "$t|$v";
        default "";
    }}
    map $auth_scope $auth_uncached {{
        "" 1;
        default 0;
    }}
"""


def _cors(methods: str, headers: str, exposed: str) -> str:
    """The edge's answer to web players, whose page is always another origin than the edge.

    Any origin may read: the credentials are signed URLs and bearer tokens, never cookies,
    so a page learns nothing it was not given. `always`, so a 403 or 404 reaches the player
    as its status (an expired URL to re-sign, a live segment not out yet) instead of an
    opaque network error. A preflight is answered here, before the signature check and the
    cache: it carries no token to check and must never be cached or reach the origin.
    Timing-Allow-Origin lets the player's throughput estimate read the resource timings."""
    return f"""
            if ($request_method = OPTIONS) {{ return 204; }}
            add_header Access-Control-Allow-Origin * always;
            add_header Access-Control-Allow-Methods "{methods}" always;
            add_header Access-Control-Allow-Headers "{headers}" always;
            add_header Access-Control-Expose-Headers "{exposed}" always;
            add_header Access-Control-Max-Age 86400 always;
            add_header Timing-Allow-Origin * always;
"""


# Date: dash.js falls back to the MPD's Date header for its clock when UTCTiming fails.
_MEDIA_CORS = _cors("GET, HEAD, OPTIONS", "Range", "Content-Range, Date, X-Cache")
_API_CORS = _cors(
    "GET, HEAD, POST, PATCH, OPTIONS",
    "Authorization, Content-Type, Range, Upload-Offset, X-Device-Type, X-Playback-Session",
    "Content-Range, Date, Upload-Length, Upload-Offset",
)


def _signed_media(
    tier: str,
    upstream: str,
    validator: str,
    cache_header: str,
    pass_expiry: bool = False,
    cors: str = "",
) -> str:
    """`/t/…`: validate, then serve from this tier's cache or `upstream`. With pass_expiry
    the origin's absolute X-Accel-Expires (live playlists) goes on downstream, so the next
    tier's copy expires when this one's does instead of living its own max-age on top."""
    passed = "proxy_pass_header X-Accel-Expires;" if pass_expiry else ""
    return f"""
        location /t/ {{
{cors}
            auth_request /_auth;
            proxy_pass http://{upstream};
            proxy_cache {tier};
            {passed}
{_CACHE}
            add_header {cache_header} $upstream_cache_status always;
        }}
        location = /_auth {{
            internal;
            proxy_pass http://{validator}{EDGE_VALIDATE};
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Original-URI $request_uri;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_cache {tier}_auth;
            proxy_cache_key $auth_scope;
            proxy_cache_bypass $auth_uncached;
            proxy_no_cache $auth_uncached;
            proxy_cache_valid 200 5s;
            # Single flight for the decision too: a stampede with one fresh token would
            # otherwise send every request's subrequest to the origin validator (measured:
            # 500 clients, p50 1.1 s without this lock, 0.06-0.3 s with it).
            proxy_cache_lock on;
            proxy_cache_lock_timeout 5s;
        }}
"""


def _auth_cache_path(paths: TierPaths, tier: str) -> str:
    return (
        f"proxy_cache_path {paths.root}/authcache levels=1 keys_zone={tier}_auth:8m "
        "inactive=60s use_temp_path=off;"
    )


def edge_conf(
    paths: TierPaths, port: int, shield_port: int, origin_port: int, host: str = "127.0.0.1"
) -> str:
    r = paths.root
    return (
        _common(paths, "edge")
        + f"""
    proxy_cache_path {r}/cache levels=1:2 keys_zone=edge:64m max_size=4g inactive=7d use_temp_path=off;
    {_auth_cache_path(paths, "edge")}
{_maps()}
    upstream shield {{ server {host}:{shield_port}; keepalive 64; }}
    upstream origin_auth {{ server {host}:{origin_port}; keepalive 16; }}

    server {{
        listen {host}:{port} backlog=4096;
{_signed_media("edge", "shield", "origin_auth", "X-Cache", cors=_MEDIA_CORS)}
        # The API through the edge too (never cached): host-relative key/license URIs in
        # cached playlists and MPDs resolve here.
        location /api/ {{
{_API_CORS}
            proxy_pass http://origin_auth;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_cache off;
            client_max_body_size 64m;
        }}
        # Operators read these on the origin (serve --debug-endpoints); never the public.
        location /api/v1/debug/ {{ return 404 "not found\\n"; }}
        location = /healthz {{ return 200 "edge ok\\n"; }}
        location / {{ return 403 "signed URL required\\n"; }}
    }}
}}
"""
    )


def shield_conf(paths: TierPaths, port: int, origin_port: int, host: str = "127.0.0.1") -> str:
    r = paths.root
    return (
        _common(paths, "shield")
        + f"""
    proxy_cache_path {r}/cache levels=1:2 keys_zone=shield:64m max_size=8g inactive=30d use_temp_path=off;
    {_auth_cache_path(paths, "shield")}
{_maps()}
    upstream origin {{ server {host}:{origin_port}; keepalive 64; }}

    # The edge passes the client's URI on unchanged, token included: the shield checks it
    # itself, and so does the origin, so nothing reaches either cache or the origin's disk
    # unsigned.
    server {{
        listen {host}:{port} backlog=4096;
{_signed_media("shield", "origin", "origin", "X-Shield-Cache", pass_expiry=True)}
        location = /healthz {{ return 200 "shield ok\\n"; }}
        location / {{ return 403 "signed URL required\\n"; }}
    }}
}}
"""
    )
