#!/usr/bin/env bash
# Builds the solution (the Gloo all-reduce shim via g++ from dotnet build) and runs every test project.
# Ends with one line: "tests: N passed, N failed, N skipped", summed from every test assembly's summary.
set -uo pipefail
cd "$(dirname "$0")/.."
# One whole-suite run at a time per machine: the suite starts silo processes and Azurite, and two runs side by side on
# a small machine push each other's start-up past the tests' time limits.
exec 9>"${TMPDIR:-/tmp}/aligncluster-test.lock"
if ! flock -n 9; then echo "test.sh: waiting for another test run on this machine to finish"; flock 9; fi
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
results=TestResults
rm -rf "$results"
dotnet build AlignCluster.sln -c Release -nologo -v q || { echo "tests: 0 passed, 1 failed"; exit 1; }
log=$(mktemp)
dotnet test AlignCluster.sln -c Release --no-build -nologo --results-directory "$results" "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
# One summary per test assembly: "Passed!  - Failed: 0, Passed: 12, Skipped: 0, Total: 12, ...". Assemblies run in
# parallel, so two summaries can share a line: match each summary wherever it is (grep -o), not at line starts.
read -r passed failed skipped < <(grep -oE '(Passed|Failed)! +- Failed: +[0-9]+, Passed: +[0-9]+, Skipped: +[0-9]+' "$log" | awk -F'[:,]' '
  { f += $2; p += $4; s += $6 } END { printf "%d %d %d\n", p, f, s }')
[ "$rc" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1   # a crashed test host or build error counts as a failure
# One more check: every C# file is as CSharpier (pinned in dotnet-tools.json, printWidth 120) formats it.
if dotnet csharpier check . >"$log.format" 2>&1; then
  passed=$((passed + 1))
else
  echo "format: these files differ from CSharpier's layout (run: dotnet csharpier format .)"
  grep -a "Error" "$log.format" | head -20
  failed=$((failed + 1)); rc=1
fi
rm -f "$log.format"
rm -f "$log"
echo "tests: $passed passed, $failed failed, $skipped skipped"
exit $rc
