#!/usr/bin/env bash
# Runs every test of TaskSystem: the same command on a workstation and in CI.
set -euo pipefail
cd "$(dirname "$0")"

# The dashboard's browser tests drive a real headless Chromium: Debian's chromium-headless-shell (Chromium's headless
# mode without the browser around it: a fifth less CPU for those tests than the full browser), or the Chromium or Chrome
# TASKSYSTEM_CHROMIUM points at. When it is missing and this runs as root on Debian, it is installed once; otherwise
# those tests fail and say how to get it.
chromium="${TASKSYSTEM_CHROMIUM:-/usr/bin/chromium-headless-shell}"
if [ ! -x "$chromium" ] && [ "$(id -u)" = 0 ] && [ -f /etc/debian_version ] && command -v apt-get >/dev/null; then
    echo "== installing chromium-headless-shell (apt-get) for the dashboard's browser tests"
    if ! { DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null \
        && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium-headless-shell >/dev/null; }; then
        echo "warning: chromium-headless-shell could not be installed; the dashboard's browser tests will fail" >&2
    fi
fi

# The PostgreSQL tests start a throwaway server from PostgreSQL's binaries (or use TASKSYSTEM_TEST_POSTGRES). When
# they are missing and this runs as root on Debian, they are installed once; otherwise those tests fail and say why.
if [ -z "${TASKSYSTEM_TEST_POSTGRES:-}${TASKSYSTEM_PG_BIN:-}" ] && ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 \
    && [ "$(id -u)" = 0 ] && [ -f /etc/debian_version ] && command -v apt-get >/dev/null; then
    echo "== installing postgresql (apt-get) for the PostgreSQL tests"
    if ! { DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null \
        && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }; then
        echo "warning: postgresql could not be installed; the PostgreSQL tests will fail" >&2
    fi
fi

# Build what the tests run: every project of the solution but the benchmark and the samples no test uses (.ci/run
# builds those). The filter is made from TaskSystem.slnx on each run, so a test project added there always runs.
not_for_tests='^(bench/|samples/TaskSystem\.Samples\.Aspire/|samples/TaskSystem\.Samples\.Embedded/)'
filter=artifacts/tests.slnf
mkdir -p artifacts
{
    echo '{ "solution": { "path": "../TaskSystem.slnx", "projects": ['
    grep -o 'Path="[^"]*\.csproj"' TaskSystem.slnx | sed 's/^Path="//; s/"$//' | grep -Ev "$not_for_tests" \
        | sed 's/.*/    "&"/' | paste -sd, -
    echo '] } }'
} > "$filter"
dotnet build "$filter" -c Release

# The servers, tools and packers the tests start live for seconds, and the suite keeps both cores busy from start to
# end, so every CPU-second spent on code that runs only a few times is a second of the run:
# - dynamic PGO's instrumented tier costs a process CPU it never earns back (about 12% of a server's start);
# - tiering up (counting calls, then compiling hot methods again, optimised) costs a server about as much CPU in its
#   first ten seconds as its start: measured 0.4-1.3 CPU-s with it, 0.2 without;
# - idle thread-pool workers spin before they sleep, which on two busy cores takes CPU from the work that would wake them.
# None of them changes what the code does, only when and how it is compiled and how threads wait.
export DOTNET_TieredPGO=0 DOTNET_TC_CallCounting=0 DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0
dotnet test "$filter" -c Release --no-build "$@"
