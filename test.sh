#!/usr/bin/env bash
# Runs every test of TaskSystem: the same command on a workstation and in CI.
set -euo pipefail
cd "$(dirname "$0")"
dotnet test TaskSystem.slnx -c Release "$@"
