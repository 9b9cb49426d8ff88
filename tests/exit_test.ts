/**
 * Issue 8, clean exit: a successful command exits 0 every time, 20 short runs in a row, with every
 * backend Deno's WebGPU sets up (as a user runs it). The crash seen after passing test runs needs a
 * thread other than the main one to tear WebGPU down while the process exits, which no command does
 * (docs/teardown-crash.md).
 */
import assert from "node:assert/strict";
import { taskArgs } from "./helpers/cli.ts";

const RUNS = 20;

Deno.test("20 runs of a command that opens the GPU all exit 0", async () => {
  const { DENO_WEBGPU_BACKEND: _, ...env } = Deno.env.toObject();
  const codes = [];
  for (let i = 0; i < RUNS; i++) {
    const run = new Deno.Command(Deno.execPath(), {
      args: taskArgs("info", []),
      env,
      clearEnv: true,
      stdout: "null",
      stderr: "null",
    });
    codes.push((await run.output()).code);
  }
  assert.deepEqual(codes, Array(RUNS).fill(0));
});
