/**
 * The train, eval, sample and info commands end to end as a user runs them: exit codes, one-line
 * errors, checkpoints that resume (after Ctrl-C or kill -9, with their schedule, best model and learning
 * curve), PNG output.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { PNG } from "pngjs";
import { bestPath, loadCheckpoint } from "../src/harness/checkpoint.ts";
import { curvePath } from "../src/harness/curves.ts";
import { decodeModel } from "../src/models/checkpoint.ts";
import { signalAfterFirstStep } from "./helpers/cli.ts";

const CIFAR_FIXTURE = new URL("./fixtures/cifar10", import.meta.url).pathname;
const TINY = ["--layers", "1", "--h", "4", "--output-maps", "8"];

async function task(name: string, ...args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `src/harness/cli/${name}.ts`, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** The lines a command printed as errors ("<command>: ..."). */
function errorLines(command: string, stderr: string): string[] {
  return stderr.trim().split("\n").filter((l) => l.startsWith(`${command}:`));
}

Deno.test("every command answers --help", async () => {
  for (const name of ["train", "eval", "sample", "info", "repro"]) {
    const r = await task(name, "--help");
    assert.equal(r.code, 0, name);
    assert.match(r.stdout, /^usage: deno task/, name);
  }
});

Deno.test("info names the adapter and whether it is a fallback", async () => {
  const r = await task("info");
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^adapter: +.+\n/);
  assert.match(r.stdout, /fallback: +(yes|no)/);
  assert.match(r.stdout, /maxStorageBufferBindingSize/);
});

Deno.test("train, resume, eval on a CIFAR-10 subset; sample a binary model to PNG", async () => {
  const dir = await Deno.makeTempDir();
  const ckpt = `${dir}/cifar.safetensors`;
  const data = ["--data", CIFAR_FIXTURE, "--allow-subset"];
  const train = [
    "--preset",
    "cifar10-row-lstm",
    ...TINY,
    ...data,
    "--batch",
    "4",
    "--checkpoint",
    ckpt,
  ];
  const first = await task("train", ...train, "--steps", "2");
  assert.equal(first.code, 0, first.stderr);
  assert.equal((await loadCheckpoint(ckpt)).state.step, 2);
  const more = await task("train", ...train, "--steps", "3", "--resume");
  assert.equal(more.code, 0, more.stderr);
  assert.equal((await loadCheckpoint(ckpt)).state.step, 3);
  const ev = await task("eval", "--checkpoint", ckpt, "--split", "valid", ...data);
  assert.equal(ev.code, 0, ev.stderr);
  assert.match(ev.stdout, /cifar10 valid .*\(subset\): \d+\.\d+ bits\/dim over 47 images/);

  const mnist = `${dir}/mnist.safetensors`;
  const t = await task("train", "--preset", "mnist-pixelcnn", ...TINY, "--steps", "1", "--checkpoint", mnist);
  assert.equal(t.code, 0, t.stderr);
  const png = `${dir}/samples.png`;
  // Two samples, and two test images completed three times each (the dataset recorded in the checkpoint).
  const s = await task("sample", "--checkpoint", mnist, "--count", "2", "--complete", "2", "--out", png);
  assert.equal(s.code, 0, s.stderr);
  assert.match(s.stderr, /sample \(2 images\) +row 28\/28 .*sub-pixels\/s/, "progress: rows, sub-pixels/s");
  assert.match(s.stderr, /complete \(6 images\) +row 14\/14/, "the bottom halves of 2 x 3 completions");
  // 28x28 images are drawn 4x.
  const image = PNG.sync.read(Buffer.from(await Deno.readFile(png)));
  assert.ok(image.width >= 2 * 4 * 28 && image.height >= 4 * 28, `${image.width}x${image.height}`);
  const completed = PNG.sync.read(Buffer.from(await Deno.readFile(`${dir}/samples-completions.png`)));
  // Two rows of occluded | 3 completions | original.
  assert.ok(
    completed.width >= 5 * 4 * 28 && completed.height >= 2 * 4 * 28,
    `${completed.width}x${completed.height}`,
  );
});

/** A downsampled-ImageNet-shaped folder of synthetic 64x64 PNGs (not ImageNet: the PNG path only). */
async function syntheticImagenet64(count: number): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "imagenet64-" });
  for (const part of ["train", "valid"]) {
    await Deno.mkdir(`${dir}/${part}`);
    for (let i = 0; i < count; i++) {
      const png = new PNG({ width: 64, height: 64 });
      for (let p = 0; p < 64 * 64; p++) {
        png.data.set([(p * 7 + i) % 256, (p + 3 * i) % 256, (p >> 6) % 256, 255], p * 4);
      }
      await Deno.writeFile(`${dir}/${part}/${i}.png`, PNG.sync.write(png));
    }
  }
  return dir;
}

Deno.test("the Multi-Scale preset trains its two parts and evaluates the conditional one", async () => {
  const data = await syntheticImagenet64(8);
  const small = `${data}/small.safetensors`, large = `${data}/large.safetensors`;
  const common = [
    "--preset",
    "imagenet64-multiscale",
    ...TINY,
    "--data",
    data,
    "--steps",
    "2",
    "--batch",
    "4",
  ];
  const s = await task("train", ...common, "--part", "small", "--checkpoint", small);
  assert.equal(s.code, 0, s.stderr);
  const l = await task("train", ...common, "--part", "large", "--checkpoint", large);
  assert.equal(l.code, 0, l.stderr);
  const noPart = await task("train", "--preset", "imagenet64-multiscale", "--data", data);
  assert.equal(noPart.code, 2);
  const ev = await task(
    "eval",
    "--checkpoint",
    large,
    "--split",
    "valid",
    "--data",
    data,
    "--dataset",
    "imagenet64",
  );
  assert.equal(ev.code, 0, ev.stderr);
  assert.match(ev.stdout, /imagenet64 valid.*bits\/dim over 8 images/);
});

