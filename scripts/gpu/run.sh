#!/usr/bin/env bash
# One budgeted run on a GPU machine without network, from the bundle scripts/gpu/bundle.sh made
# (.offline/bundle.tar.xz, unpacked here when needed; that counts against the budget).
#
#   scripts/gpu/run.sh [--budget MIN] [--stages LIST]
#
# Writes everything under $OUT when set, else results/gpu/, in this order, skipping a stage the budget no
# longer allows and cutting one that runs past its share:
#   adapter    adapter.txt: the adapter, its limits and features (deno task info)
#   tests      tests.log: the kernel, model and causality tests on this adapter
#   bench      bench.log and bench-<adapter>.csv: the kernel benchmarks, against the best matmul of the run
#   estimate   estimate-<table>.txt: repro <table> --estimate --tier paper, for every table; for mnist and
#              cifar10 also estimate-<table>-per-step.txt, with every LSTM scan run per step
#   train      train.log, runs/ and mnist.pixelcnn.csv: the Table 4 PixelCNN row at the paper tier, with a
#              checkpoint every two minutes and at the end; a later run given runs/ back resumes it
# The budget (default 7 minutes) is never exceeded by more than 30 s; it ends with a one-screen summary.
# LIST is a comma-separated subset of the stages above (default: all).
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
budget=7
stages="adapter,tests,bench,estimate,train"
while [ $# -gt 0 ]; do
  case $1 in
    --budget) budget=${2:?--budget needs minutes}; shift 2 ;;
    --stages) stages=${2:?--stages needs a list}; shift 2 ;;
    -h | --help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done
if ! [[ $budget =~ ^[0-9]+([.][0-9]+)?$ ]]; then
  echo "run.sh: --budget takes minutes, a decimal number: $budget" >&2
  exit 2
fi
out=${OUT:-$root/results/gpu}
mkdir -p "$out" || exit 1
start=$(date +%s)
end=$((start + $(awk -v b="$budget" 'BEGIN { printf "%d", b * 60 }')))
summary=()
note() { summary+=("$1"); echo "run.sh: $1"; }
left() { echo $((end - $(date +%s))); }

# --- the bundle -------------------------------------------------------------------------------------------
off="$root/.offline"
if [ ! -x "$off/bundle/bin/deno" ]; then
  [ -f "$off/bundle.tar.xz" ] || { echo "run.sh: no $off/bundle.tar.xz (make it with scripts/gpu/bundle.sh)" >&2; exit 1; }
  tar -C "$off" -xJf "$off/bundle.tar.xz" || exit 1
