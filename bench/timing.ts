/**
 * GPU timing for the benches. A measurement encodes `reps` repetitions of a dispatch list into one
 * compute pass and submits it once, so the ~11 ms round trip of the software adapter is paid once per
 * sample, not per repetition. With `timestamp-query` the pass is bracketed by GPU timestamps (the round
 * trip drops out entirely); without it, wall-clock time from encoding to `onSubmittedWorkDone`.
 */
import type { Gpu } from "../src/engine/device.ts";
import { type Dispatch, Graph } from "../src/engine/graph.ts";

/** Which clock a figure reads: GPU timestamps when offered, or host wall-clock including encoding. */
export type Clock = "gpu" | "wall";

/** Times submits of repeated dispatch lists on one device. */
export class PassTimer {
  private readonly query: { set: GPUQuerySet; resolve: GPUBuffer; read: GPUBuffer } | null;

  constructor(readonly gpu: Gpu) {
    this.query = gpu.hasFeature("timestamp-query")
      ? {
        set: gpu.device.createQuerySet({ type: "timestamp", count: 2 }),
        resolve: gpu.createBuffer(
          "bench resolve",
          16,
          GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
        ),
        read: gpu.createBuffer("bench read", 16, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST),
      }
      : null;
  }

  /** The clock {@link time} reads for `wanted`: GPU timestamps fall back to wall-clock when absent. */
  clock(wanted: Clock): Clock {
    return wanted === "gpu" && this.query ? "gpu" : "wall";
  }

  /** Milliseconds of one submit running `lists` `reps` times in one compute pass. */
  async time(lists: Dispatch[][], reps: number, clock: Clock = "gpu"): Promise<number> {
    const d = this.gpu.device;
    const q = this.clock(clock) === "gpu" ? this.query : null;
    const t0 = performance.now();
    const enc = d.createCommandEncoder({ label: "bench" });
    const all = Array.from({ length: reps }, () => lists).flat();
    Graph.encode(enc, "bench", all, q ? { querySet: q.set, begin: 0, end: 1 } : undefined);
    if (q) {
      enc.resolveQuerySet(q.set, 0, 2, q.resolve, 0);
      enc.copyBufferToBuffer(q.resolve, 0, q.read, 0, 16);
    }
    d.queue.submit([enc.finish()]);
    if (!q) {
      await d.queue.onSubmittedWorkDone();
      this.gpu.check("bench");
      return performance.now() - t0;
    }
    await q.read.mapAsync(GPUMapMode.READ);
    const [begin, end] = new BigUint64Array(q.read.getMappedRange().slice(0));
    q.read.unmap();
    this.gpu.check("bench");
    return Number(end - begin) / 1e6;
  }
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

export interface SeriesOptions {
  /** Shortest sample, in ms: repetitions are added until one sample takes at least this long. */
  minMs?: number;
  clock?: Clock;
  /** Skip the untimed first run: every pipeline and buffer of the lists ran already. */
  prewarmed?: boolean;
}

/**
 * Samples of one figure. The first {@link sample} call runs the lists once untimed (shaders compile at
 * their first dispatch; skipped when prewarmed), then once timed to choose the repetition count, a run
 * that counts as a sample when one repetition already lasts `minMs`. Every later call adds one sample.
 */
export class Series {
  readonly perRep: number[] = [];
  reps = 0;
  private readonly minMs: number;
  private readonly wanted: Clock;
  private readonly prewarmed: boolean;

  constructor(readonly timer: PassTimer, readonly lists: Dispatch[][], opts: SeriesOptions = {}) {
    this.minMs = opts.minMs ?? 300;
    this.wanted = opts.clock ?? "gpu";
    this.prewarmed = opts.prewarmed ?? false;
  }

  get clock(): Clock {
    return this.timer.clock(this.wanted);
  }

  async sample(): Promise<void> {
    if (this.reps === 0) {
      if (!this.prewarmed) await this.timer.time(this.lists, 1, this.wanted);
      const one = await this.timer.time(this.lists, 1, this.wanted);
      this.reps = Math.max(1, Math.ceil(this.minMs / Math.max(one, 1e-3)));
      if (this.reps === 1) {
        this.perRep.push(one);
        return;
      }
    }
    this.perRep.push((await this.timer.time(this.lists, this.reps, this.wanted)) / this.reps);
  }

  /** Median time of one repetition, ms. */
  get medianMs(): number {
    return median(this.perRep);
  }
}

/**
 * Samples of a host-driven task (one that submits several times and waits itself, like the sampler),
 * by wall clock. The first call only warms it up, unless told not to.
 */
export class TaskSeries {
  readonly perRep: number[] = [];
  readonly clock: Clock = "wall";
  private warmed: boolean;

  /** @param o.warm run the task once untimed before the first sample (default true) */
  constructor(readonly task: () => Promise<void>, o: { warm?: boolean } = {}) {
    this.warmed = !(o.warm ?? true);
  }

  async sample(): Promise<void> {
    if (!this.warmed) {
      this.warmed = true;
      await this.task();
    }
    const t0 = performance.now();
    await this.task();
    this.perRep.push(performance.now() - t0);
  }

  get medianMs(): number {
    return median(this.perRep);
  }
}
