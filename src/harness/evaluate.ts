/** Evaluation over a whole split with exact denominators. */
import type { PixelModel } from "../models/model.ts";
import { Evaluator } from "../models/evaluator.ts";
import { ResidentData } from "./data.ts";
import type { ImageSet } from "./datasets/types.ts";
import { checkPlausible, inUnit, type Unit, unitOf } from "./metrics.ts";
import { Progress } from "./progress.ts";

export interface EvalResult {
  /** Images evaluated (every image of the set). */
  count: number;
  natsPerImage: number;
  /** The table's value: nats per image (binary) or bits per dimension. */
  value: number;
  unit: Unit;
  seconds: number;
}

export interface EvalOptions {
  batch: number;
  /** Small images of a Multi-Scale conditional model, one per image of the set. */
  small?: Uint8Array;
  /** Show progress (default true). */
  progress?: boolean;
  label?: string;
  /** Cap on resident bytes per chunk (default: the adapter's binding limit, at most 1 GiB). */
  maxChunkBytes?: number;
}

/**
 * A set ready to evaluate repeatedly (periodic evaluation during training): its data and the forward
 * graph are created once.
 */
export class SetEvaluator {
  private readonly data: ResidentData;
  private readonly small?: ResidentData;
  private readonly ev: Evaluator;

  constructor(readonly model: PixelModel, readonly set: ImageSet, readonly opts: EvalOptions) {
    const imageBytes = set.height * set.width * set.channels;
    const label = `${set.name} ${set.split}`;
    this.data = new ResidentData(model.gpu, set.pixels, set.count, imageBytes, label, {
      maxChunkBytes: opts.maxChunkBytes,
    });
    const f = model.config.conditioning?.factor ?? 1;
    if (opts.small) {
      this.small = new ResidentData(
        model.gpu,
        opts.small,
        set.count,
        imageBytes / (f * f),
        `${label} small`,
        {
          chunkSize: this.data.chunkSize,
        },
      );
    }
    this.ev = new Evaluator(model, opts.batch);
  }

  /** Mean per-image NLL of the set, every image counted once (the last batch is padded). */
  async run(): Promise<EvalResult> {
    const t0 = performance.now();
    const { model, set, opts } = this;
    const cfg = model.config;
    const progress = opts.progress === false
      ? null
      : new Progress({ total: set.count, unit: "image", label: opts.label ?? "eval" });
    let sum = 0, done = 0;
    const add = (nll: Float32Array | null) => {
      if (!nll) return;
      for (const v of nll) sum += v;
      done += nll.length;
      progress?.update(done, { nll: `${inUnit(cfg, sum / done).toFixed(3)} ${unitOf(cfg)}` });
    };
    const B = opts.batch;
    for (let c = 0; c < this.data.chunks; c++) {
      this.data.use(c);
      this.small?.use(c);
      this.ev.use(this.data.tensor, this.small?.tensor);
      const { count } = this.data.range(c);
      for (let i = 0; i < count; i += B) {
        const valid = Math.min(B, count - i);
        // Pad the last batch with the chunk's first image; only `valid` results are counted.
        add(await this.ev.submit(Uint32Array.from({ length: B }, (_, k) => (k < valid ? i + k : 0)), valid));
      }
    }
    // A chunk switch is a queue write, ordered after the batches already submitted: no wait needed.
    for (const r of await this.ev.flush()) add(r);
    if (done !== set.count) throw new Error(`evaluated ${done} images of ${set.count}`);
    const natsPerImage = sum / done;
    const value = inUnit(cfg, natsPerImage);
    progress?.done(`${value.toFixed(4)} ${unitOf(cfg)} over ${done} images`);
    checkPlausible(cfg, value, `${set.name} ${set.split}`);
    return { count: done, natsPerImage, value, unit: unitOf(cfg), seconds: (performance.now() - t0) / 1000 };
  }

  destroy(): void {
    this.ev.destroy();
    this.data.destroy();
    this.small?.destroy();
  }
}

/** Mean per-image NLL of `set` under `model` (see {@link SetEvaluator}). */
export async function evaluate(model: PixelModel, set: ImageSet, opts: EvalOptions): Promise<EvalResult> {
  const e = new SetEvaluator(model, set, opts);
  try {
    return await e.run();
  } finally {
    e.destroy();
  }
}