fi
deno="$off/bundle/bin/deno"
export DENO_DIR="$off/bundle/deno_dir" DENO_NO_UPDATE_CHECK=1
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
# The Vulkan and EGL loaders, where the machine has none: into / as root (then ldconfig), else into a
# private root on LD_LIBRARY_PATH.
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1 '; then
  if [ "$(id -u)" -eq 0 ]; then
    for f in "$off"/bundle/debs/*.deb; do dpkg -x "$f" /; done
    ldconfig
  else
    for f in "$off"/bundle/debs/*.deb; do dpkg -x "$f" "$off/bundle/root"; done
    export LD_LIBRARY_PATH="$off/bundle/root/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  fi
  note "loaders unpacked from the bundle"
fi
# A driver that ships its ICD files outside the loader's search path (seen in GPU containers).
nv=/usr/local/nvidia/share
if [ -z "${VK_DRIVER_FILES:-}" ] && [ -f "$nv/vulkan/icd.d/nvidia_icd.json" ] &&
  ! ls /usr/share/vulkan/icd.d/nvidia_icd*.json /etc/vulkan/icd.d/nvidia_icd*.json >/dev/null 2>&1; then
  export VK_DRIVER_FILES="$nv/vulkan/icd.d/nvidia_icd.json"
  export __EGL_VENDOR_LIBRARY_FILENAMES="$nv/glvnd/egl_vendor.d/10_nvidia.json"
fi

# --- stages -----------------------------------------------------------------------------------------------
# stage NAME SHARE_PERCENT COMMAND...: runs COMMAND for at most SHARE_PERCENT of the budget and never past
# its end less 30 s, with its output in $out/NAME.log. Then SIGTERM, and SIGKILL 25 s later: room for repro
# to finish its step (seconds on a cold shader cache) and write the checkpoint, and the run still ends
# within the budget.
stage() {
  local name=$1 share=$2
  shift 2
  if [[ ",$stages," != *",$name,"* ]]; then return 0; fi
  local cap=$((share * (end - start) / 100)) room=$(($(left) - 30))
  [ "$cap" -gt "$room" ] && cap=$room
  if [ "$cap" -lt 5 ]; then
    note "$name: skipped, the budget is spent"
    return 0
  fi
  local t0 code
  t0=$(date +%s)
  # A shell function is defined in the child bash too. That bash waits for the command through SIGTERM (a
  # trap, not an ignore, so the command keeps the default), so timeout returns only once the command has
  # finished what it does on SIGTERM; a function ends by exec-ing its command, for the same reason.
  local defs=""
  if declare -F "$1" >/dev/null; then defs="$(declare -f "$1"); $(declare -p run root out);"; fi
  # shellcheck disable=SC2016 # expanded by the child bash
  timeout -k 25 "$cap" bash -c "$defs"' trap : TERM; "$@" & pid=$!; wait $pid; wait $pid' _ "$@" \
    >"$out/$name.log" 2>&1
  code=$?
  local took=$(($(date +%s) - t0))
  case $code in
    0) note "$name: done in ${took} s" ;;
    124 | 137 | 143) note "$name: cut at its share of the budget (${cap} s)" ;;
    *) note "$name: failed (exit $code, ${took} s), see $out/$name.log" ;;
  esac
}
cd "$root" || exit 1
run=("$deno" run -A --cached-only)

stage adapter 5 "${run[@]}" src/harness/cli/info.ts
[ -f "$out/adapter.log" ] && mv "$out/adapter.log" "$out/adapter.txt"

stage tests 35 "$deno" test -A --cached-only tests/conv_test.ts tests/lstm_test.ts tests/skew_test.ts \
  tests/gather_test.ts tests/loss_test.ts tests/optim_test.ts tests/model_test.ts tests/causality_test.ts \
  tests/incremental_sampler_test.ts

export PIXELRNN_BENCH_DIR="$out"
stage bench 20 "$deno" bench -A --cached-only bench/kernels_bench.ts

# shellcheck disable=SC2016 # expanded by the inner shell
# Every table, then the LSTM tables once more with every scan run per step (the whole-scan rule's check).
stage estimate 15 bash -c 'for t in mnist cifar10 cifar10-residual cifar10-depth imagenet32 imagenet64; do
    "$0" run -A --cached-only src/harness/cli/repro.ts "$t" --estimate --tier paper >"$1/estimate-$t.txt" 2>&1 ||
      echo "estimate of $t failed (exit $?)"
  done
  for t in mnist cifar10; do
    PIXELRNN_SCAN=per-step "$0" run -A --cached-only src/harness/cli/repro.ts "$t" --estimate --tier paper \
      >"$1/estimate-$t-per-step.txt" 2>&1 || echo "estimate of $t per step failed (exit $?)"
  done' "$deno" "$out"

# The rest of the budget trains; SIGTERM makes repro write the row's checkpoint before it exits. It runs in
# $out, so that its relative outputs (results/: the curve file, the report page) land there too.
train() {
  cd "$out" && exec "${run[@]}" --config "$root/deno.json" "$root/src/harness/cli/repro.ts" mnist --tier paper \
    --rows pixelcnn --resume --yes --checkpoints "$out/runs" --checkpoint-minutes 2 \
    --out "$out/mnist.pixelcnn.csv" --no-figures
}
stage train 100 train

# --- summary ----------------------------------------------------------------------------------------------
echo
echo "== scripts/gpu/run.sh: $(($(date +%s) - start)) s of a ${budget}-minute budget; outputs in $out"
grep -m1 '^adapter:' "$out/adapter.txt" 2>/dev/null
for s in "${summary[@]}"; do echo "  $s"; done
if [ -f "$out/tests.log" ]; then
  sed 's/\x1b\[[0-9;]*m//g' "$out/tests.log" | grep -E '^(ok|FAILED) \|' | sed 's/^/  tests: /'
fi
if [ -f "$out/train.log" ]; then
  tr '\r' '\n' <"$out/train.log" | grep -E 'step [0-9]+/' | tail -n 1 | sed 's/^ */  train: /'
fi
exit 0
