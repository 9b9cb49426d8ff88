/**
 * Training steps of this checkout against an earlier commit's, interleaved in one process: the commit is
 * checked out into a temporary git worktree, both checkouts' modules are loaded side by side (each with
 * its own device), and each preset's step (encode, submit, wait: wall clock) is timed alternately, so
 * that the machine's drift falls on both alike. Prints the medians and writes them to
 * results/versus/<commit>-<adapter>.csv.
 *
 *   deno run -A bench/versus.ts 19c7727 [preset ...]      (default: every MNIST preset)
 *
 * The earlier commit needs bench/steps.ts's trainStep(model, batch) and bench/timing.ts's PassTimer, as
 * this one has them (19c7727 onward). A preset whose configuration differs between the two is timed
 * all the same and marked in the CSV.
 */
import { stringify } from "csv-stringify/sync";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { adapterLine, type Gpu } from "../src/engine/device.ts";
import type { ModelConfig } from "../src/models/config.ts";
import { PRESETS } from "../src/models/presets.ts";
import { adapterSlug, gitCommit, readCsvRows } from "./report.ts";
import { median, type PassTimer } from "./timing.ts";

const WARMUP = 2;
const ROUNDS = 7;
const ROOT = fileURLToPath(new URL("..", import.meta.url));

type Lists = Parameters<PassTimer["time"]>[0];

/** A checkout's device, timer and training steps, loaded from its own sources (typed as this one's). */
interface Checkout {
  gpu: Gpu;
  timer: PassTimer;
  step(preset: string): { lists: Lists; config: ModelConfig; batch: number } | null;
}

async function load(root: URL): Promise<Checkout> {
  const at = (path: string) => import(new URL(path, root).href);
  const [device, model, presets, steps, timing] = await Promise.all(
    [
      "src/engine/device.ts",
      "src/models/model.ts",
      "src/models/presets.ts",
      "bench/steps.ts",
      "bench/timing.ts",
    ]
      .map(at),
  );
  const gpu: Gpu = await device.openGpu();
  return {
    gpu,
    timer: new timing.PassTimer(gpu),
    step(name) {
      const p = (presets.PRESETS as typeof PRESETS).find((q) => q.name === name);
      if (!p) return null;
      const lists = steps.trainStep(model.PixelModel.create(gpu, p.config, 1), p.batch);
      return { lists, config: p.config, batch: p.batch };
    },
  };
}

async function git(args: string[]): Promise<string> {
  const out = await new Deno.Command("git", { args, cwd: ROOT, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) throw new Error(`git ${args.join(" ")}: ${new TextDecoder().decode(out.stderr).trim()}`);
  return new TextDecoder().decode(out.stdout).trim();
}

async function main(): Promise<number> {
  const [rev, ...names] = Deno.args;
  if (!rev || rev.startsWith("-")) {
    console.error("usage: deno run -A bench/versus.ts <commit> [preset ...]");
    return 2;
  }
  const before = await git(["rev-parse", "--short", `${rev}^{commit}`]);
  const presets = names.length
    ? names
    : PRESETS.filter((p) => p.name.startsWith("mnist-")).map((p) => p.name);
  const dir = await Deno.makeTempDir({ prefix: "versus-" });
  await git(["worktree", "add", "--detach", dir, before]);
  try {
    const after = await gitCommit();
    const sides = [await load(pathToFileURL(`${dir}/`)), await load(new URL("..", import.meta.url))];
    console.log(`adapter: ${adapterLine(sides[1].gpu.summary)}; ${before} vs ${after}, ${ROUNDS} rounds`);
    const rows = [];
    for (const name of presets) {
      const steps = sides.map((s) => s.step(name));
      if (steps.some((s) => s === null)) {
        console.log(`${name}: not a preset at both commits, skipped`);
        continue;
      }
      const [a, b] = steps as NonNullable<(typeof steps)[number]>[];
      const ms: number[][] = [[], []];
      for (let r = 0; r < WARMUP + ROUNDS; r++) {
        for (const k of [0, 1]) {
          const t = await sides[k].timer.time([a, b][k].lists, 1, "wall");
          if (r >= WARMUP) ms[k].push(t);
        }
      }
      const [m0, m1] = ms.map(median);
      const same = JSON.stringify(a.config) === JSON.stringify(b.config) && a.batch === b.batch;
      const ms0 = `${m0.toFixed(0)} ms`.padStart(9), ms1 = `${m1.toFixed(0)} ms`.padStart(9);
      const note = same ? "" : "   (configuration differs)";
      console.log(`${name.padEnd(30)} ${before} ${ms0}   ${after} ${ms1}   ${(m0 / m1).toFixed(2)}x${note}`);
      rows.push({
        preset: name,
        batch: b.batch,
        before_commit: before,
        before_ms: m0.toFixed(1),
        after_commit: after,
        after_ms: m1.toFixed(1),
        speedup: (m0 / m1).toFixed(3),
        same_config: same ? "yes" : "no",
        rounds: ROUNDS,
        adapter: adapterLine(sides[1].gpu.summary),
        date: new Date().toISOString(),
      });
    }
    if (!rows.length) return 1;
    await Deno.mkdir(join(ROOT, "results", "versus"), { recursive: true });
    const path = join(ROOT, "results", "versus", `${before}-${adapterSlug(sides[1].gpu)}.csv`);
    // Rows of presets not timed this time stay.
    const timed = new Set(rows.map((r) => r.preset));
    const kept = (await readCsvRows(path)).filter((r) => !timed.has(r.preset));
    await Deno.writeTextFile(
      path,
      stringify([...kept, ...rows], { header: true, columns: Object.keys(rows[0]) }),
    );
    console.log(`wrote ${path}`);
    for (const s of sides) s.gpu.destroy();
    return 0;
  } finally {
    await git(["worktree", "remove", "--force", dir]);
  }
}

if (import.meta.main) {
  try {
    Deno.exit(await main());
  } catch (e) {
    console.error(`bench/versus.ts: ${e instanceof Error ? e.message : e}`);
    Deno.exit(1);
  }
}
