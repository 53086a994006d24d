#!/usr/bin/env bash
# System packages the tests use. Installs missing ones with apt-get when running as root; otherwise
# names exactly what is missing and stops.
set -uo pipefail

# command-or-path -> Debian package
declare -A NEED=(
  [curl]=curl
  [/usr/lib/python3/dist-packages/tusclient]=python3-tuspy
  [/usr/bin/python3]=python3
)
missing=()
for probe in "${!NEED[@]}"; do
  if [[ "$probe" == /* ]]; then [ -e "$probe" ] || missing+=("${NEED[$probe]}")
  else command -v "$probe" >/dev/null 2>&1 || missing+=("${NEED[$probe]}"); fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "==> apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || { echo "apt-get could not install: ${missing[*]}"; exit 1; }
else
  echo "missing system packages: ${missing[*]}"
  echo "install them with: sudo apt-get install ${missing[*]}"
  exit 1
fi
