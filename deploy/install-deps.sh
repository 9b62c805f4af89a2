#!/usr/bin/env bash
# Installs what building (and, with --test, testing) Zpark needs on Debian bookworm.
#   --test   the test suite's tools (nginx, python3, procps, postgresql for the tests' throw-away
#            servers) and ccache
#   --fuzz   clang, its libFuzzer runtime and lld: the sanitized build and test/fuzz
# Idempotent: packages already present are skipped; apt-get update runs only when needed.
set -euo pipefail
packages=(g++ cmake make libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libboost-test1.81-dev libssl-dev libsqlite3-dev libpq-dev libfmt-dev openssl curl ca-certificates)
for arg in "$@"; do
  case $arg in
    --test) packages+=(nginx python3 procps postgresql ccache) ;;
    --fuzz) packages+=(clang libclang-rt-14-dev lld ccache) ;;
    *) echo "usage: $0 [--test] [--fuzz]" >&2; exit 2 ;;
  esac
done
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "Installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if ! $sudo apt-get install -y --no-install-recommends "${missing[@]}"; then
  $sudo apt-get update
  $sudo apt-get install -y --no-install-recommends "${missing[@]}"
fi
