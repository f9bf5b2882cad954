#!/usr/bin/env bash
# Creates .venv and installs everything the portal and its tests need.
# face_recognition follows DESIGN §3: the prebuilt dlib-bin wheel, then
# face-recognition and its models with --no-deps (the plain route compiles dlib).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/pip install -q --upgrade "pip>=24"
.venv/bin/pip install -q -e ".[dev]"
.venv/bin/pip install -q --no-deps face-recognition==1.3.0 face-recognition-models==0.3.0
# System packages for browser tests, video fixtures and load tests (Debian).
if [ "${SKIP_APT:-0}" != "1" ] && command -v apt-get >/dev/null 2>&1; then
  missing=""
  for bin in chromium:chromium ffmpeg:ffmpeg wrk:wrk; do
    command -v "${bin%%:*}" >/dev/null 2>&1 || missing="$missing ${bin##*:}"
  done
  [ -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] || missing="$missing fonts-noto-cjk"
  if [ -n "$missing" ]; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq $missing >/dev/null
  fi
fi
echo "install: ok"
