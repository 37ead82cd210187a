#!/usr/bin/env bash
# Runs every test of TaskSystem: the same command on a workstation and in CI.
set -euo pipefail
cd "$(dirname "$0")"

# The PostgreSQL tests start a throwaway server from PostgreSQL's binaries: install them on Debian when missing.
if [ -z "${TASKSYSTEM_TEST_POSTGRES:-}${TASKSYSTEM_PG_BIN:-}" ] && ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 \
    && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi

dotnet test TaskSystem.slnx -c Release "$@"
