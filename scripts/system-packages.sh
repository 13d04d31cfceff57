#!/usr/bin/env bash
# Installs the system packages the product needs (`make run`: `scripts/system-packages.sh run`)
# or the product and its tests need (`make test`: no argument), when they are missing.
# As root it installs them through apt; otherwise it stops with the command to run.
set -euo pipefail

# One line per need: what must be found, then the Debian package that provides it. What is
# found is a program (on PATH or in an sbin directory), a shared library (a name with
# ".so", looked up with ldconfig) or a file (an absolute path).
NEEDS=(
    # WeasyPrint draws the Change Request Update report's PDF (its docs list these for Debian)
    "libpango-1.0.so.0 libpango-1.0-0"
    "libpangoft2-1.0.so.0 libpangoft2-1.0-0"
    "libharfbuzz.so.0 libharfbuzz0b"
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf fonts-dejavu-core"
)
FOR="the product"
if [ "${1:-}" != "run" ]; then
    FOR="the tests"
    NEEDS+=(
        "dovecot dovecot-imapd" # the IMAP tests start a throwaway dovecot (tests/ports.py)
        "chromium chromium"     # the browser tests drive Debian's Chromium (tests/browser/)
    )
fi

found() {
    case "$1" in
    *.so*) /sbin/ldconfig -p 2>/dev/null | grep -qF "$1 " ;;
    /*) [ -e "$1" ] ;;
    *) command -v "$1" >/dev/null || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ] ;;
    esac
}

missing=()
for need in "${NEEDS[@]}"; do
    read -r what package <<<"$need"
    found "$what" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

install="apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
    echo "System packages for $FOR are missing: ${missing[*]}" >&2
    echo "Install them, then run make again:" >&2
    echo "  sudo sh -c '$install'" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null; then
    echo "These Debian packages (or your system's equivalent) are needed for $FOR: ${missing[*]}" >&2
    exit 1
fi
echo "== installing system packages for $FOR: ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
for need in "${NEEDS[@]}"; do
    read -r what package <<<"$need"
    found "$what" || { echo "$package is installed but $what is still not found" >&2; exit 1; }
done
