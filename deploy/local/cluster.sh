#!/usr/bin/env bash
# A local AlignCluster on loopback: N Orleans silo processes with TLS (the cluster certificate), plus Azurite when
# STORAGE=azure.
#   deploy/local/cluster.sh start N    start N silos, wait until each prints SILO READY
#   deploy/local/cluster.sh stop       graceful stop (SIGTERM) of the silos and Azurite by PID, kill -9 after 60 s
#   deploy/local/cluster.sh restart I  start silo I again (after it crashed or was killed), with its old ports
#   deploy/local/cluster.sh kill I     kill -9 of silo I (a crash: no goodbye to the membership); prints the time
#   deploy/local/cluster.sh status     show what runs
# Environment (all optional):
#   CLUSTER_DIR   run folder: logs, PIDs, data, the cluster certificate (default .cache/local-cluster)
#   BASE_PORT     silo i listens on BASE_PORT+i, its gateway on BASE_PORT+100+i (default 11111); with STORAGE=azure
#                 Azurite's blob, queue and table services on BASE_PORT-1000, -999, -998
#   STORAGE       local: development clustering (silo 0 keeps the membership) and a directory the silos share
#                 (CLUSTER_DIR/data); azure: Azurite (started here, data in CLUSTER_DIR/azurite) for table
#                 membership and reminders, blob grain state and checkpoints; no silo is special
#   CERTIFICATE   the cluster certificate (PFX) silos and clients present; created when missing
#                 (default CLUSTER_DIR/cluster.pfx). Clients: export ALIGNCLUSTER_CERTIFICATE=<it> (or --certificate).
#   SILO_DLL      the silo build (default src/Silo/bin/Release/net10.0/AlignCluster.Silo.dll)
#   AZURITE       the Azurite executable (default .cache/npm/node_modules/.bin/azurite, installed by scripts/setup.sh)
#   CPU_DEVICES   CPU devices per silo on a machine without GPUs, one count per silo separated by spaces or commas,
#                 the last repeating (default 1 each); 0 makes a silo without devices, which hosts coordinators and
#                 shards but never a trainer (e.g. CPU_DEVICES=0,1: silo 0 a head silo, every other one device)
#   Other ALIGNCLUSTER_* variables reach the silos unchanged (e.g. ALIGNCLUSTER_SILO__CPUDEVICES=2).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DIR="${CLUSTER_DIR:-$ROOT/.cache/local-cluster}"
BASE_PORT="${BASE_PORT:-11111}"
STORAGE="${STORAGE:-local}"
CERTIFICATE="${CERTIFICATE:-$DIR/cluster.pfx}"
SILO_DLL="${SILO_DLL:-$ROOT/src/Silo/bin/Release/net10.0/AlignCluster.Silo.dll}"
AZURITE="${AZURITE:-$ROOT/.cache/npm/node_modules/.bin/azurite}"
AZURITE_PORT=$((BASE_PORT - 1000))
CPU_DEVICES="${CPU_DEVICES:-}"
read -r -a CPU_DEVICE_COUNTS <<< "${CPU_DEVICES//,/ }"
# Azurite's fixed development account (the well-known emulator key, public by design).
AZURITE_KEY="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
AZURE_CONNECTION="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$AZURITE_KEY;\
BlobEndpoint=http://127.0.0.1:$AZURITE_PORT/devstoreaccount1;\
QueueEndpoint=http://127.0.0.1:$((AZURITE_PORT + 1))/devstoreaccount1;\
TableEndpoint=http://127.0.0.1:$((AZURITE_PORT + 2))/devstoreaccount1;"

