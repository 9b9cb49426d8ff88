#!/usr/bin/env bash
# The Slurm example for real, on a one-node cluster started here (as root; one-node.sh installs slurm-wlm
# and munge when missing), with its results and checkpoints in a temporary directory.
#  1. submit.sh mnist --tier smoke; once the merge job has run, the merged Table 4 must hold every row with
#     none missing (the merge job's --check passed too, or it would not have completed).
#  2. The same again, with one array task killed mid-way (scancel --signal=KILL) and requeued (scontrol
#     requeue): the merged NLL column, and every row's checkpoint, must equal run 1's byte for byte (the
#     training state: every tensor, and every metadata entry but wall_s, the wall-clock seconds).
# Stops the daemons it started, by process id, however it ends, and says how long it took.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$here/common.sh"

fail() {
  echo "slurm test: FAIL: $*" >&2
  exit 1
}

# A job's state (PENDING, RUNNING, COMPLETED, CANCELLED, ...), and why it waits.
state() { scontrol show job "$1" | sed -n 's/.*JobState=\([A-Z_]*\) Reason=\([^ ]*\).*/\1 \2/p' | head -n 1; }

# Waits until job $1 has ended; fails if it waits on a dependency that can never be met, or after $2 s.
wait_ended() {
  local s
  for _ in $(seq "$2"); do
    s=$(state "$1")
    case $s in
      "PENDING DependencyNeverSatisfied") fail "job $1 waits on a dependency that failed" ;;
      PENDING* | RUNNING* | COMPLETING* | CONFIGURING* | REQUEUED* | SUSPENDED*) sleep 1 ;;
      *) return ;;
    esac
  done
  fail "job $1 still ${s% *} after $2 s"
}

# Submits the table as a user would; sets $array, $merge and $rearm (the merge's dependency, as submit.sh prints it).
submit() {
  local out
  out=$("$here/submit.sh" mnist --tier smoke --results "$work/$1/results" --runs "$work/$1/runs")
  echo "$out"
  array=$(awk '/^array job/ {sub(":", "", $3); print $3}' <<<"$out")
  merge=$(awk '/^merge job/ {sub(":", "", $3); print $3}' <<<"$out")
  rearm=$(sed -n 's/.*, then scontrol update .*Dependency=//p' <<<"$out")
}

# Waits for the merge job of run $1, shows its log, checks the table is whole; its NLL column to $1/nll.txt.
merged() {
  wait_ended "$merge" 900
  cat "$work/$1/runs/logs/repro-mnist-merge-$merge.out"
  [ "$(state "$merge")" = "COMPLETED None" ] || fail "merge job $merge ended $(state "$merge")"
  "${deno[@]}" run -A "$here/whole-nll.ts" mnist "$work/$1/results/mnist.csv" >"$work/$1/nll.txt"
  echo "run $1: $work/$1/results/mnist.csv holds every row of Table 4, none missing; NLL column:"
  cat "$work/$1/nll.txt"
}

work=$(mktemp -d "${TMPDIR:-/tmp}/repro-slurm.XXXXXX")
trap '"$here/one-node.sh" stop "$work/cluster"' EXIT
"$here/one-node.sh" start "$work/cluster"
export SLURM_CONF=$work/cluster/slurm.conf

list=$(repro mnist --list-rows)
mapfile -t rows <<<"$list"

echo "== run 1: submit.sh mnist --tier smoke"
submit 1
merged 1
# Each task writes its row's curve, and the report page, next to its results file, not into the checkout.
curves=$work/1/results/mnist-smoke-curves.csv
for row in "${rows[@]}"; do grep -q "^$row," "$curves" || fail "$curves holds no curve of row $row"; done
[ -f "$work/1/results/index.html" ] || fail "no report page next to the results in $work/1/results"

echo "== run 2: the same, one task killed mid-way and requeued"
submit 2
task=1 row=${rows[1]}
log=$work/2/runs/logs/repro-mnist-${array}_$task.out
# Killed once repro has started: a smoke row itself can finish within a second of its first line, before
# scancel lands, while repro first times the row's steps for its projection (seconds).
for _ in $(seq 3000); do
  if grep -q "^repro mnist (" "$log" 2>/dev/null; then break; fi
  sleep 0.1
done
grep -q "^repro mnist (" "$log" || fail "task ${array}_$task did not start repro in 300 s"
scancel --signal=KILL "${array}_$task"
wait_ended "${array}_$task" 60
echo "task ${array}_$task ($row) killed mid-row: $(state "${array}_$task")"
[ ! -e "$work/2/results/mnist.$row.csv" ] || fail "task ${array}_$task had finished its row before the kill"
for _ in $(seq 300); do
  pgrep -f -- "--out $work/2/results/mnist.$row.csv" >/dev/null || break
  sleep 0.1
done
if pgrep -f -- "--out $work/2/results/mnist.$row.csv" >/dev/null; then fail "the killed task's repro still runs after 30 s"; fi
scontrol requeue "${array}_$task"
# The kill failed the merge job's dependency for good: re-arm it as submit.sh says.
scontrol update JobId="$merge" Dependency="$rearm"
echo "task ${array}_$task requeued; merge job $merge re-armed: $(state "$merge")"
merged 2
echo "the log of task ${array}_$task, both runs:"
sed 's/^/  /' "$log"
grep -q "task $task of job $array (run 2)" "$log" || fail "task ${array}_$task did not run again"
diff "$work/1/nll.txt" "$work/2/nll.txt" || fail "the NLL column of run 2 differs from run 1's"
for ckpt in "$work"/1/runs/*.safetensors; do
  "${deno[@]}" run -A "$here/same-state.ts" "$ckpt" "$work/2/runs/${ckpt##*/}" ||
    fail "checkpoint ${ckpt##*/} differs between the runs"
done
echo "run 2 equals run 1: the NLL column, and the training state in the checkpoints of all ${#rows[@]} rows," \
  "byte for byte (every tensor and every metadata entry but the wall-clock seconds)"
echo "slurm test: passed in $((SECONDS / 60))m$((SECONDS % 60))s"
