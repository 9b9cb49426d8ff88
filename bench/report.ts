/**
 * The figures of one bench file: each is a `Deno.bench` whose calls add timing samples; a final bench
 * prints one table (median time, GFLOP/s, images/s, ratio to the best plain matmul of the same run)
 * under the adapter line, and merges the rows into `results/bench-<adapter>.csv`.
 *
 * Deno.bench calls a slow function n + 2 times (its own warm-up and calibration included); every call
 * here is one sample, the first also compiling the shaders and choosing the repetition count.
 *
 * The machine's speed drifts by tens of percent within minutes (other processes, and contention the
 * guest cannot see), so a figure with a target is also paired: right before each of its samples the
 * yardstick matmul is timed once more, and the median of the per-sample ratios is shown beside the
 * ratio to the sweep's best.
 */
import { parse } from "csv-parse/sync";
import { stringify } from "csv-stringify/sync";
import { join } from "node:path";
import { adapterLine, type Gpu } from "../src/engine/device.ts";
import { LoadMeter } from "./load.ts";
import { type Clock, median } from "./timing.ts";

export const CSV_COLUMNS = [
  "bench",
  "shape",
  "median_ms",
  "gflops",
  "images_per_s",
  "ratio_to_best_matmul",
  "dispatches",
  "host_encode_ms",
  "adapter",
  "git_commit",
  "date",
] as const;

/** What a figure is timed by: anything that collects samples and reports a median. */
export interface Measure {
  sample(): Promise<void>;
  readonly medianMs: number;
  readonly perRep: number[];
  readonly clock: Clock;
}

export interface FigureSpec {
  name: string;
  shape: string;
  /** Floating-point operations of one repetition (GFLOP/s is shown when given). */
  flops?: number;
  /** Images processed by one repetition (images/s is shown when given). */
  images?: number;
  /** Units one repetition is divided into for the median column (e.g. 1000 dispatches: ms each). */
  units?: number;
  /** A plain matmul candidate: the best of these is the run's yardstick. */
  matmul?: boolean;
  /** Required fraction of the best matmul's GFLOP/s; the table says whether it is met. */
  target?: number;
  note?: string;
  /** Deno.bench iterations (samples = n + 2). */
  n?: number;
  /** Dispatches of one repetition and the host time to encode them (training steps, evaluation batches). */
  cost?: () => { dispatches: number; encodeMs: number };
}

interface Figure extends FigureSpec {
  measure: Measure | null;
  load: LoadMeter;
  /** Per sample: this figure's GFLOP/s over the yardstick's, timed just before. */
  paired: number[];
  /** Takes one sample (what its Deno.bench runs per iteration). */
  sample: () => Promise<void>;
}

export interface Row {
  bench: string;
  shape: string;
  medianMs: number;
  minMs: number;
  gflops: number | null;
  imagesPerS: number | null;
  ratio: number | null;
  /** Median ratio to the yardstick timed alongside each sample (figures with a target). */
  pairedRatio: number | null;
  verdict: string;
  note: string;
  samples: number;
  /** Cores other processes kept busy while this figure was sampled (null: unknown). */
  otherCores: number | null;
  dispatches: number | null;
  encodeMs: number | null;
}

export class Report {
  private readonly figures: Figure[] = [];
  private printed = false;
  /** Times the yardstick matmul once more and returns its GFLOP/s (set once the sweep is registered). */
  yardstick: (() => Promise<number>) | null = null;

  /** @param group prefixes every bench name in the CSV, so files of one run can share it. */
  /** HEAD when the file started: src/ may change under a long run, the rows name what they measured. */
  private readonly commit = gitCommit();

  constructor(readonly group: string, readonly gpu: Gpu) {}

  /**
   * Registers a Deno.bench for one figure. `make` builds what is timed at the first call (so a failing
   * build fails only its own bench).
   */
  bench(spec: FigureSpec, make: () => Measure | Promise<Measure>): void {
    const fig: Figure = {
      ...spec,
      measure: null,
      load: new LoadMeter(),
      paired: [],
      sample: async () => {
        fig.measure ??= await make();
        const reference = spec.target !== undefined && this.yardstick ? await this.yardstick() : null;
        fig.load.start();
        await fig.measure.sample();
        fig.load.stop();
        if (reference !== null && spec.flops) {
          const ms = fig.measure.perRep[fig.measure.perRep.length - 1];
          fig.paired.push(spec.flops / ms / 1e6 / reference);
        }
      },
    };
    this.figures.push(fig);
    Deno.bench({ name: spec.name, n: spec.n ?? 2, warmup: 0, fn: fig.sample });
  }

