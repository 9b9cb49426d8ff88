#!/usr/bin/env bash
# Submits a paper table to Slurm: a job array with one task per runnable row (repro-array.sbatch), and a
# merge job that runs once every task has succeeded (merge.sbatch). Prints both job ids.
#
#   scripts/slurm/submit.sh <table> [--tier T] [--data DIR] [--results DIR] [--runs DIR] [sbatch options]
#
# --results DIR  where <table>.<row>.csv and the merged <table>.csv go (default results/ of this checkout)
# --runs DIR     checkpoints, and the jobs' logs under logs/ (default runs/ of this checkout)
# Any other option goes to sbatch, e.g. --partition=gpu --time=2-00:00:00 --gres=gpu:1. GPU requests
# (--gres, --gpus*, -G) go to the array only: the merge needs no GPU. Nothing requests a GPU by default.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$here/common.sh"

if [ $# -lt 1 ] || [[ $1 == -* ]]; then
  sed -n '5p' "${BASH_SOURCE[0]}" | sed 's/^# *//' >&2
  exit 2
fi
table=$1
shift
repro_opts=() array_opts=() merge_opts=()
results=$root/results runs=$root/runs
while [ $# -gt 0 ]; do
  case $1 in
    --tier) repro_opts+=(--tier "$2") && shift ;;
    --data) repro_opts+=(--data "$(realpath -m "$2")") && shift ;;
    --results) results=$(realpath -m "$2") && shift ;;
    --runs) runs=$(realpath -m "$2") && shift ;;
    --gres=* | --gpus*=* | --gpu-*=* | -G?*) array_opts+=("$1") ;;
    --gres | --gpus* | --gpu-* | -G) array_opts+=("$1" "$2") && shift ;;
    *) array_opts+=("$1") && merge_opts+=("$1") ;;
  esac
  shift
done

list=$(repro "$table" --list-rows "${repro_opts[@]}") # (an unknown table or tier stops here)
mapfile -t rows <<<"$list"
mkdir -p "$results" "$runs/logs"
# --parsable prints "id" or "id;cluster".
array=$(sbatch --parsable --array="0-$((${#rows[@]} - 1))" --job-name="repro-$table" --chdir="$root" \
  --output="$runs/logs/%x-%A_%a.out" "${array_opts[@]}" \
  "$here/repro-array.sbatch" "$table" "$results" "$runs" "${repro_opts[@]}")
array=${array%%;*}
# A task that fails or is killed fails the merge's dependency for good, even once requeued; the dependency
# must then be set again, which Slurm (22.05) accepts per task but not for the whole array (afterok:$array
# remembers the failure). Hence one dependency per task.
tasks=$(seq -s : -f "${array}_%g" 0 $((${#rows[@]} - 1)))
merge=$(sbatch --parsable --dependency="afterok:$tasks" --job-name="repro-$table-merge" --chdir="$root" \
  --output="$runs/logs/%x-%j.out" "${merge_opts[@]}" \
  "$here/merge.sbatch" "$table" "$results" "${repro_opts[@]}")
merge=${merge%%;*}
echo "array job $array: $table, ${#rows[@]} rows (${rows[*]}) -> $results/$table.<row>.csv"
echo "merge job $merge: after every task of job $array succeeds -> $results/$table.csv"
echo "logs: $runs/logs/"
echo "if a task fails or is killed: scontrol requeue ${array}_<task>, then" \
  "scontrol update JobId=$merge Dependency=afterok:$tasks"
