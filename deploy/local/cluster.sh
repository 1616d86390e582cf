#!/usr/bin/env bash
# A local AlignCluster on loopback: Azurite (Blob emulator) plus N silo processes.
#   deploy/local/cluster.sh start N    start Azurite and N silos, wait until each prints SILO READY
#   deploy/local/cluster.sh stop       graceful stop (SIGTERM: grains deactivate and persist), kill -9 after 60 s
#   deploy/local/cluster.sh status     show what runs
# Environment (all optional):
#   CLUSTER_DIR   run folder: logs, PIDs, data, cluster.key (default .cache/local-cluster)
#   BASE_PORT     silo i listens on BASE_PORT+i (default 11111); Azurite on BASE_PORT-1000
#   STORAGE       azure (Azurite through the azureblob store) or local (a directory shared by the silos; default)
#   ALIGNCLUSTER_CLUSTER__KEY  the cluster key (default: generated once into CLUSTER_DIR/cluster.key)
#   SILO_DLL      the silo build (default src/Silo/bin/Release/net10.0/AlignCluster.Silo.dll)
#   Other ALIGNCLUSTER_* variables reach the silos unchanged (e.g. ALIGNCLUSTER_GRAINASSEMBLIES__0=/path/x.dll).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DIR="${CLUSTER_DIR:-$ROOT/.cache/local-cluster}"
BASE_PORT="${BASE_PORT:-11111}"
AZURITE_PORT=$((BASE_PORT - 1000))
STORAGE="${STORAGE:-local}"
SILO_DLL="${SILO_DLL:-$ROOT/src/Silo/bin/Release/net10.0/AlignCluster.Silo.dll}"
AZURITE="$ROOT/.cache/npm/node_modules/.bin/azurite-blob"
# Azurite's well-known development account (public, documented by Microsoft; not a secret).
AZURITE_KEY="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

die() { echo "cluster.sh: $*" >&2; exit 1; }

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

wait_for_azurite() {
  local waited=0
  until (exec 3<>"/dev/tcp/127.0.0.1/$AZURITE_PORT") 2>/dev/null; do
    alive "$DIR/azurite.pid" || { tail -20 "$DIR/azurite.log" >&2; stop >/dev/null; die "Azurite exited during start (log: $DIR/azurite.log)"; }
    [ $waited -ge 300 ] && { stop >/dev/null; die "Azurite not listening on 127.0.0.1:$AZURITE_PORT after 30 s"; }
    sleep 0.1; waited=$((waited + 1))
  done
}

start() {
  local n="${1:-}"
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "usage: cluster.sh start N (N >= 1 silos)"
  [ -f "$SILO_DLL" ] || die "silo build $SILO_DLL is missing: run 'dotnet build AlignCluster.sln -c Release' first"
  [ -x "$AZURITE" ] || die "azurite is missing under .cache/npm: run 'bash scripts/setup.sh' first"
  for f in "$DIR"/*.pid; do [ -e "$f" ] && alive "$f" && die "a cluster is already running in $DIR (run stop first)"; done
  mkdir -p "$DIR/azurite" "$DIR/data"
  rm -f "$DIR"/*.pid
  if [ -z "${ALIGNCLUSTER_CLUSTER__KEY:-}" ]; then
    [ -s "$DIR/cluster.key" ] || { (umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$DIR/cluster.key"); }
    export ALIGNCLUSTER_CLUSTER__KEY="$(cat "$DIR/cluster.key")"
  fi

  "$AZURITE" --blobHost 127.0.0.1 --blobPort "$AZURITE_PORT" --location "$DIR/azurite" --silent --loose --skipApiVersionCheck \
    --disableTelemetry > "$DIR/azurite.log" 2>&1 &
  echo $! > "$DIR/azurite.pid"
  # Silos on Azure storage read the membership table at start: Azurite must be listening first (~1 s).
  if [ "$STORAGE" = azure ]; then wait_for_azurite; fi

  local store
  case "$STORAGE" in
    local) store="local:$DIR/data" ;;
    azure) store="azureblob:DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$AZURITE_KEY;BlobEndpoint=http://127.0.0.1:$AZURITE_PORT/devstoreaccount1;Container=aligncluster" ;;
    *) die "STORAGE must be local or azure (was $STORAGE)" ;;
  esac
  export ALIGNCLUSTER_STORAGE__DEFAULT="$store"
  export ALIGNCLUSTER_CLUSTER__ID="${ALIGNCLUSTER_CLUSTER__ID:-local}"

  for ((i = 0; i < n; i++)); do
    dotnet "$SILO_DLL" --network:port=$((BASE_PORT + i)) > "$DIR/silo-$i.log" 2>&1 &
    echo $! > "$DIR/silo-$i.pid"
  done
  for ((i = 0; i < n; i++)); do
    local waited=0
    until grep -q "SILO READY" "$DIR/silo-$i.log" 2>/dev/null; do
      alive "$DIR/silo-$i.pid" || { tail -20 "$DIR/silo-$i.log" >&2; stop >/dev/null; die "silo $i exited during start (log: $DIR/silo-$i.log)"; }
      [ $waited -ge 1200 ] && { stop >/dev/null; die "silo $i not ready after 120 s (log: $DIR/silo-$i.log)"; }
      sleep 0.1; waited=$((waited + 1))
    done
    grep -m1 "SILO READY" "$DIR/silo-$i.log"
  done
  echo "cluster: $n silos on 127.0.0.1:$BASE_PORT.., Azurite on 127.0.0.1:$AZURITE_PORT, storage $STORAGE, run folder $DIR"
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
  # Azurite saves its metadata on SIGTERM: give it 10 s before kill -9 (which could lose recent writes).
  if alive "$DIR/azurite.pid"; then
    local azurite; azurite="$(cat "$DIR/azurite.pid")"
    kill -TERM "$azurite" 2>/dev/null || true
    for ((t = 0; t < 100; t++)); do kill -0 "$azurite" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$azurite" 2>/dev/null && { echo "Azurite $azurite did not stop in 10 s; kill -9"; kill -9 "$azurite" 2>/dev/null || true; }
  fi
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
