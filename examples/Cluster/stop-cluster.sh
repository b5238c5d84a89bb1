#!/usr/bin/env bash
# Stops the silos that start-cluster.sh started.
set -uo pipefail
cd "$(dirname "$0")"
for pid_file in .cluster/silo*.pid; do
  [ -e "$pid_file" ] || continue
  pid=$(cat "$pid_file")
  kill "$pid" 2>/dev/null && echo "stopped $(basename "$pid_file" .pid) (pid $pid)"
  rm -f "$pid_file"
done
