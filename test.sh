#!/usr/bin/env bash
# The one test command: README and .ci/run call it. Builds the solution (warnings are errors)
# and runs every NUnit project against a real RabbitMQ and Redis (see scripts/test-servers.sh).
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v dotnet >/dev/null 2>&1; then
  echo "test.sh: the .NET SDK 10 is needed (https://dot.net); 'dotnet' is not on PATH." >&2
  exit 1
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
echo "test.sh: .NET SDK $(dotnet --version)"

# shellcheck source=scripts/test-servers.sh
source scripts/test-servers.sh
ensure_test_servers

echo "test.sh: building"
dotnet build Agentry.sln -c Release -nologo -v quiet

echo "test.sh: testing"
# Suites that cannot run here (the MongoDB store contract without a MongoDB) write why to this
# file; it is printed last, after the counts, so nobody takes "Passed!" for all of them.
AGENTRY_NOT_RUN_FILE="$(mktemp)"
export AGENTRY_NOT_RUN_FILE
status=0
# A test that hangs (no single test takes minutes) is killed and named instead of stalling CI.
hang=(--blame-hang-timeout 10m --blame-hang-dump-type none)
dotnet test Agentry.sln -c Release --no-build -nologo --logger "console;verbosity=minimal" --filter "TestCategory!=Soak" "${hang[@]}" || status=$?
# The chaos soak (issue 23) kills services and restarts its own broker and Redis: alone, after the
# rest, with its counts printed. AGENTRY_SOAK=0 skips it (reported as not run).
if [ "${AGENTRY_SOAK:-1}" != "0" ]; then
  echo "test.sh: chaos soak"
  dotnet test tests/Agentry.Distributed.Tests -c Release --no-build -nologo --logger "console;verbosity=normal" --filter "TestCategory=Soak" "${hang[@]}" || status=$?
else
  echo "NOT RUN: the chaos soak (issue 23): AGENTRY_SOAK=0 was set." >> "$AGENTRY_NOT_RUN_FILE"
fi
if [ -s "$AGENTRY_NOT_RUN_FILE" ]; then
  echo
  echo "test.sh: !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
  while IFS= read -r line; do echo "test.sh: !!! $line"; done < "$AGENTRY_NOT_RUN_FILE"
  echo "test.sh: !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
fi
rm -f "$AGENTRY_NOT_RUN_FILE"
exit "$status"
