#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, to try (and test) the README's array job without a real
# cluster. Everything it writes lives in one folder: slurm.conf, the munge key and socket, state,
# spool, logs and pid files. It starts the daemons itself, so it works in containers without systemd.
#
#   scripts/slurm/localCluster.sh install     Debian's slurm-wlm and munge, when missing (root)
#   scripts/slurm/localCluster.sh start DIR   config in DIR, munged + slurmctld + slurmd up, node idle;
#                                             prints `export SLURM_CONF=DIR/slurm.conf` on stdout
#   scripts/slurm/localCluster.sh stop DIR    cancels the cluster's jobs, stops the daemons DIR started
#
# Run it as root: slurmd runs each job as the user who submitted it, which needs root (SlurmUser=root).
set -euo pipefail

log() { printf 'localCluster: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

install_slurm() {
  if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null && command -v munged >/dev/null; then
    return 0
  fi
  [ "$(id -u)" = 0 ] || die "slurm-wlm and munge are missing and installing them needs root: apt-get install slurm-wlm munge"
  command -v apt-get >/dev/null || die "slurm-wlm and munge are missing and this is not a Debian-like system (no apt-get)"
  log "installing slurm-wlm and munge (apt-get)"
  # Another apt-get (a parallel job, unattended upgrades) may hold the lock: wait for it instead of failing.
  local apt=(apt-get -o DPkg::Lock::Timeout=600 -y -q)
  if ! DEBIAN_FRONTEND=noninteractive "${apt[@]}" install --no-install-recommends slurm-wlm munge >&2; then
    # The package lists may be stale or absent (a fresh container): refresh them once and retry.
    DEBIAN_FRONTEND=noninteractive "${apt[@]}" update >&2
    DEBIAN_FRONTEND=noninteractive "${apt[@]}" install --no-install-recommends slurm-wlm munge >&2
  fi
}

# True when nothing listens on 127.0.0.1:$1.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The pid in $1 if that process is alive and runs the program $2 (a pid file can outlive its process,
# and the pid can be reused by another program).
live_pid() {
  local file=$1 program=$2 pid
  [ -s "$file" ] || return 1
  pid=$(tr -dc '0-9' <"$file")
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "$program" || return 1
  echo "$pid"
}

show_logs() {
  local dir=$1 file
  for file in "$dir"/log/*.log; do
    [ -f "$file" ] || continue
    log "--- last lines of $file"
    tail -n 20 "$file" >&2
  done
}

start_cluster() {
  local dir=$1
  [ "$(id -u)" = 0 ] || die "start needs root (slurmd runs jobs as their users)"
  install_slurm
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  local conf=$dir/slurm.conf host cpus ctld_port
  host=$(hostname -s)
  cpus=$(nproc)
  if live_pid "$dir/slurmctld.pid" slurmctld >/dev/null; then die "$dir already runs a cluster; stop it first: $0 stop $dir"; fi
  # A unix socket path is limited to 107 bytes.
  [ ${#dir} -le 80 ] || die "$dir is too long a path for munge's socket; choose a shorter folder"
  mkdir -p "$dir/munge" "$dir/state" "$dir/spool" "$dir/log"
  # munged wants every folder above its socket searchable by all (clients of any user connect to
  # it), and the key readable by root alone.
  chmod 755 "$dir" "$dir/munge"
  local above=$dir
  while above=$(dirname "$above") && [ "$above" != / ]; do
    [ "$(( $(stat -c '%#a' "$above") & 1 ))" = 1 ] || die "munged needs $above searchable by all users (chmod o+x $above), or choose a folder elsewhere"
  done

  # Ports of their own, so a cluster already on this machine (or another test's) is left alone.
  ctld_port=6817
  while ! port_free "$ctld_port" || ! port_free $((ctld_port + 1)); do
    ctld_port=$((ctld_port + 2))
    [ "$ctld_port" -lt 6917 ] || die "no two free ports in 6817..6917"
  done

  cat >"$conf" <<EOF
# One node on localhost, written by scripts/slurm/localCluster.sh. No cgroups, which containers
# rarely allow: a job's processes are tracked by process group and not confined. (proctrack/linuxproc
# would lose them under npx: it reads /proc/PID/stat, and npm's process title has spaces.)
ClusterName=icllab
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$((ctld_port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/pgid
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
# Trust the CPU count below over what slurmd detects (a container may see more cores than it has).
SlurmdParameters=config_overrides
ReturnToService=2
# scancel sends SIGTERM to every process of the job, then SIGKILL this many seconds later.
KillWait=10
# Finished jobs stay visible to squeue/scontrol for this long.
MinJobAge=600
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF

  local sock=$dir/munge/munge.socket
  if [ ! -s "$dir/munge/munge.key" ]; then mungekey --create --keyfile="$dir/munge/munge.key" >&2; fi
  chmod 600 "$dir/munge/munge.key"
  if ! live_pid "$dir/munge/munged.pid" munged >/dev/null; then
    munged --socket="$sock" --key-file="$dir/munge/munge.key" --pid-file="$dir/munge/munged.pid" \
      --log-file="$dir/log/munged.log" --seed-file="$dir/munge/munged.seed" </dev/null >>"$dir/log/munged.log" 2>&1 ||
      { show_logs "$dir"; die "munged did not start"; }
  fi
  if ! munge --socket="$sock" -n | unmunge --socket="$sock" >/dev/null; then
    show_logs "$dir"
    die "munge -n | unmunge failed: munged on $sock does not answer"
  fi

  # The daemons fork into the background themselves; their stdio goes to the log, never to the
  # caller's pipes (a test waiting for this script's output would otherwise wait for the daemons too).
  SLURM_CONF=$conf slurmctld -f "$conf" </dev/null >>"$dir/log/slurmctld.log" 2>&1 || { show_logs "$dir"; die "slurmctld did not start"; }
  SLURM_CONF=$conf slurmd -f "$conf" </dev/null >>"$dir/log/slurmd.log" 2>&1 || { show_logs "$dir"; die "slurmd did not start"; }

  local state='' waited=0
  while [ "$waited" -lt 120 ]; do
    state=$(SLURM_CONF=$conf sinfo -h -N -n "$host" -o '%t' 2>/dev/null || true)
    [ "$state" = idle ] && break
    sleep 1
    waited=$((waited + 1))
  done
  if [ "$state" != idle ]; then
    show_logs "$dir"
    die "node $host is '${state:-not listed}' after ${waited}s, not idle"
  fi
  log "node $host idle ($cpus CPUs), slurmctld on port $ctld_port, files in $dir"
  echo "export SLURM_CONF=$conf"
}

stop_cluster() {
  local dir=$1 conf pid name file waited
  dir=$(cd "$dir" && pwd)
  conf=$dir/slurm.conf
  # Jobs first: their slurmstepd processes outlive slurmd.
  if live_pid "$dir/slurmctld.pid" slurmctld >/dev/null; then
    local jobs
    jobs=$(SLURM_CONF=$conf squeue -h -o '%A' 2>/dev/null | sort -u | tr '\n' ' ')
    if [ -n "${jobs// /}" ]; then
      log "cancelling jobs $jobs"
      # shellcheck disable=SC2086
      SLURM_CONF=$conf scancel $jobs || true
      waited=0
      while [ -n "$(SLURM_CONF=$conf squeue -h -o '%A' 2>/dev/null)" ] && [ "$waited" -lt 30 ]; do
        sleep 1
        waited=$((waited + 1))
      done
    fi
  fi
  for name in slurmd slurmctld munged; do
    file=$dir/$name.pid
    [ "$name" = munged ] && file=$dir/munge/munged.pid
    pid=$(live_pid "$file" "$name") || continue
    kill -TERM "$pid" 2>/dev/null || true
    waited=0
    while [ -d "/proc/$pid" ] && [ "$waited" -lt 150 ]; do
      sleep 0.1
      waited=$((waited + 1))
    done
    if [ -d "/proc/$pid" ]; then
      log "$name ($pid) ignored SIGTERM for 15s: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    log "stopped $name ($pid)"
  done
}

case "${1:-}" in
  install) install_slurm ;;
  start) start_cluster "${2:-$(mktemp -d /tmp/icl-lab-slurm.XXXXXX)}" ;;
  stop)
    [ -n "${2:-}" ] || die "usage: $0 stop DIR"
    stop_cluster "$2"
    ;;
  *) die "usage: $0 install | start [DIR] | stop DIR" ;;
esac
