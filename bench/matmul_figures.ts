/**
 * The plain-matmul sweep both bench files run: tile candidates per adapter class, the shapes, and one
 * figure per (shape, candidate). The fastest is the run's "best matmul", the yardstick of every ratio.
 */
import type { Gpu } from "../src/engine/device.ts";
import { Graph } from "../src/engine/graph.ts";
import type { Tensor } from "../src/engine/tensor.ts";
import { fillRandom } from "./fill.ts";
import { matmulKernel, type MatmulShape, type MatmulTiles, tilesName } from "./matmul.ts";
import type { Report } from "./report.ts";
import { type PassTimer, Series } from "./timing.ts";

/** Matmul tiles: TM x TN per invocation in WGX x WGY workgroups. */
export const tiles = (tm: number, tn: number, wgx: number, wgy: number, interleave = false): MatmulTiles => ({
  tm,
  tn,
  wgx,
  wgy,
  interleave,
});

/**
 * Software adapter: one invocation is one SIMD lane of a CPU core, so big register tiles with the lanes
 * along N win; lanes along M (wgx = 1) ran 3-6x slower in trials and are left out. 16x16 wg 8x4 is what
 * the engine's software tile profile (src/engine/tiles.ts) picks for wide outputs.
 */
export const SOFTWARE_TILES: MatmulTiles[] = [
  tiles(8, 8, 8, 4),
  tiles(8, 16, 16, 2),
  tiles(8, 16, 16, 2, true),
  tiles(16, 16, 8, 4),
  tiles(16, 16, 8, 4, true),
  tiles(16, 16, 16, 2),
  tiles(16, 16, 16, 2, true),
  tiles(16, 16, 8, 8),
  tiles(24, 16, 8, 4),
  tiles(16, 32, 8, 2),
];

/** The software candidates that came out on top in trials: the short sweep of the models bench. */
export const SOFTWARE_SHORTLIST: MatmulTiles[] = [
  tiles(16, 16, 16, 2, true),
  tiles(16, 16, 8, 4, true),
  tiles(16, 32, 8, 2),
];

/** A real GPU wants occupancy: smaller tiles, bigger workgroups (added to the software list there). */
export const GPU_TILES: MatmulTiles[] = [
  tiles(4, 4, 16, 16),
  tiles(4, 8, 16, 16),
  tiles(4, 8, 16, 16, true),
  tiles(8, 8, 16, 16),
  tiles(8, 8, 16, 16, true),
  tiles(8, 8, 8, 8),
];

export function matmulCandidates(gpu: Gpu, short: boolean): MatmulTiles[] {
  const soft = short ? SOFTWARE_SHORTLIST : SOFTWARE_TILES;
  return gpu.isFallback ? soft : [...GPU_TILES, ...soft];
}

/** 1024^3, and the Row LSTM input-to-state GEMM of CIFAR-10 h = 128: 16*32*32 positions, 2 taps x 256, 512. */
export const MATMUL_SHAPES: { name: string; shape: MatmulShape }[] = [
  { name: "1024^3", shape: { m: 1024, n: 1024, k: 1024 } },
  { name: "row-lstm i-s GEMM", shape: { m: 16 * 32 * 32, n: 512, k: 2 * 256 } },
];

export function shapeText(s: MatmulShape): string {
  return `M${s.m} N${s.n} K${s.k}`;
}

interface Candidate {
  tiles: MatmulTiles;
  series: Series | null;
}

/**
 * One figure per (shape, candidate), operands created once per shape at first use; then, on request,
 * the winner of each shape timed again at the end of the run. How far the recheck lands from the
 * sweep shows how much the machine's load moved the figures in between.
 */
export class MatmulSweep {
  private readonly byShape = new Map<string, Candidate[]>();
  private readonly operands = new Map<string, { a: Tensor; b: Tensor; c: Tensor }>();
  private readonly rechecked: { shape: string; sweep: number; series: Series }[] = [];
  private reference: { flops: number; series: Series } | null = null;

