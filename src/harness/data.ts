/**
 * Datasets on the GPU and the order batches are drawn in.
 *
 * A dataset is uploaded once as packed bytes. One that exceeds the adapter's storage-binding limit is
 * split into equal chunks; one chunk is resident at a time, in a buffer created once, and an epoch
 * visits the chunks in a seeded random order and the images of each chunk in a seeded random order.
 * Batches never straddle chunks (each chunk drops its last partial batch, a different one every epoch).
 * The position in this order is the data cursor that checkpoints save.
 */
import type { Gpu } from "../engine/device.ts";
import { GpuError } from "../engine/device.ts";
import { Rng } from "../engine/rng.ts";
import { Tensor } from "../engine/tensor.ts";

/** Largest chunk uploaded at once, whatever the adapter allows (keeps host-side copies modest). */
const MAX_CHUNK_BYTES = 1 << 30;

/** Splits `count` images of `imageBytes` into equal chunks that each fit one storage binding. */
export function chunking(
  gpu: Gpu,
  count: number,
  imageBytes: number,
  maxBytes = MAX_CHUNK_BYTES,
): { size: number; chunks: number } {
  const limit = Math.min(gpu.limits.maxStorageBufferBindingSize, maxBytes);
  const perChunk = Math.floor(limit / imageBytes);
  if (perChunk < 1) throw new GpuError(`one image of ${imageBytes} bytes exceeds the storage binding limit`);
  const chunks = Math.ceil(count / perChunk);
  return { size: Math.ceil(count / chunks), chunks };
}

/** Packed u8 images on the GPU, one chunk resident at a time. */
export class ResidentData {
  readonly tensor: Tensor;
  readonly chunkSize: number;
  readonly chunks: number;
  private current = -1;

  /**
   * @param opts.maxChunkBytes a smaller chunk cap than the adapter's (tests use it to force chunking);
   * @param opts.chunkSize images per chunk, to chunk a companion set (small images) like its main set.
   */
  constructor(
    readonly gpu: Gpu,
    readonly pixels: Uint8Array,
    readonly count: number,
    readonly imageBytes: number,
    label: string,
    opts: { maxChunkBytes?: number; chunkSize?: number } = {},
  ) {
    if (pixels.length !== count * imageBytes) {
      throw new GpuError(`${label}: ${pixels.length} bytes for ${count} images of ${imageBytes} bytes`);
    }
    if (opts.chunkSize) {
      this.chunkSize = opts.chunkSize;
      this.chunks = Math.ceil(count / opts.chunkSize);
    } else {
      ({ size: this.chunkSize, chunks: this.chunks } = chunking(gpu, count, imageBytes, opts.maxChunkBytes));
    }
    const words = Math.ceil((this.chunkSize * imageBytes) / 4);
    const buffer = gpu.createBuffer(label, words * 4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST);
    this.tensor = new Tensor(gpu, label, [words], buffer, 0, "u32");
  }

  /** Images [first, first + count) of chunk `c`. */
  range(c: number): { first: number; count: number } {
    const first = c * this.chunkSize;
    return { first, count: Math.min(this.chunkSize, this.count - first) };
  }

  /** Makes chunk `c` resident (a queue write, ordered after every step already submitted). */
  use(c: number): void {
    if (c === this.current) return;
    const { first, count } = this.range(c);
    const bytes = this.pixels.subarray(first * this.imageBytes, (first + count) * this.imageBytes);
    const padded = bytes.length % 4 === 0 ? bytes : padTo4(bytes);
    this.gpu.device.queue.writeBuffer(this.tensor.buffer, 0, padded as Uint8Array<ArrayBuffer>);
    this.current = c;
  }

  destroy(): void {
    this.tensor.buffer.destroy();
  }
}

function padTo4(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(b.length / 4) * 4);
  out.set(b);
  return out;
}

/** Where a run stands in the batch order. */
export interface Cursor {
  epoch: number;
  /** Batches already drawn in this epoch. */
  batch: number;
}

export interface Batch {
  chunk: number;
  /** Image indices within the chunk. */
  indices: Uint32Array;
}

/** The seeded epoch order over the chunks of a dataset. */
export class BatchOrder {
  private plan: Batch[] = [];
  private planned = -1;
  cursor: Cursor = { epoch: 0, batch: 0 };

  constructor(readonly data: ResidentData, readonly batch: number, readonly seed: number) {
    for (let c = 0; c < data.chunks; c++) {
      if (data.range(c).count < batch) {
        throw new GpuError(`a chunk holds fewer images than one batch of ${batch}`);
      }
    }
  }

  /** Batches per epoch. */
  get perEpoch(): number {
    this.ensurePlan();
    return this.plan.length;
  }

  next(): Batch {
    this.ensurePlan();
    if (this.cursor.batch >= this.plan.length) {
      this.cursor = { epoch: this.cursor.epoch + 1, batch: 0 };
      this.ensurePlan();
    }
    return this.plan[this.cursor.batch++];
  }

  private ensurePlan(): void {
    if (this.planned === this.cursor.epoch) return;
    const rng = new Rng(this.seed, 0x5eed0000 + this.cursor.epoch);
    const plan: Batch[] = [];
    for (const c of permutation(this.data.chunks, rng)) {
      const order = permutation(this.data.range(c).count, rng);
      for (let i = 0; i + this.batch <= order.length; i += this.batch) {
        plan.push({ chunk: c, indices: Uint32Array.from(order.subarray(i, i + this.batch)) });
      }
    }
    this.plan = plan;
    this.planned = this.cursor.epoch;
  }
}

/** A seeded Fisher-Yates permutation of 0..n-1. */
export function permutation(n: number, rng: Rng): Uint32Array {
  const p = Uint32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform() * (i + 1));
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}
