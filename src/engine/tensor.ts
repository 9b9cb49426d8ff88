/**
 * Tensors: f32 (or u32) arrays laid out NHWC, with static shapes. All of a model's tensors are created
 * when the model is built; nothing is allocated while it trains.
 */
import { type Gpu, GpuError } from "./device.ts";

export type DType = "f32" | "u32";

// UNIFORM too: a small weight may be bound as a uniform buffer (src/engine/tiles.ts uniformWeightTiles).
const USAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_SRC |
  GPUBufferUsage.COPY_DST;

export class Tensor {
  readonly size: number;
  constructor(
    readonly gpu: Gpu,
    readonly label: string,
    readonly shape: readonly number[],
    readonly buffer: GPUBuffer,
    readonly offset: number,
    readonly dtype: DType = "f32",
  ) {
    this.size = shape.reduce((a, b) => a * b, 1);
  }

  get byteSize(): number {
    return this.size * 4;
  }

  binding(): GPUBufferBinding {
    return { buffer: this.buffer, offset: this.offset, size: Math.max(4, this.byteSize) };
  }

  /** A view of the same memory with another shape of equal size (no copy). */
  reshape(shape: readonly number[], label = this.label): Tensor {
    const size = shape.reduce((a, b) => a * b, 1);
    if (size !== this.size) {
      throw new GpuError(
        `reshape ${this.label}: [${this.shape}] has ${this.size} elements, [${shape}] ${size}`,
      );
    }
    return new Tensor(this.gpu, label, shape, this.buffer, this.offset, this.dtype);
  }

  /** Uploads host data (outside the step loop: a model's weights, a test's inputs). */
  write(data: Float32Array | Uint32Array): void {
    if (data.length !== this.size) {
      throw new GpuError(`write ${this.label}: got ${data.length} values for shape [${this.shape}]`);
    }
    this.gpu.device.queue.writeBuffer(this.buffer, this.offset, data as Float32Array<ArrayBuffer>);
  }

  /** Reads the tensor back (creates a staging buffer: for tests, checkpoints and evaluation summaries). */
  async read(): Promise<Float32Array> {
    return new Float32Array(await readBytes(this.gpu, this.buffer, this.offset, this.byteSize, this.label));
  }

  async readU32(): Promise<Uint32Array> {
    return new Uint32Array(await readBytes(this.gpu, this.buffer, this.offset, this.byteSize, this.label));
  }

  toString(): string {
    return `${this.label}[${this.shape.join("x")}]`;
  }
}

async function readBytes(gpu: Gpu, src: GPUBuffer, offset: number, size: number, label: string) {
  const staging = gpu.createBuffer(`read ${label}`, size, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
  const enc = gpu.device.createCommandEncoder({ label: `read ${label}` });
  enc.copyBufferToBuffer(src, offset, staging, 0, size);
  gpu.device.queue.submit([enc.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const out = staging.getMappedRange().slice(0);
  staging.unmap();
  staging.destroy();
  gpu.check(`reading ${label}`);
  return out;
}

/**
 * Owns every buffer of one model. Each tensor gets its own buffer, created when the model is built:
 * WebGPU forbids binding one buffer both read-only and writable in a dispatch, so tensors that share a
 * buffer could not be read by one kernel while another part is written. A tensor larger than the
 * storage-binding limit is refused with a message naming it, since no kernel could bind it.
 */
export class Arena {
  private buffers: GPUBuffer[] = [];
  bytes = 0;

  constructor(readonly gpu: Gpu, readonly label: string) {}

  alloc(label: string, shape: readonly number[], dtype: DType = "f32"): Tensor {
    for (const d of shape) {
      if (!Number.isInteger(d) || d <= 0) throw new GpuError(`${label}: invalid shape [${shape}]`);
    }
    const bytes = shape.reduce((a, b) => a * b, 1) * 4;
    const limit = this.gpu.limits.maxStorageBufferBindingSize;
    if (bytes > limit) {
      throw new GpuError(
        `${label}: tensor [${shape}] needs ${bytes} bytes, over this adapter's storage binding limit ${limit}`,
      );
    }
    const size = Math.ceil(bytes / 16) * 16;
    const buffer = this.gpu.createBuffer(label, size, USAGE);
    this.buffers.push(buffer);
    this.bytes += size;
    return new Tensor(this.gpu, label, shape, buffer, 0, dtype);
  }

  /** Wraps an existing buffer region (the parameter store's flat buffers) as a tensor. */
  view(label: string, shape: readonly number[], buffer: GPUBuffer, offset: number): Tensor {
    return new Tensor(this.gpu, label, shape, buffer, offset);
  }

  destroy(): void {
    for (const b of this.buffers) b.destroy();
    this.buffers = [];
  }
}