  constructor(readonly report: Report, readonly timer: PassTimer, tiles: MatmulTiles[]) {
    for (const { name, shape } of MATMUL_SHAPES) {
      const list = tiles.map((t): Candidate => ({ tiles: t, series: null }));
      this.byShape.set(name, list);
      for (const c of list) {
        report.bench(
          { name: this.figureName(c, name), ...this.spec(shape), matmul: true, n: 1 },
          () => (c.series = this.series(name, shape, c.tiles)),
        );
      }
    }
  }

  /** Registers the recheck figures; call after every figure they should bracket. */
  recheck(): void {
    for (const { name, shape } of MATMUL_SHAPES) {
      this.report.bench(
        { name: `matmul recheck: best @ ${name} again`, ...this.spec(shape), n: 1 },
        async () => {
          await this.swept(name);
          const best = this.best(name);
          if (!best) throw new Error(`no matmul measured at ${name}`);
          const series = this.series(name, shape, best.tiles);
          this.rechecked.push({ shape: name, sweep: best.series!.medianMs, series });
          return series;
        },
      );
    }
  }

  /**
   * Times the overall winner once more and returns its GFLOP/s: the reference a paired figure is read
   * against (see Report.yardstick). The winner is fixed at the first call, after the sweep ran.
   */
  async yardstick(): Promise<number> {
    if (!this.reference) {
      for (const { name } of MATMUL_SHAPES) await this.swept(name);
      const wins = MATMUL_SHAPES.map(({ name, shape }) => ({ name, shape, best: this.best(name) }))
        .filter((w) => w.best)
        .map((w) => ({ ...w, gflops: this.spec(w.shape).flops / w.best!.series!.medianMs / 1e6 }));
      const top = wins.reduce((a, b) => (b.gflops > a.gflops ? b : a));
      this.reference = {
        flops: this.spec(top.shape).flops,
        series: this.series(top.name, top.shape, top.best!.tiles),
      };
    }
    const { flops, series } = this.reference;
    await series.sample();
    return flops / series.perRep[series.perRep.length - 1] / 1e6;
  }

  /** One line per recheck: the winner's time in the sweep and at the end. */
  driftLines(): string[] {
    return this.rechecked.map((r) => {
      const drift = Math.round(100 * (r.series.medianMs / r.sweep - 1));
      return `Yardstick recheck @ ${r.shape}: best matmul ${r.sweep.toFixed(1)} ms in the sweep, ` +
        `${r.series.medianMs.toFixed(1)} ms at the end (${drift >= 0 ? "+" : ""}${drift}%).`;
    });
  }

  /**
   * Makes sure a shape's candidates were measured: when `deno bench --filter` left out the whole sweep
   * of a shape, they are timed now, so that a single figure still has its yardstick.
   */
  private async swept(name: string): Promise<void> {
    const list = this.byShape.get(name)!;
    if (list.some((c) => c.series?.perRep.length)) return;
    for (const c of list) await this.report.measureNow(this.figureName(c, name));
  }

  private figureName(c: Candidate, shape: string): string {
    return `matmul ${tilesName(c.tiles)} @ ${shape}`;
  }

  private spec(shape: MatmulShape) {
    return { shape: shapeText(shape), flops: 2 * shape.m * shape.n * shape.k };
  }

  private best(name: string): Candidate | null {
    const done = this.byShape.get(name)!.filter((c) => c.series?.perRep.length);
    return done.reduce<Candidate | null>(
      (b, c) => (!b || c.series!.medianMs < b.series!.medianMs ? c : b),
      null,
    );
  }

  private series(name: string, shape: MatmulShape, tiles: MatmulTiles): Series {
    let ops = this.operands.get(name);
    if (!ops) {
      const g = new Graph(this.report.gpu, `matmul ${name}`);
      ops = {
        a: g.alloc("A", [shape.m, shape.k]),
        b: g.alloc("B", [shape.k, shape.n]),
        c: g.alloc("C", [shape.m, shape.n]),
      };
      fillRandom(ops.a);
      fillRandom(ops.b);
      this.operands.set(name, ops);
    }
    const label = `matmul ${tilesName(tiles)}`;
    const g = new Graph(this.report.gpu, label);
    g.dispatch(label, matmulKernel(shape, tiles), { A: ops.a, B: ops.b, C: ops.c });
    return new Series(this.timer, [g.forward]);
  }
}
