#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages streamlab needs, only those that are missing.
# Idempotent: a second run with everything present does nothing and prints nothing.
set -euo pipefail

packages=(ffmpeg libmpv2 xvfb xauth nginx postgresql)
# What Qt's xcb platform plugin (the player's window under X or Xvfb) loads beyond libxcb itself.
packages+=(libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libxkbcommon-x11-0 libegl1)

missing=()
for pkg in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
    echo "streamlab: missing system packages: ${missing[*]}; this is not a Debian/Ubuntu machine, install them by hand." >&2
    exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        exec sudo -n "$0" "$@"
    fi
    echo "streamlab: missing system packages: ${missing[*]}." >&2
    echo "streamlab: run as root (or with passwordless sudo), or install them yourself: sudo apt-get install ${missing[*]}" >&2
    exit 1
fi

echo "streamlab: installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# apt may be busy (unattended upgrades on a fresh machine): wait for the dpkg lock, then retry.
apt_retry() {
    local attempt
    for attempt in $(seq 1 30); do
        if apt-get -o DPkg::Lock::Timeout=60 "$@"; then
            return 0
        fi
        echo "streamlab: apt-get $1 failed (attempt $attempt); retrying in 10 s" >&2
        sleep 10
    done
    return 1
}
apt_retry update -q
apt_retry install -y -q --no-install-recommends "${missing[@]}"
