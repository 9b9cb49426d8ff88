/**
 * Issue 8: repro stops cleanly on SIGTERM (how Slurm preempts a job) as on Ctrl-C: after the current step,
 * with a checkpoint that --resume continues from, and the exit code of the signal.
 */
import assert from "node:assert/strict";
import { loadCheckpoint } from "../src/harness/checkpoint.ts";
import { signalAfterFirstStep } from "./helpers/cli.ts";

Deno.test("repro on SIGTERM writes the row's checkpoint and exits 143", async () => {
  const cwd = await Deno.makeTempDir();
  const { code, stderr: seen } = await signalAfterFirstStep(
    "repro",
    ["mnist", "--tier", "smoke", "--rows", "row-lstm", "--steps", "100000"],
    "SIGTERM",
    cwd,
  );
  assert.equal(code, 143, seen);
  assert.match(seen, /SIGTERM: stopping after this step and writing a checkpoint/);
  assert.doesNotMatch(seen, /^\s+at /m, "no stack trace");
  const ckpt = `${cwd}/runs/mnist-row-lstm-smoke.safetensors`;
  const { step } = (await loadCheckpoint(ckpt)).state;
  assert.ok(step >= 1 && step < 100_000, `checkpoint at step ${step}`);
  assert.match(seen, new RegExp(`interrupted at step ${step}; checkpoint at runs/mnist-row-lstm-smoke`));
});
