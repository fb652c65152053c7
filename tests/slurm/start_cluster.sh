#!/usr/bin/env bash
# Start a single-node SLURM cluster on this machine, for the tests of profiles/slurm: Debian's
# Slurm and munge, installed if missing, their daemons started directly (no systemd), as root.
# Idempotent: a cluster this script started and that still runs is left as it is. Returns once
# the node is idle. tests/slurm/stop_cluster.sh stops it by the PIDs this script records.
set -euo pipefail
STATE=/run/ckptorder-slurm
PACKAGES=(slurmctld slurmd slurm-client munge)

running() { [[ -f "$STATE/$1.pid" ]] && kill -0 "$(cat "$STATE/$1.pid")" 2>/dev/null; }

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q "${PACKAGES[@]}" >/dev/null ||
        { apt-get update -q >/dev/null && apt-get install -y -q "${PACKAGES[@]}" >/dev/null; }
fi
mkdir -p "$STATE" /var/lib/slurm/slurmctld /var/lib/slurm/slurmd /var/log/slurm

if ! running munged; then
    # The package made the key; munged runs as its own user and refuses to run as root.
    install -d -o munge -g munge -m 0755 /run/munge
    runuser -u munge -- munged --force --pid-file=/run/munge/munged.pid
    cp /run/munge/munged.pid "$STATE/munged.pid"
fi

if ! running slurmctld || ! running slurmd; then
    # Without slurmdbd there is no accounting: sacct fails, so jobs are followed with squeue,
    # which sees a finished job for MinJobAge seconds (the plugin needs 3x its first wait).
    cat > /etc/slurm/slurm.conf <<CONF
ClusterName=ckptorder
SlurmctldHost=$(hostname -s)
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmdSpoolDir=/var/lib/slurm/slurmd
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
ReturnToService=2
MinJobAge=300
$(slurmd -C | head -n 1)
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
    running slurmctld || slurmctld
    running slurmd || slurmd
fi

for _ in $(seq 120); do
    if [[ "$(sinfo -h -N -o %T 2>/dev/null)" == idle ]]; then
        echo "SLURM: node $(hostname -s) idle in partition debug"
        exit 0
    fi
    sleep 0.5
done
echo "error: the SLURM node did not become idle in 60 s; see /var/log/slurm/" >&2
exit 1