  /**
   * Samples a figure whose own bench has not run (`deno bench --filter` left it out), as many times as
   * that bench would have: what another figure needs, the yardstick's sweep, is then measured anyway.
   */
  async measureNow(name: string): Promise<void> {
    const fig = this.figures.find((f) => f.name === name);
    if (!fig) throw new Error(`no figure named ${name}`);
    if (fig.measure?.perRep.length) return;
    // Deno.bench runs n iterations after its own warm-up iteration.
    for (let i = 0; i < (fig.n ?? 2) + 1; i++) await fig.sample();
  }

  /** Registers the final bench that prints the table and writes the CSV (once). */
  summary(extra: () => string[] = () => []): void {
    Deno.bench({
      name: "summary",
      n: 1,
      warmup: 0,
      fn: async () => {
        if (this.printed) return;
        this.printed = true;
        console.log(["", ...this.table(), ...extra(), ""].join("\n"));
        console.log(`CSV: ${await this.writeCsv()}`);
      },
    });
  }

  private gflops(f: Figure): number | null {
    if (!f.measure?.perRep.length || !f.flops) return null;
    return f.flops / f.measure.medianMs / 1e6;
  }

  /** The fastest matmul candidate measured so far. */
  bestMatmul(): { name: string; shape: string; gflops: number } | null {
    let best: { name: string; shape: string; gflops: number } | null = null;
    for (const f of this.figures) {
      const g = this.gflops(f);
      if (f.matmul && g !== null && (!best || g > best.gflops)) {
        best = { name: f.name, shape: f.shape, gflops: g };
      }
    }
    return best;
  }

  rows(): Row[] {
    const best = this.bestMatmul();
    return this.figures.filter((f) => f.measure?.perRep.length).map((f) => {
      const m = f.measure!;
      const gflops = this.gflops(f);
      const ratio = gflops !== null && best ? gflops / best.gflops : null;
      const pairedRatio = f.paired.length ? median(f.paired) : null;
      let verdict = "";
      if (f.target !== undefined && ratio !== null) {
        const target = f.target;
        const gap = (r: number) => 100 * (target - r);
        const judge = (r: number) =>
          r >= target ? "met" : `MISSED by ${gap(r).toFixed(gap(r) < 1 ? 1 : 0)} pts`;
        verdict = `target ${pct(target)} ${judge(ratio)}` +
          (pairedRatio === null ? "" : ` (alongside: ${judge(pairedRatio)})`);
      }
      const note = [f.note, m.clock === "wall" ? "wall clock" : ""].filter(Boolean).join("; ");
      const cost = f.cost?.() ?? null;
      return {
        bench: f.name,
        shape: f.shape,
        medianMs: m.medianMs / (f.units ?? 1),
        minMs: Math.min(...m.perRep) / (f.units ?? 1),
        gflops,
        imagesPerS: f.images ? f.images / (m.medianMs / 1e3) : null,
        ratio,
        pairedRatio,
        verdict,
        note,
        samples: m.perRep.length,
        otherCores: f.load.otherCores,
        dispatches: cost?.dispatches ?? null,
        encodeMs: cost?.encodeMs ?? null,
      };
    });
  }

