#!/usr/bin/env bash
# Stop the cluster tests/slurm/start_cluster.sh started, by the PIDs it recorded.
set -euo pipefail
STATE=/run/ckptorder-slurm
for daemon in slurmd slurmctld munged; do
    pidfile="$STATE/$daemon.pid"
    [[ -f "$pidfile" ]] || continue
    pid=$(cat "$pidfile")
    if kill "$pid" 2>/dev/null; then
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$pidfile"
done
