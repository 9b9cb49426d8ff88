/**
 * Parameters live in flat buffers: values, gradients and (for masked weights) a 0/1 mask share one
 * layout, so the optimizer updates every parameter in a few large dispatches and a checkpoint is one
 * read. A model declares all parameters first, then the store allocates and initialises them once.
 */
import { type Gpu, GpuError } from "./device.ts";
import { Rng } from "./rng.ts";
import { Tensor } from "./tensor.ts";

/**
 * Initial values: uniform in [-scale, scale], a constant, or an LSTM gate bias laid out [..., 4h] as
 * [o | f | i | g] blocks, zero except the forget block.
 */
export type Init =
  | { kind: "uniform"; scale: number }
  | { kind: "constant"; value: number }
  | { kind: "forget-gate"; h: number; value: number };

function initialValue(init: Init, i: number, rng: Rng): number {
  switch (init.kind) {
    case "uniform":
      return (rng.uniform() * 2 - 1) * init.scale;
    case "constant":
      return init.value;
    case "forget-gate": {
      const j = i % (4 * init.h);
      return j >= init.h && j < 2 * init.h ? init.value : 0;
    }
  }
}

export interface ParamInfo {
  name: string;
  shape: number[];
  size: number;
  /** Element offset in the flat buffers (a multiple of 64, so every view is binding-aligned). */
  offset: number;
  init: Init;
  /** 0/1 per element; masked entries are zero at init and stay zero through every update. */
  mask?: Float32Array;
}

const ALIGN = 64;
// UNIFORM too: a small weight may be bound as a uniform buffer (src/engine/tiles.ts uniformWeightTiles).
const USAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_SRC |
  GPUBufferUsage.COPY_DST;

export class ParamStore {
  readonly infos: ParamInfo[] = [];
  private byName = new Map<string, ParamInfo>();
  /** Padded element count of the flat buffers. */
  length = 0;
  values: GPUBuffer | null = null;
  grads: GPUBuffer | null = null;
  masks: GPUBuffer | null = null;
  private views = new Map<string, { value: Tensor; grad: Tensor }>();

  declare(name: string, shape: number[], init: Init, mask?: Float32Array): ParamInfo {
    if (this.values) throw new GpuError(`param ${name}: declared after allocation`);
    if (this.byName.has(name)) throw new GpuError(`param ${name}: declared twice`);
    for (const d of shape) {
      if (!Number.isInteger(d) || d <= 0) throw new GpuError(`param ${name}: bad shape [${shape}]`);
    }
    const size = shape.reduce((a, b) => a * b, 1);
    if (mask && mask.length !== size) {
      throw new GpuError(`param ${name}: mask of ${mask.length} for ${size} values`);
    }
    const info: ParamInfo = { name, shape, size, offset: this.length, init, mask };
    this.length += Math.ceil(size / ALIGN) * ALIGN;
    this.infos.push(info);
    this.byName.set(name, info);
    return info;
  }

  get(name: string): ParamInfo {
    const p = this.byName.get(name);
    if (!p) throw new GpuError(`no parameter named ${name}`);
    return p;
  }

  get hasMasks(): boolean {
    return this.infos.some((p) => p.mask);
  }

  /** Number of trainable scalars: unmasked entries of every parameter. */
  get trainableCount(): number {
    let n = 0;
    for (const p of this.infos) n += p.mask ? p.mask.reduce((a, b) => a + b, 0) : p.size;
    return n;
  }

  /** The initial flat values for `seed` (each parameter draws from its own stream, so order is free). */
  initialValues(seed: number): Float32Array {
    const out = new Float32Array(this.length);
    this.infos.forEach((p, k) => {
      const rng = new Rng(seed, 1000 + k);
      for (let i = 0; i < p.size; i++) {
        const v = initialValue(p.init, i, rng);
        out[p.offset + i] = p.mask ? v * p.mask[i] : v;
      }
    });
    return out;
  }

  flatMask(): Float32Array {
    const out = new Float32Array(this.length);
    for (const p of this.infos) {
      if (p.mask) out.set(p.mask, p.offset);
      else out.fill(1, p.offset, p.offset + p.size);
    }
    return out;
  }

  /** Creates the flat buffers and writes the initial values. */
  allocate(gpu: Gpu, seed: number): void {
    if (this.values) throw new GpuError("parameters already allocated");
    if (this.length === 0) throw new GpuError("no parameters declared");
    const bytes = this.length * 4;
    this.values = gpu.createBuffer("params", bytes, USAGE);
    this.grads = gpu.createBuffer("param grads", bytes, USAGE);
    gpu.device.queue.writeBuffer(this.values, 0, this.initialValues(seed) as Float32Array<ArrayBuffer>);
    if (this.hasMasks) {
      this.masks = gpu.createBuffer("param masks", bytes, USAGE);
      gpu.device.queue.writeBuffer(this.masks, 0, this.flatMask() as Float32Array<ArrayBuffer>);
    }
    for (const p of this.infos) {
      this.views.set(p.name, {
        value: new Tensor(gpu, p.name, p.shape, this.values, p.offset * 4),
        grad: new Tensor(gpu, `${p.name}.grad`, p.shape, this.grads, p.offset * 4),
      });
    }
  }

  tensor(name: string): Tensor {
    const v = this.views.get(name);
    if (!v) throw new GpuError(`parameter ${name} is not allocated`);
    return v.value;
  }

  gradTensor(name: string): Tensor {
    const v = this.views.get(name);
    if (!v) throw new GpuError(`parameter ${name} is not allocated`);
    return v.grad;
  }

  /** Reads the flat values (checkpoints, tests). */
  async valuesFlat(): Promise<Float32Array> {
    return await this.flatView("values").read();
  }

  /** Reads the flat gradients of the last backward pass. */
  async gradTensorFlat(): Promise<Float32Array> {
    return await this.flatView("grads").read();
  }

  private flatView(which: "values" | "grads"): Tensor {
    const buffer = this[which];
    if (!buffer) throw new GpuError("parameters not allocated");
    const gpu = this.views.values().next().value!.value.gpu;
    return new Tensor(gpu, `param ${which}`, [this.length], buffer, 0);
  }

  /** Overwrites all values (checkpoint load); masked entries must already be zero. */
  load(gpu: Gpu, flat: Float32Array): void {
    if (!this.values) throw new GpuError("parameters not allocated");
    if (flat.length !== this.length) {
      throw new GpuError(`parameter vector of ${flat.length}, expected ${this.length}`);
    }
    gpu.device.queue.writeBuffer(this.values, 0, flat as Float32Array<ArrayBuffer>);
  }

  destroy(): void {
    for (const b of [this.values, this.grads, this.masks]) b?.destroy();
  }
}