  table(): string[] {
    const best = this.bestMatmul();
    const head = [
      "bench",
      "shape",
      "median ms",
      "min ms",
      "GFLOP/s",
      "images/s",
      "vs best mm",
      "alongside",
      "n",
      "other load",
      "dispatches",
      "encode ms",
      "verdict / note",
    ];
    const ms = (x: number) => x.toFixed(x < 1 ? 4 : 1);
    const body = this.rows().map((r) => [
      r.bench,
      r.shape,
      ms(r.medianMs),
      ms(r.minMs),
      r.gflops === null ? "" : r.gflops.toFixed(2),
      r.imagesPerS === null ? "" : r.imagesPerS.toFixed(1),
      r.ratio === null ? "" : pct(r.ratio),
      r.pairedRatio === null ? "" : pct(r.pairedRatio),
      String(r.samples),
      r.otherCores === null ? "" : r.otherCores.toFixed(2),
      r.dispatches === null ? "" : String(r.dispatches),
      r.encodeMs === null ? "" : r.encodeMs.toFixed(2),
      [r.verdict, r.note].filter(Boolean).join("; "),
    ]);
    const width = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
    const numeric = [false, false, true, true, true, true, true, true, true, true, true, true, false];
    const line = (cells: string[]) =>
      cells.map((c, i) => (numeric[i] ? c.padStart(width[i]) : c.padEnd(width[i]))).join(" | ").trimEnd();
    return [
      `Adapter: ${adapterLine(this.gpu.summary)}`,
      best
        ? `Best plain matmul: ${best.name} at ${best.shape}, ${best.gflops.toFixed(2)} GFLOP/s (= 100%)`
        : "Best plain matmul: none measured",
      "median/min: one repetition (GFLOP/s and images/s from the median); n: samples; vs best mm: GFLOP/s",
      "over the best matmul above; alongside: median over samples of GFLOP/s over the yardstick (that best",
      "matmul) timed right before the sample; other load: cores other processes kept busy meanwhile",
      `(of ${navigator.hardwareConcurrency} here); dispatches and encode ms: of one repetition, encoded on the host.`,
      "",
      line(head),
      line(width.map((w) => "-".repeat(w))),
      ...body.map(line),
    ];
  }

  /**
   * Replaces this group's rows in results/bench-<adapter>.csv, keeping the other groups' rows; the folder is
   * PIXELRNN_BENCH_DIR when set (scripts/gpu/run.sh keeps a budgeted run's figures out of results/).
   */
  async writeCsv(): Promise<string> {
    const dir = Deno.env.get("PIXELRNN_BENCH_DIR") || new URL("../results/", import.meta.url).pathname;
    const path = join(dir, `bench-${adapterSlug(this.gpu)}.csv`);
    const kept = (await readCsvRows(path)).filter((r) => !r.bench.startsWith(`${this.group}/`));
    const adapter = adapterLine(this.gpu.summary);
    const commit = await this.commit;
    const date = new Date().toISOString();
    const fresh = this.rows().map((r) => ({
      bench: `${this.group}/${r.bench}`,
      shape: r.shape,
      median_ms: r.medianMs.toPrecision(6),
      gflops: r.gflops === null ? "" : r.gflops.toFixed(3),
      images_per_s: r.imagesPerS === null ? "" : r.imagesPerS.toFixed(2),
      ratio_to_best_matmul: r.ratio === null ? "" : r.ratio.toFixed(4),
      dispatches: r.dispatches === null ? "" : String(r.dispatches),
      host_encode_ms: r.encodeMs === null ? "" : r.encodeMs.toFixed(3),
      adapter,
      git_commit: commit,
      date,
    }));
    const text = stringify([...kept, ...fresh], { header: true, columns: [...CSV_COLUMNS] });
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(path, text);
    return path;
  }
}

/** The rows of a CSV file with a header, or none when the file does not exist. */
export async function readCsvRows(path: string): Promise<Record<string, string>[]> {
  try {
    return parse(await Deno.readTextFile(path), { columns: true }) as Record<string, string>[];
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
}

/** "llvmpipe (LLVM 15.0.6, 256 bits)" on vulkan -> "llvmpipe-vulkan". */
export function adapterSlug(gpu: Gpu): string {
  const s = gpu.summary;
  const name = s.description.replace(/\(.*?\)/g, " ");
  return `${name} ${s.backend}`.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
}

/** `git rev-parse --short HEAD`, or "unknown" outside a repository or without git. */
export async function gitCommit(): Promise<string> {
  try {
    const out = await new Deno.Command("git", {
      args: ["rev-parse", "--short", "HEAD"],
      cwd: new URL("..", import.meta.url),
      stdout: "piped",
      stderr: "null",
    }).output();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : "unknown";
  } catch {
    return "unknown";
  }
}

export function pct(x: number): string {
  return `${(100 * x).toFixed(0)}%`;
}
