#!/usr/bin/env bash
# A local AlignCluster on loopback: N Orleans silo processes sharing one state directory.
#   deploy/local/cluster.sh start N    start N silos, wait until each prints SILO READY
#   deploy/local/cluster.sh stop       graceful stop (SIGTERM), kill -9 after 60 s
#   deploy/local/cluster.sh status     show what runs
# Environment (all optional):
#   CLUSTER_DIR   run folder: logs, PIDs, data (default .cache/local-cluster)
#   BASE_PORT     silo i listens on BASE_PORT+i, its gateway on BASE_PORT+100+i (default 11111); silo 0 keeps the
#                 membership (Orleans development clustering)
#   STORAGE       local (a directory shared by the silos: CLUSTER_DIR/data; the default and, for now, the only choice)
#   SILO_DLL      the silo build (default src/Silo/bin/Release/net10.0/AlignCluster.Silo.dll)
#   Other ALIGNCLUSTER_* variables reach the silos unchanged (e.g. ALIGNCLUSTER_SILO__CPUDEVICES=2).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DIR="${CLUSTER_DIR:-$ROOT/.cache/local-cluster}"
BASE_PORT="${BASE_PORT:-11111}"
STORAGE="${STORAGE:-local}"
SILO_DLL="${SILO_DLL:-$ROOT/src/Silo/bin/Release/net10.0/AlignCluster.Silo.dll}"

die() { echo "cluster.sh: $*" >&2; exit 1; }

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

start() {
  local n="${1:-}"
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "usage: cluster.sh start N (N >= 1 silos)"
  [ -f "$SILO_DLL" ] || die "silo build $SILO_DLL is missing: run 'dotnet build AlignCluster.sln -c Release' first"
  [ "$STORAGE" = local ] || die "STORAGE must be local (was $STORAGE)"
  for f in "$DIR"/*.pid; do [ -e "$f" ] && alive "$f" && die "a cluster is already running in $DIR (run stop first)"; done
  mkdir -p "$DIR/data"
  rm -f "$DIR"/*.pid

  for ((i = 0; i < n; i++)); do
    dotnet "$SILO_DLL" --Silo:Port=$((BASE_PORT + i)) --Silo:GatewayPort=$((BASE_PORT + 100 + i)) \
      --Silo:Primary=127.0.0.1:$BASE_PORT --Storage:Directory="$DIR/data" > "$DIR/silo-$i.log" 2>&1 &
    echo $! > "$DIR/silo-$i.pid"
    # Silo 0 keeps the membership: the others join once it serves.
    if [ "$i" -eq 0 ]; then wait_ready 0; fi
  done
  for ((i = 0; i < n; i++)); do
    wait_ready "$i"
    grep -m1 "SILO READY" "$DIR/silo-$i.log"
  done
  echo "cluster: $n silos on 127.0.0.1:$BASE_PORT.. (gateways $((BASE_PORT + 100)).., storage $STORAGE, run folder $DIR"
}

wait_ready() {
  local i="$1" waited=0
  until grep -q "SILO READY" "$DIR/silo-$i.log" 2>/dev/null; do
    alive "$DIR/silo-$i.pid" || { tail -20 "$DIR/silo-$i.log" >&2; stop >/dev/null; die "silo $i exited during start (log: $DIR/silo-$i.log)"; }
    [ $waited -ge 1200 ] && { stop >/dev/null; die "silo $i not ready after 120 s (log: $DIR/silo-$i.log)"; }
    sleep 0.1; waited=$((waited + 1))
  done
}

stop() {
  local pids=() f
  for f in "$DIR"/silo-*.pid; do [ -e "$f" ] && alive "$f" && pids+=("$(cat "$f")"); done
  [ ${#pids[@]} -gt 0 ] && kill -TERM "${pids[@]}" 2>/dev/null || true
  for ((t = 0; t < 600; t++)); do
    local left=0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && left=1; done
    [ $left -eq 0 ] && break
    sleep 0.1
  done
  for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && { echo "silo $p did not stop in 60 s; kill -9"; kill -9 "$p" 2>/dev/null || true; }; done
  rm -f "$DIR"/*.pid
  echo "cluster: stopped (${#pids[@]} silos)"
}

status() {
  local f
  for f in "$DIR"/*.pid; do
    [ -e "$f" ] || continue
    if alive "$f"; then echo "$(basename "$f" .pid): running (pid $(cat "$f"))"; else echo "$(basename "$f" .pid): not running"; fi
  done
}

case "${1:-}" in
  start) start "${2:-}" ;;
  stop) stop ;;
  status) status ;;
  *) die "usage: cluster.sh start N | stop | status" ;;
esac
