#!/usr/bin/env bash
# One command from a fresh Debian machine to a running Zpark in the foreground:
# installs build dependencies, builds, and starts `zpark serve`.
# Without SPARK_ACCESS_TOKEN it runs in dry-run mode and prints what it would send.
# Settings come from the environment (see README); ZPARK_API_TOKEN is generated once
# into $ZPARK_DATA_DIR/api_token when not given.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/install-deps.sh
bash deploy/build.sh
export ZPARK_DATA_DIR="${ZPARK_DATA_DIR:-$PWD/zpark-data}"
mkdir -p "$ZPARK_DATA_DIR"
if [ -z "${ZPARK_API_TOKEN:-}" ] && [ -z "${ZPARK_API_TOKEN_FILE:-}" ]; then
  if [ ! -s "$ZPARK_DATA_DIR/api_token" ]; then
    (umask 077; openssl rand -hex 24 > "$ZPARK_DATA_DIR/api_token")
  fi
  export ZPARK_API_TOKEN_FILE="$ZPARK_DATA_DIR/api_token"
  echo "zpark: API token (send it as 'Token:' header) is in $ZPARK_API_TOKEN_FILE"
fi
exec build/app/zpark serve "$@"
