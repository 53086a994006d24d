#!/usr/bin/env bash
# System packages the tests use. Installs missing ones with apt-get when running as root; otherwise
# names exactly what is missing and stops.
set -uo pipefail

# command-or-path -> Debian package
declare -A NEED=(
  [curl]=curl
  [/usr/lib/python3/dist-packages/tusclient]=python3-tuspy
  [/usr/bin/python3]=python3
  # Real services started by tests/kit/src/services.ts (sbin tools probed by path: a non-root
  # PATH often lacks /usr/sbin).
  [redis-server]=redis-server
  [/usr/sbin/nats-server]=nats-server
  [swift-proxy-server]=swift-proxy
  [swift-account-server]=swift-account
  [swift-container-server]=swift-container
  [swift-object-server]=swift-object
  [swift-ring-builder]=swift
  [/usr/sbin/nginx]=nginx
  # The file catalogue's contract suite and hand-over tests run a real PostgreSQL (any packaged version).
  [/usr/lib/postgresql/*/bin/postgres]=postgresql
  # The IETF draft over HTTP/2: haproxy in front of an h2c server (server/test/e2e/ietf-http2.test.ts).
  [/usr/sbin/haproxy]=haproxy
  # Self-signed certificates for the HTTP/2-over-TLS tests.
  [openssl]=openssl
  # The video processor's tests run the real ffmpeg/ffprobe (fluent-ffmpeg drives them).
  [ffmpeg]=ffmpeg
  [ffprobe]=ffmpeg
  # The browser tests (client-sdk/test) drive Debian's Chromium through playwright-core.
  [/usr/bin/chromium]=chromium
  # deploy/test: Prometheus scrapes a live stack, promtool checks and unit-tests the rules, docker-compose
  # validates the compose file, kubectl renders the kustomize manifests (Debian's kubectl 1.20 carries
  # kustomize v2; a newer kubectl works too).
  [prometheus]=prometheus
  [promtool]=prometheus
  [docker-compose]=docker-compose
  [kubectl]=kubernetes-client
)
missing=()
for probe in "${!NEED[@]}"; do
  if [[ "$probe" == *'*'* ]]; then compgen -G "$probe" >/dev/null || missing+=("${NEED[$probe]}")
  elif [[ "$probe" == /* ]]; then [ -e "$probe" ] || missing+=("${NEED[$probe]}")
  else command -v "$probe" >/dev/null 2>&1 || missing+=("${NEED[$probe]}"); fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "==> apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # The tests start their own instances on random loopback ports. Keep the packages' system services
  # (nginx on :80, redis on :6379, swift) from being started by the install on a host with an init
  # system: a policy-rc.d that exits 101 is Debian's switch for that (Docker images ship one already).
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# temporary, from scripts/install-test-deps.sh\nexit 101\n' >"$policy" && chmod 755 "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || { echo "apt-get could not install: ${missing[*]}"; exit 1; }
  if [ -s /run/nginx.pid ] && kill -0 "$(cat /run/nginx.pid)" 2>/dev/null; then
    echo "note: a system nginx is running (pid $(cat /run/nginx.pid), usually on :80); the tests do not need it."
  fi
else
  echo "missing system packages: ${missing[*]}"
  echo "install them with: sudo apt-get install ${missing[*]}"
  exit 1
fi
