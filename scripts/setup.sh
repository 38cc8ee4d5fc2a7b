#!/usr/bin/env bash
# Installs what Ventus Sessions needs on a Debian/Ubuntu machine, and nothing when it is all there:
# Chromium (+ headless shell), Xvfb, x11vnc (live view), Redis and ffmpeg (session recordings: WebM
# encoding, ffprobe) and a C compiler (the proxy's kernel relay)
# from apt (as root), and the npm dependencies.
# Postgres needs no install: `ventus up` embeds one when DATABASE_URL is unset.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'setup: %s\n' "$*" >&2; }

major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$major" -lt 20 ]; then
  say "Node.js 20 or newer is required (found: $(node --version 2>/dev/null || echo none))."
  exit 1
fi

missing=()
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/chromium-headless-shell ] || missing+=(chromium-headless-shell)
command -v Xvfb >/dev/null 2>&1 || missing+=(xvfb)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
# Pod agents encode recorded screencast frames to WebM (VP8) with it; tests check the result with ffprobe.
{ command -v ffmpeg && command -v ffprobe; } >/dev/null 2>&1 || missing+=(ffmpeg)
# Live view: headful pods serve their Xvfb desktop over VNC (the proxy relays it to the viewer).
command -v x11vnc >/dev/null 2>&1 || missing+=(x11vnc)
# The local driver's sandbox: bubblewrap runs each pod in its own namespaces; socat bridges the
# browser's own network namespace to the agent (docs/security.md, "The pod boundary").
command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
command -v socat >/dev/null 2>&1 || missing+=(socat)
# The same bridges without a process per connection (runtime-image/agent/browser.sandbox.ts).
{ command -v systemd-socket-activate && { [ -x /usr/lib/systemd/systemd-socket-proxyd ] ||
  [ -x /lib/systemd/systemd-socket-proxyd ]; }; } >/dev/null 2>&1 || missing+=(systemd)
# The proxy's kernel relay (proxy/kernel-relay.c) is compiled on first use; without a compiler the
# proxy relays CDP bytes in Node.
{ command -v cc && [ -f /usr/include/stdio.h ]; } >/dev/null 2>&1 || missing+=(gcc libc6-dev)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing ${missing[*]} with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${missing[@]}" fonts-liberation >/dev/null
  else
    say "missing system packages: ${missing[*]}"
    say "install them with: sudo apt-get install -y ${missing[*]}   (then run this again)"
    exit 1
  fi
fi

# npm install when node_modules is absent or older than the lockfile.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dependencies"
  # `npm install` (not `npm ci`): it tolerates lockfiles that omit other platforms' optional packages.
  npm install --no-audit --no-fund --loglevel=error >&2
fi