Deno.test("bad input: one line naming what is wrong, non-zero exit", async () => {
  const dir = await Deno.makeTempDir();
  const unknown = await task("train", "--preset", "mnist-nope");
  assert.equal(unknown.code, 2);
  assert.match(errorLines("train", unknown.stderr)[0], /unknown preset "mnist-nope"/);
  const noData = await task(
    "train",
    "--preset",
    "cifar10-row-lstm",
    "--data",
    `${dir}/missing`,
    "--checkpoint",
    `${dir}/x`,
  );
  assert.equal(noData.code, 1);
  assert.deepEqual(errorLines("train", noData.stderr).length, 1);
  const noCkpt = await task("eval", "--checkpoint", `${dir}/missing.safetensors`);
  assert.equal(noCkpt.code, 1);
  assert.match(errorLines("eval", noCkpt.stderr)[0], /missing\.safetensors: cannot read/);
  const badLr = await task("train", "--preset", "mnist-row-lstm", "--lr=-1");
  assert.equal(badLr.code, 2);
  assert.match(errorLines("train", badLr.stderr)[0], /--lr must be a positive number/);
  const bogus = await task("eval", "--bogus");
  assert.equal(bogus.code, 2);
  assert.match(errorLines("eval", bogus.stderr)[0], /Unknown option '--bogus'/);
});

Deno.test("Ctrl-C stops training after the current step and writes a checkpoint", async () => {
  const dir = await Deno.makeTempDir();
  const ckpt = `${dir}/stop.safetensors`;
  const { code, stderr } = await signalAfterFirstStep(
    "train",
    ["--preset", "mnist-row-lstm", ...TINY, "--steps", "100000", "--checkpoint", ckpt],
    "SIGINT",
  );
  assert.equal(code, 130, stderr);
  const state = (await loadCheckpoint(ckpt)).state;
  assert.ok(state.step >= 1 && state.step < 100000, `checkpoint at step ${state.step}`);
});

Deno.test("kill -9 mid-run, then --resume: the same weights, schedule, best model and curve as a straight run", async () => {
  const dir = await Deno.makeTempDir();
  const run = (ckpt: string) => [
    "--preset",
    "mnist-pixelcnn",
    ...TINY,
    "--batch",
    "8",
    "--checkpoint",
    ckpt,
  ];
  const schedule = ["--every", "4", "--log-every", "1", "--eval-every", "3", "--valid-images", "16"];
  const rates = ["--lr", "3e-3", "--lr-decay", "0.95", "--plateau", "1", "--plateau-factor", "0.3"];
  const straight = `${dir}/straight.safetensors`, killed = `${dir}/killed.safetensors`;
  const s = await task("train", ...run(straight), ...schedule, ...rates, "--steps", "12");
  assert.equal(s.code, 0, s.stderr);

  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "src/harness/cli/train.ts",
      ...run(killed),
      ...schedule,
      ...rates,
      "--steps",
      "100000",
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  // Kill just after a curve line past a checkpoint (every 4 steps), so lines beyond it are on disk.
  let last = 0;
  while (!(last >= 5 && last % 4 === 1)) {
    await new Promise((r) => setTimeout(r, 10));
    const lines = await Deno.readTextFile(curvePath(killed)).catch(() => "");
    last = Number(lines.trim().split("\n").at(-1)!.split(",")[0]) || 0;
  }
  child.kill("SIGKILL");
  await child.status;
  assert.ok((await loadCheckpoint(killed)).state.step < last, "no curve line past the checkpoint to cut");
  // The rate and schedule come from the checkpoint; only the model, data and length are given again.
  const r = await task(
    "train",
    ...run(killed),
    "--valid-images",
    "16",
    "--log-every",
    "1",
    "--steps",
    "12",
    "--resume",
  );
  assert.equal(r.code, 0, r.stderr);

  const [a, b] = await Promise.all([straight, killed].map(loadCheckpoint));
  assert.deepEqual(new Uint32Array(b.model.values.buffer), new Uint32Array(a.model.values.buffer), "weights");
  assert.deepEqual(b.state.schedule, a.state.schedule);
  const noClock = async (p: string) =>
    (await Deno.readTextFile(curvePath(p))).split("\n").map((l) => l.split(",").toSpliced(2, 1).join(","));
  const curve = await noClock(killed);
  assert.deepEqual(curve, await noClock(straight));
  assert.deepEqual(curve.slice(1, -1).map((l) => Number(l.split(",")[0])), [
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8,
    9,
    10,
    11,
    12,
  ]);
  const [ba, bb] = [straight, killed].map((p) => bestPath(p));
  const [da, db] = await Promise.all([ba, bb].map(async (p) => decodeModel(await Deno.readFile(p), p)));
  assert.deepEqual([db.metadata.step, db.metadata.valid_nll], [da.metadata.step, da.metadata.valid_nll]);
  assert.deepEqual(new Uint32Array(db.values.buffer), new Uint32Array(da.values.buffer), "best weights");
});
