#!/usr/bin/env bash
# The offline proof of the GPU path, on the software adapter (as root, for `unshare -n`):
#  1. bundle.sh builds .offline/bundle.tar.xz (under 60 MiB), and the unpacked copy is removed, so that
#     run.sh unpacks the archive itself;
#  2. run.sh --budget 3 runs in a network namespace with no network; every stage must have written its
#     output, within the budget plus 30 s, and the training stage a checkpoint;
#  3. run.sh --budget 2 --stages train, offline too, resumes that checkpoint to a later step M; a straight
#     run of the same row to step M (repro --until-step M) must hold the same training state, byte for byte
#     (scripts/slurm/same-state.ts: every tensor, every metadata entry but the wall-clock seconds).
# Says how long it took.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
fail() {
  echo "gpu offline test: FAIL: $*" >&2
  exit 1
}
[ "$(id -u)" -eq 0 ] || fail "needs root (unshare -n)"
cd "$root"
"$here/bundle.sh"
rm -rf .offline/bundle
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
offline() { unshare -n -- "$@"; }
offline bash -c 'exec 3<>/dev/tcp/registry.npmjs.org/443' 2>/dev/null && fail "the namespace has a network"

t0=$(date +%s)
OUT="$work/out" offline "$here/run.sh" --budget 3 | tee "$work/run1.txt"
took=$(($(date +%s) - t0))
echo "run 1 took ${took} s"
[ "$took" -le 210 ] || fail "run.sh --budget 3 took ${took} s, over 3 minutes and 30 s"
for f in adapter.txt tests.log bench.log estimate-mnist.txt train.log; do
  [ -s "$work/out/$f" ] || fail "stage output $f is missing or empty"
done
grep -q '^adapter:' "$work/out/adapter.txt" || fail "adapter.txt names no adapter"
grep -q 'ok\|FAILED' "$work/out/tests.log" || fail "tests.log holds no test result"
grep -q 'bench\|benchmark' "$work/out/bench.log" || fail "bench.log holds no benchmark"
# Its first table's estimate began (a slow adapter may reach its share before the first row is timed).
grep -q '^estimate of mnist' "$work/out/estimate-mnist.txt" || fail "estimate-mnist.txt: no estimate began"
grep -q '^== scripts/gpu/run.sh' "$work/run1.txt" || fail "no summary"
ckpt="$work/out/runs/mnist-pixelcnn-paper.safetensors"
[ -f "$ckpt" ] || fail "the training stage wrote no checkpoint ($ckpt)"

deno=.offline/bundle/bin/deno
export DENO_DIR="$root/.offline/bundle/deno_dir" XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$work}"
step_of() { "$deno" eval --cached-only "
  import { decodeSafetensors } from './src/engine/safetensors.ts';
  console.log(decodeSafetensors(Deno.readFileSync('$1'), '$1').metadata.step);"; }
n=$(step_of "$ckpt")
echo "run 1 checkpoint: step $n"
[ "$n" -ge 1 ] || fail "the training stage checkpointed step $n"

# Two minutes: 90 s of training after run.sh's 30 s reserve, room for repro's start, its projection (it
# times a few steps first) and some steps on a slow, shared machine.
OUT="$work/out" offline "$here/run.sh" --budget 2 --stages train | tee "$work/run2.txt"
m=$(step_of "$ckpt")
echo "run 2 (resumed) checkpoint: step $m"
if [ "$m" -le "$n" ]; then
  echo "run 2's train.log ends:"
  tr '\r' '\n' <"$work/out/train.log" | tail -n 15 | sed 's/^/  /'
  fail "the resumed run did not go past step $n"
fi

# In $work, so that its results/ (curve file, report page) land there, not in the repository.
(cd "$work" && offline "$root/$deno" run -A --cached-only --config "$root/deno.json" \
  "$root/src/harness/cli/repro.ts" mnist --tier paper --rows pixelcnn --yes --checkpoints "$work/straight" \
  --until-step "$m" --out "$work/straight.csv" --no-figures) \
  >"$work/straight.log" 2>&1 || { tail -n 5 "$work/straight.log"; fail "the straight run failed"; }
[ -z "$(git status --porcelain -- results)" ] || fail "a run changed the repository's results/"
"$deno" run -A --cached-only scripts/slurm/same-state.ts "$work/straight/mnist-pixelcnn-paper.safetensors" "$ckpt" ||
  fail "resumed and straight runs differ at step $m"
echo "the resumed run equals a straight run to step $m (training state, byte for byte)"
echo "gpu offline test: passed in $((SECONDS / 60))m$((SECONDS % 60))s"
