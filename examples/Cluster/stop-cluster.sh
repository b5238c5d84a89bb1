#!/usr/bin/env bash
# Stops the silos that start-cluster.sh started: asks each to shut down, and kills it if it has not exited in 15 s,
# so that their ports are free for the next start-cluster.sh.
set -uo pipefail
cd "$(dirname "$0")"
pids=()
for pid_file in .cluster/silo*.pid; do
  [ -e "$pid_file" ] || continue
  pid=$(cat "$pid_file")
  rm -f "$pid_file"
  if kill "$pid" 2>/dev/null; then
    echo "stopping $(basename "$pid_file" .pid) (pid $pid)"
    pids+=("$pid")
  fi
done
for pid in "${pids[@]}"; do
  for ((t = 0; t < 60; t++)); do
    kill -0 "$pid" 2>/dev/null || continue 2
    sleep 0.25
  done
  kill -9 "$pid" 2>/dev/null
done
