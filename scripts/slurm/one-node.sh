#!/usr/bin/env bash
# A one-node Slurm cluster in a directory, for testing the scripts here: munged, slurmctld and slurmd run
# as root with their own key, configuration, state, sockets and logs under DIR, nothing under /etc.
# Installs slurm-wlm and munge (Debian packages) when missing.
#
#   scripts/slurm/one-node.sh start DIR   # then export SLURM_CONF=DIR/slurm.conf
#   scripts/slurm/one-node.sh stop DIR    # cancels its jobs, stops the daemons that start started, by id
set -euo pipefail

# The first port from $1 on that nothing listens to on this host.
free_port() {
  local p=$1
  while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done
  echo "$p"
}

# Starts a daemon in the foreground of a background job; records its id and name in DIR/pids.
daemon() {
  local name=$1
  shift
  "$@" </dev/null >>"$dir/log/$name.out" 2>&1 &
  echo "$! $name" >>"$dir/pids"
}

start() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "one-node: run as root (the daemons and jobs run as root)" >&2
    exit 1
  fi
  if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
    echo "one-node: installing slurm-wlm and munge"
    (apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge) \
      >"$dir.apt.log" 2>&1 || {
      echo "one-node: apt-get install slurm-wlm munge failed; see $dir.apt.log" >&2
      exit 1
    }
  fi
  mkdir -p "$dir"/{state,spool,log,munge}
  chmod 700 "$dir/munge"
  head -c 1024 /dev/urandom >"$dir/munge/munge.key"
  chmod 400 "$dir/munge/munge.key"
  local node
  node=$(hostname -s)
  cat >"$dir/slurm.conf" <<CONF
ClusterName=onenode
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$(free_port 16817)
SlurmdPort=$(free_port 16917)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
# cred_expire is also how long a requeued job waits before it may start again (default 120 s).
AuthInfo=socket=$dir/munge/munge.socket,cred_expire=10
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MailProg=/bin/true
$(slurmd -C | head -n 1) NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
  : >"$dir/pids"
  daemon munged munged -F --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
    --pid-file="$dir/munge/munged.pid" --log-file="$dir/log/munged.log" --seed-file="$dir/munge/munged.seed"
  daemon slurmctld slurmctld -D -c -f "$dir/slurm.conf"
  daemon slurmd slurmd -D -N "$node" -f "$dir/slurm.conf"
  export SLURM_CONF=$dir/slurm.conf
  for _ in $(seq 60); do
    if [ "$(sinfo -h -o %T 2>/dev/null)" = idle ]; then
      echo "one-node: $node up (SLURM_CONF=$SLURM_CONF)"
      return
    fi
    sleep 1
  done
  echo "one-node: the node did not come up in 60 s; logs in $dir/log" >&2
  exit 1
}

stop() {
  [ -f "$dir/pids" ] || return 0
  SLURM_CONF=$dir/slurm.conf scancel --user=root 2>/dev/null || true
  tac "$dir/pids" | while read -r pid name; do
    # Only the process we started: a recycled id would name another command.
    if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" != "$name" ]; then continue; fi
    kill "$pid"
    for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null && sleep 0.5; done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; fi
  done
  rm "$dir/pids"
  echo "one-node: stopped"
}

case ${1:-} in
  start | stop) dir=$(realpath -m "${2:?"usage: $0 start|stop DIR"}") && "$1" ;;
  *)
    echo "usage: $0 start|stop DIR" >&2
    exit 2
    ;;
esac
