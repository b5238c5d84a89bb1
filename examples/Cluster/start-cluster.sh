#!/usr/bin/env bash
# Starts the example's silos as background processes on 127.0.0.1 (3 by default; silo i on port 11111+i, gateway
# 30000+i), each logging to examples/Cluster/.cluster/siloN.log. Stop them with examples/Cluster/stop-cluster.sh.
#
#   examples/Cluster/start-cluster.sh [SILOS] [extra silo arguments, e.g. --base-port 12000 --gateway-port 31000]
set -euo pipefail
cd "$(dirname "$0")"
silos=${1:-3}
shift || true
state=.cluster
mkdir -p "$state"

dotnet build -c Release --nologo -v quiet >/dev/null
dll=bin/Release/net10.0/Cluster.dll

for ((i = 0; i < silos; i++)); do
  if [ -f "$state/silo$i.pid" ] && kill -0 "$(cat "$state/silo$i.pid")" 2>/dev/null; then
    echo "silo$i is already running (pid $(cat "$state/silo$i.pid")); run stop-cluster.sh first" >&2
    exit 1
  fi
  # Empty the log here, not in the background job's redirection: that one runs later, after the wait below has
  # already read the last run's "ready" line.
  : >"$state/silo$i.log"
  nohup dotnet "$dll" silo --id "$i" --silos "$silos" "$@" >>"$state/silo$i.log" 2>&1 &
  echo $! >"$state/silo$i.pid"
  # Silo 0 holds the membership table: wait for each silo before the next joins.
  for ((t = 0; t < 240; t++)); do
    grep -q ' ready ' "$state/silo$i.log" && break
    kill -0 "$(cat "$state/silo$i.pid")" 2>/dev/null || break
    sleep 0.25
  done
  grep ' ready ' "$state/silo$i.log" || { echo "silo$i did not start; the end of $PWD/$state/silo$i.log:" >&2; tail -n 20 "$state/silo$i.log" >&2; exit 1; }
done
