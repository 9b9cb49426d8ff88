/**
 * Tensors are views into arena slabs: f32 (or u32) arrays laid out NHWC, with static shapes. All of a
 * model's tensors are carved out of a few large buffers when the model is built; nothing is allocated
 * while it trains.
 */
import { Gpu, GpuError } from "./device.ts";

export type DType = "f32" | "u32";

const USAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

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
      throw new GpuError(`reshape ${this.label}: [${this.shape}] has ${this.size} elements, [${shape}] ${size}`);
    }
    return new Tensor(this.gpu, label, shape, this.buffer, this.offset, this.dtype);
  }

  /** Uploads host data (outside the step loop: a model's weights, a test's inputs). */
  write(data: Float32Array | Uint32Array): void {
    if (data.length !== this.size) {
      throw new GpuError(`write ${this.label}: got ${data.length} values for shape [${this.shape}]`);
    }
    this.gpu.device.queue.writeBuffer(this.buffer, this.offset, data.buffer, data.byteOffset, data.byteLength);
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
 * Sub-allocates tensors from large slabs. Offsets honour the storage-binding alignment; a tensor larger
 * than the binding limit is refused with a message naming it, since no kernel could bind it.
 */
export class Arena {
  private slabs: { buffer: GPUBuffer; used: number; size: number }[] = [];
  private readonly slabSize: number;
  private readonly align: number;
  bytes = 0;

  constructor(readonly gpu: Gpu, readonly label: string, slabBytes = 256 << 20) {
    this.slabSize = Math.min(slabBytes, gpu.limits.maxBufferSize);
    this.align = Math.max(256, gpu.limits.minStorageBufferOffsetAlignment);
  }

  alloc(label: string, shape: readonly number[], dtype: DType = "f32"): Tensor {
    for (const d of shape) {
      if (!Number.isInteger(d) || d <= 0) throw new GpuError(`${label}: invalid shape [${shape}]`);
    }
    const bytes = Math.max(4, shape.reduce((a, b) => a * b, 1) * 4);
    const limit = this.gpu.limits.maxStorageBufferBindingSize;
    if (bytes > limit) {
      throw new GpuError(
        `${label}: tensor [${shape}] needs ${bytes} bytes, over this adapter's storage binding limit ${limit}`,
      );
    }
    const need = Math.ceil(bytes / this.align) * this.align;
    let slab = this.slabs.find((s) => s.size - s.used >= need);
    if (!slab) {
      const size = Math.max(need, this.slabSize);
      slab = { buffer: this.gpu.createBuffer(`${this.label} slab ${this.slabs.length}`, size, USAGE), used: 0, size };
      this.slabs.push(slab);
    }
    const t = new Tensor(this.gpu, label, shape, slab.buffer, slab.used, dtype);
    slab.used += need;
    this.bytes += need;
    return t;
  }

  destroy(): void {
    for (const s of this.slabs) s.buffer.destroy();
    this.slabs = [];
  }
}
