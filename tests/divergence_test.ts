/**
 * Issue 8's divergence reproductions, run as a user runs them: a diverging run exits 1 with a message
 * that says truthfully which checkpoint is kept, never writes a checkpoint that failed the check, and
 * `eval` refuses a model file with non-finite weights in one line.
 */
import assert from "node:assert/strict";
import { loadCheckpoint, saveModelFile } from "../src/harness/checkpoint.ts";
import { PixelModel } from "../src/models/model.ts";
import { presetByName } from "../src/models/presets.ts";
import { testGpu } from "./util.ts";

const TINY = ["--preset", "mnist-pixelcnn", "--layers", "1", "--h", "4"];

async function task(name: string, ...args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `src/harness/cli/${name}.ts`, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const errors = new TextDecoder().decode(out.stderr).trim().split("\n").filter((l) =>
    l.startsWith(`${name}:`)
  );
  return { code: out.code, errors };
}

/** The checkpoint a divergence message says is kept: its step, or null when it says none was written. */
function kept(message: string, path: string): number | null {
  const m = message.match(/; the last good checkpoint \(step (\d+)\) is kept at (.+)$/);
  if (m) {
    assert.equal(m[2], path);
    return Number(m[1]);
  }
  assert.ok(message.endsWith(`; no checkpoint passed the check, so none was written to ${path}`), message);
  return null;
}

/** A diverged run: exit 1, one line, and the kept checkpoint (if the line names one) loads with that step. */
async function assertDiverged(r: { code: number; errors: string[] }, path: string): Promise<number | null> {
  assert.equal(r.code, 1, r.errors.join("\n"));
  assert.equal(r.errors.length, 1, r.errors.join("\n"));
  assert.match(r.errors[0], /^train: training diverged at step \d+: /);
  const step = kept(r.errors[0], path);
  if (step === null) await assert.rejects(Deno.stat(path), Deno.errors.NotFound);
  else assert.equal((await loadCheckpoint(path)).state.step, step);
  return step;
}

Deno.test("train --lr 10 --steps 20 --every 2: stopped by the explosion, no bad checkpoint kept", async () => {
  const path = `${await Deno.makeTempDir()}/lr10.safetensors`;
  const r = await task("train", ...TINY, "--lr", "10", "--steps", "20", "--every", "2", "--checkpoint", path);
  await assertDiverged(r, path);
  assert.match(r.errors[0], /over 10x the uniform model's 543\.4 nats/);
});

Deno.test("train --lr 1000 --resume from a good checkpoint leaves it as it was", async () => {
  const path = `${await Deno.makeTempDir()}/good.safetensors`;
  const common = [...TINY, "--every", "2", "--checkpoint", path];
  assert.equal((await task("train", ...common, "--steps", "4")).code, 0);
  const good = await Deno.readFile(path);
  const r = await task("train", ...common, "--lr", "1000", "--steps", "20", "--resume");
  if (await assertDiverged(r, path) === 4) assert.deepEqual(await Deno.readFile(path), good);
});

Deno.test("train --lr 1e40 from scratch says no checkpoint exists, and none does", async () => {
  const path = `${await Deno.makeTempDir()}/lr1e40.safetensors`;
  const r = await task(
    "train",
    ...TINY,
    "--lr",
    "1e40",
    "--steps",
    "20",
    "--every",
    "1",
    "--checkpoint",
    path,
  );
  assert.equal(await assertDiverged(r, path), null);
});

Deno.test("eval refuses a model file with non-finite weights, in one line naming it", async () => {
  const gpu = await testGpu();
  const model = PixelModel.create(gpu, { ...presetByName("mnist-pixelcnn").config, layers: 1, h: 4 }, 1);
  const values = await model.store.valuesFlat();
  values[3] = NaN;
  values[7] = -Infinity;
  model.store.load(gpu, values);
  const path = `${await Deno.makeTempDir()}/nan.safetensors`;
  await saveModelFile(path, model);
  model.destroy();
  const r = await task("eval", "--checkpoint", path);
  assert.equal(r.code, 1);
  assert.deepEqual(r.errors, [
    `eval: ${path}: 2 of ${values.length} weights are not finite (a diverged run); refusing it`,
  ]);
});