die() { echo "cluster.sh: $*" >&2; exit 1; }

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start_azurite() {
  [ -x "$AZURITE" ] || die "Azurite is not installed at $AZURITE: run scripts/setup.sh"
  mkdir -p "$DIR/azurite"
  "$AZURITE" --blobHost 127.0.0.1 --blobPort "$AZURITE_PORT" --queueHost 127.0.0.1 --queuePort $((AZURITE_PORT + 1)) \
    --tableHost 127.0.0.1 --tablePort $((AZURITE_PORT + 2)) --location "$DIR/azurite" --silent --skipApiVersionCheck \
    --loose > "$DIR/azurite.log" 2>&1 &
  echo $! > "$DIR/azurite.pid"
  local waited=0 p
  for p in "$AZURITE_PORT" $((AZURITE_PORT + 1)) $((AZURITE_PORT + 2)); do
    until listening "$p"; do
      alive "$DIR/azurite.pid" || { tail -20 "$DIR/azurite.log" >&2; die "Azurite exited during start (log: $DIR/azurite.log)"; }
      [ $waited -ge 600 ] && { stop >/dev/null; die "Azurite not listening on $p after 60 s"; }
      sleep 0.1; waited=$((waited + 1))
    done
  done
}

# CPU devices of silo $1: its entry of CPU_DEVICES, else the last entry, else none given (the silo's default).
cpu_devices() {
  local n=${#CPU_DEVICE_COUNTS[@]}
  [ "$n" -eq 0 ] && return
  if [ "$1" -lt "$n" ]; then echo "${CPU_DEVICE_COUNTS[$1]}"; else echo "${CPU_DEVICE_COUNTS[$((n - 1))]}"; fi
}

# Starts silo $1 in the background and records its PID (its log restarts too).
launch() {
  local i="$1" args=(--Storage:Mode="$STORAGE") devices
  devices="$(cpu_devices "$i")"
  [ -n "$devices" ] && args+=(--Silo:CpuDevices="$devices")
  if [ "$STORAGE" = azure ]; then
    args+=(--Storage:ConnectionString="$AZURE_CONNECTION")
  else
    args+=(--Silo:Primary=127.0.0.1:$BASE_PORT --Storage:Directory="$DIR/data")
  fi
  dotnet "$SILO_DLL" --Silo:Port=$((BASE_PORT + i)) --Silo:GatewayPort=$((BASE_PORT + 100 + i)) \
    --Tls:Certificate="$CERTIFICATE" "${args[@]}" > "$DIR/silo-$i.log" 2>&1 &
  echo $! > "$DIR/silo-$i.pid"
}

start() {
  local n="${1:-}"
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "usage: cluster.sh start N (N >= 1 silos)"
  [ -f "$SILO_DLL" ] || die "silo build $SILO_DLL is missing: run 'dotnet build AlignCluster.sln -c Release' first"
  [[ "$STORAGE" = local || "$STORAGE" = azure ]] || die "STORAGE must be local or azure (was $STORAGE)"
  for d in "${CPU_DEVICE_COUNTS[@]}"; do
    [[ "$d" =~ ^[0-9]+$ ]] || die "CPU_DEVICES must be counts like 0,1 (was $CPU_DEVICES)"
  done
  for f in "$DIR"/*.pid; do [ -e "$f" ] && alive "$f" && die "a cluster is already running in $DIR (run stop first)"; done
  mkdir -p "$DIR/data"
  rm -f "$DIR"/*.pid
  echo "$n" > "$DIR/silos"
  echo "$STORAGE" > "$DIR/storage"
  echo "${CPU_DEVICES:-}" > "$DIR/cpu-devices"
  if [ ! -f "$CERTIFICATE" ]; then dotnet "$SILO_DLL" new-certificate "$CERTIFICATE" || die "cannot create $CERTIFICATE"; fi
  # Only cluster mode needs Azure Storage: the local mode keeps everything in CLUSTER_DIR/data.
  if [ "$STORAGE" = azure ]; then
    start_azurite
    # For tools that read the cluster's tables and blobs (Azure Storage Explorer, tests).
    echo "$AZURE_CONNECTION" > "$DIR/connection-string"
  fi

  for ((i = 0; i < n; i++)); do
    launch "$i"
    # Silo 0 first: it creates the membership (table, or in local mode it keeps it); the others join once it serves.
    if [ "$i" -eq 0 ]; then wait_ready 0; fi
  done
  for ((i = 0; i < n; i++)); do
    wait_ready "$i"
    grep -m1 "SILO READY" "$DIR/silo-$i.log"
  done
  echo "cluster: $n silos on 127.0.0.1:$BASE_PORT.. (gateways $((BASE_PORT + 100)).., storage $STORAGE, run folder $DIR)"
  echo "clients: export ALIGNCLUSTER_CERTIFICATE=$CERTIFICATE"
  if [ "$STORAGE" = azure ]; then echo "storage: Azurite, connection string in $DIR/connection-string"; fi
}

restart() {
  local i="${1:-}" n
  n="$(cat "$DIR/silos" 2>/dev/null)" || die "no cluster was started in $DIR"
  [[ "$i" =~ ^[0-9]+$ ]] && [ "$i" -lt "$n" ] || die "usage: cluster.sh restart I (0 <= I < $n)"
  STORAGE="$(cat "$DIR/storage")"
  read -r -a CPU_DEVICE_COUNTS <<< "$(tr ',' ' ' < "$DIR/cpu-devices" 2>/dev/null)"
  alive "$DIR/silo-$i.pid" && die "silo $i is running (pid $(cat "$DIR/silo-$i.pid")): stop it first"
  [ "$STORAGE" = azure ] && ! alive "$DIR/azurite.pid" && die "Azurite is not running: run stop, then start"
  mv -f "$DIR/silo-$i.log" "$DIR/silo-$i.log.$(date +%s)" 2>/dev/null || true
  launch "$i"
  wait_ready "$i" keep
  grep -m1 "SILO READY" "$DIR/silo-$i.log"
}

# kill -9 of silo $1 by its PID: what a crash looks like to the cluster (bring it back with restart I).
crash() {
  local i="${1:-}" n pid
  n="$(cat "$DIR/silos" 2>/dev/null)" || die "no cluster was started in $DIR"
  [[ "$i" =~ ^[0-9]+$ ]] && [ "$i" -lt "$n" ] || die "usage: cluster.sh kill I (0 <= I < $n)"
  alive "$DIR/silo-$i.pid" || die "silo $i is not running"
  pid="$(cat "$DIR/silo-$i.pid")"
  kill -9 "$pid"
  echo "silo $i (pid $pid, port $((BASE_PORT + i))) killed at $(date -u +%H:%M:%S.%3N) UTC"
}

# Waits for silo $1's SILO READY line; on failure stops the whole cluster unless $2 = keep (a restart).
wait_ready() {
  local i="$1" keep="${2:-}" waited=0
  until grep -q "SILO READY" "$DIR/silo-$i.log" 2>/dev/null; do
    if ! alive "$DIR/silo-$i.pid"; then
      tail -20 "$DIR/silo-$i.log" >&2
      [ -z "$keep" ] && stop >/dev/null
      die "silo $i exited during start (log: $DIR/silo-$i.log)"
    fi
    if [ $waited -ge 1200 ]; then
      [ -z "$keep" ] && stop >/dev/null
      die "silo $i not ready after 120 s (log: $DIR/silo-$i.log)"
    fi
    sleep 0.1; waited=$((waited + 1))
  done
}

# SIGTERM to the processes of the PID files $@, kill -9 after 60 s.
terminate() {
  local pids=() f
  for f in "$@"; do [ -e "$f" ] && alive "$f" && pids+=("$(cat "$f")"); done
  [ ${#pids[@]} -gt 0 ] && kill -TERM "${pids[@]}" 2>/dev/null || true
  for ((t = 0; t < 600; t++)); do
    local left=0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && left=1; done
    [ $left -eq 0 ] && break
    sleep 0.1
  done
  for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && { echo "pid $p did not stop in 60 s; kill -9"; kill -9 "$p" 2>/dev/null || true; }; done
  stopped=$((stopped + ${#pids[@]}))
}

stop() {
  stopped=0
  # Silos first: leaving the cluster gracefully updates the membership table, which lives in Azurite.
  terminate "$DIR"/silo-*.pid
  terminate "$DIR"/azurite.pid
  rm -f "$DIR"/*.pid
  echo "cluster: stopped ($stopped processes)"
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
  restart) restart "${2:-}" ;;
  kill) crash "${2:-}" ;;
  status) status ;;
  *) die "usage: cluster.sh start N | stop | restart I | kill I | status" ;;
esac
