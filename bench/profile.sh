#!/bin/sh
# Where the time goes: samples one job of the bench (default bptt and modprop-online) in a node process with perf
# (software clock: works in VMs without hardware counters) and prints the hottest symbols, self time.
#   bench/profile.sh [job ...]          e.g. bench/profile.sh bptt modprop-online forward
#   THREADS=1 CALLS=100 bench/profile.sh bptt
# Needs perf (apt-get install -y linux-perf). Without it, falls back to valgrind --tool=callgrind if present.
set -eu
cd "$(dirname "$0")/.."
calls=${CALLS:-60}
threads=${THREADS:-1}
[ $# -gt 0 ] || set -- bptt modprop-online
out=${TMPDIR:-/tmp}/modprop-profile.$$
trap 'rm -f "$out" "$out".cg' EXIT
for job in "$@"; do
  echo "== $job ($calls calls, $threads thread(s))"
  maps_before=$(ls /tmp/perf-*.map 2>/dev/null || true)
  if command -v perf >/dev/null 2>&1 && perf record -q -e cpu-clock -o /dev/null true >/dev/null 2>&1; then
    perf record -q -e cpu-clock -F 2000 -o "$out" -- node --perf-basic-prof --require tsx/cjs bench/profile.ts "$job" "$calls" "$threads"
    perf report -i "$out" --stdio --sort dso,symbol 2>/dev/null | grep -v '^#' | grep -v '^$' | head -n 14 | cut -c1-150
  elif command -v valgrind >/dev/null 2>&1; then
    valgrind --tool=callgrind --callgrind-out-file="$out".cg node --require tsx/cjs bench/profile.ts "$job" 3 "$threads" >/dev/null 2>&1
    callgrind_annotate "$out".cg 2>/dev/null | sed -n '1,40p' | grep -E '^ *[0-9,]+ ' | head -n 14 | cut -c1-150
  else
    echo "no profiler: install linux-perf (or valgrind)"; exit 1
  fi
  # node --perf-basic-prof leaves /tmp/perf-<pid>.map behind: remove the one this run wrote, no other.
  for map in /tmp/perf-*.map; do
    [ -e "$map" ] || continue
    case "$maps_before" in *"$map"*) ;; *) rm -f "$map" ;; esac
  done
done
