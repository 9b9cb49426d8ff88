# Sourced by the Slurm scripts once they set $root, the repository root: checks it, finds deno (on PATH,
# else through npx), and defines `repro`, the repro command of this checkout.
if [ ! -f "$root/src/harness/cli/repro.ts" ]; then
  echo "slurm: $root is not the repository root (no src/harness/cli/repro.ts)" >&2
  exit 1
fi
if command -v deno >/dev/null 2>&1; then
  deno=(deno)
else
  # The binary npx unpacks, run directly: run through npx's node, the deno of a killed job was seen to
  # outlive the job (Slurm's proctrack/linuxproc follows parent process ids).
  deno=("$(npx -y deno@2.9.6 eval 'console.log(Deno.execPath())')")
fi
# Deno's WebGPU wants a runtime directory; batch jobs often have none.
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"

repro() {
  "${deno[@]}" run -A "$root/src/harness/cli/repro.ts" "$@"
}
