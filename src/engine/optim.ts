/**
 * RMSProp and Adam over a {@link ParamStore}'s flat buffers. State buffers and dispatches are created
 * once; a training step calls {@link Optimizer.prepareStep} (one 16-byte queue write: lr and Adam's bias
 * corrections) and encodes {@link Optimizer.dispatches} after the backward pass, in the same submit.
 *
 * The flat buffers may exceed the adapter's storage-binding limit on big models, so the update runs as
 * several dispatches over ranges that each fit the limit and start at a binding-aligned offset.
 */
import { type Gpu, GpuError } from "./device.ts";
import type { Dispatch } from "./graph.ts";
import type { ParamStore } from "./params.ts";
import { Tensor } from "./tensor.ts";
import { optimizerUpdate, stateNames, type UpdateRule } from "../wgsl/optim.ts";

/** RMSProp as in Torch7 optim.rmsprop: v = decay v + (1 - decay) g^2; w -= lr g / (sqrt(v) + eps). */
export interface RmspropConfig {
  kind: "rmsprop";
  lr: number;
  /** Default 0.99 (Torch7's alpha). */
  decay?: number;
  /** Default 1e-8 (Torch7's epsilon). */
  eps?: number;
}

/** Adam (Kingma & Ba 2015) with bias correction: w -= lr m^ / (sqrt(v^) + eps). */
export interface AdamConfig {
  kind: "adam";
  lr: number;
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.999. */
  beta2?: number;
  /** Default 1e-8. */
  eps?: number;
}

export type OptimizerConfig = RmspropConfig | AdamConfig;

/** A config with every default filled in. */
export type ResolvedConfig = Required<RmspropConfig> | Required<AdamConfig>;

/** What a checkpoint stores: the step count and each state buffer (`v`, or `m` and `v`). */
export interface OptimizerState {
  step: number;
  buffers: Record<string, Float32Array>;
}

/** Construction options that tests (not models) change. */
export interface OptimizerOptions {
  /** Largest binding per dispatch in bytes; defaults to the adapter's limit (tests lower it). */
  maxBindingBytes?: number;
}

/** Fills defaults and rejects hyper-parameters that would silently train badly. */
export function resolveConfig(config: OptimizerConfig): ResolvedConfig {
  const r: ResolvedConfig = config.kind === "rmsprop"
    ? { kind: "rmsprop", lr: config.lr, decay: config.decay ?? 0.99, eps: config.eps ?? 1e-8 }
    : {
      kind: "adam",
      lr: config.lr,
      beta1: config.beta1 ?? 0.9,
      beta2: config.beta2 ?? 0.999,
      eps: config.eps ?? 1e-8,
    };
  checkPositive(r.kind, "lr", r.lr);
  checkPositive(r.kind, "eps", r.eps);
  const rates = r.kind === "rmsprop" ? { decay: r.decay } : { beta1: r.beta1, beta2: r.beta2 };
  for (const [name, v] of Object.entries(rates)) {
    if (!(Number.isFinite(v) && v >= 0 && v < 1)) {
      throw new GpuError(`${r.kind}: ${name} must be in [0, 1), got ${v}`);
    }
  }
  return r;
}

function checkPositive(kind: string, name: string, v: number): void {
  if (!(Number.isFinite(v) && v > 0)) {
    throw new GpuError(`${kind}: ${name} must be a finite number > 0, got ${v}`);
  }
}

const STATE_USAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

/** An optimizer bound to one parameter store: state buffers and update dispatches created once. */
export class Optimizer {
  readonly config: ResolvedConfig;
  private stepCount = 0;
  private readonly hyper: GPUBuffer;
  /** State buffers by lower-case name (`v`, or `m` and `v`). */
  private readonly state = new Map<string, GPUBuffer>();
  private readonly list: Dispatch[] = [];

  constructor(
    readonly gpu: Gpu,
    readonly params: ParamStore,
    config: OptimizerConfig,
    options: OptimizerOptions = {},
  ) {
    this.config = resolveConfig(config);
    const { values, grads, masks } = params;
    if (!values || !grads) throw new GpuError(`${config.kind}: parameters are not allocated`);
    const rule: UpdateRule = this.config;
    const bytes = params.length * 4;
    for (const name of stateNames(rule)) {
      // WebGPU zero-fills new buffers: the state starts at zero, as in Torch7 and the Adam paper.
      this.state.set(name.toLowerCase(), gpu.createBuffer(`${rule.kind} ${name}`, bytes, STATE_USAGE));
    }
    this.hyper = gpu.createBuffer(`${rule.kind} hyper`, 16, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);

    const buffers: Record<string, GPUBuffer> = { W: values, G: grads };
    if (masks) buffers.MASK = masks;
    for (const name of stateNames(rule)) buffers[name] = this.state.get(name.toLowerCase())!;
    const range = rangeElements(gpu, options.maxBindingBytes ?? gpu.limits.maxStorageBufferBindingSize);
    const maxGroups = gpu.limits.maxComputeWorkgroupsPerDimension;
    for (let start = 0; start < params.length; start += range) {
      const count = Math.min(range, params.length - start);
      const kernel = optimizerUpdate(rule, count, masks !== null, maxGroups);
      const label = `${rule.kind} update [${start}, ${start + count})`;
      const pipeline = gpu.pipeline(label, kernel.code);
      const entries = kernel.bindings.map((name): GPUBufferBinding =>
        name === "HYPER"
          ? { buffer: this.hyper, offset: 0, size: 16 }
          : { buffer: buffers[name], offset: start * 4, size: count * 4 }
      );
      this.list.push({
        label,
        pipeline,
        bindGroup: gpu.bindGroup(label, pipeline, entries),
        workgroups: kernel.workgroups,
      });
    }
  }

  /** Updates applied so far (Adam's bias correction uses it). */
  get step(): number {
    return this.stepCount;
  }

  get lr(): number {
    return this.config.lr;
  }

  /** Changes the learning rate from the next {@link prepareStep} on (for schedules). */
  set lr(lr: number) {
    checkPositive(this.config.kind, "lr", lr);
    this.config.lr = lr;
  }

  /** Counts the coming update and writes its uniform; call once before each submit that runs it. */
  prepareStep(): void {
    this.stepCount++;
    const c = this.config;
    const t = this.stepCount;
    const hyper = c.kind === "adam"
      ? [c.lr, 1 / (1 - c.beta1 ** t), 1 / (1 - c.beta2 ** t), 0]
      : [c.lr, 1, 1, 0];
    this.gpu.device.queue.writeBuffer(this.hyper, 0, new Float32Array(hyper));
  }

  /** The update dispatches, recorded once at construction; encode them after the backward pass. */
  dispatches(): Dispatch[] {
    return this.list;
  }

  /** Step count and state buffers, for checkpoints. */
  async readState(): Promise<OptimizerState> {
    const buffers: Record<string, Float32Array> = {};
    for (const [name, buf] of this.state) {
      buffers[name] = await new Tensor(this.gpu, `${this.config.kind} ${name}`, [this.params.length], buf, 0)
        .read();
    }
    return { step: this.stepCount, buffers };
  }

  /** Restores what {@link readState} returned (same optimizer kind and parameter layout). */
  loadState(s: OptimizerState): void {
    const kind = this.config.kind;
    const want = [...this.state.keys()].sort().join(",");
    const got = Object.keys(s.buffers).sort().join(",");
    if (got !== want) {
      throw new GpuError(`${kind}: checkpoint has state buffers [${got}], expected [${want}]`);
    }
    if (!Number.isInteger(s.step) || s.step < 0) throw new GpuError(`${kind}: invalid step count ${s.step}`);
    for (const [name, buf] of this.state) {
      const data = s.buffers[name];
      if (data.length !== this.params.length) {
        throw new GpuError(
          `${kind}: state '${name}' has ${data.length} values, expected ${this.params.length}`,
        );
      }
      this.gpu.device.queue.writeBuffer(buf, 0, data as Float32Array<ArrayBuffer>);
    }
    this.stepCount = s.step;
  }

  destroy(): void {
    for (const b of [...this.state.values(), this.hyper]) b.destroy();
  }
}

/** Elements per dispatch: within the binding limit, a multiple of 4 and of the offset alignment. */
function rangeElements(gpu: Gpu, maxBindingBytes: number): number {
  const align = Math.max(16, gpu.limits.minStorageBufferOffsetAlignment) / 4;
  const range = Math.floor(Math.min(maxBindingBytes, gpu.limits.maxStorageBufferBindingSize) / 4 / align) *
    align;
  if (range <= 0) {
    throw new GpuError(`optimizer: binding limit of ${maxBindingBytes} bytes is below one aligned range`);
  }
  return range;
}
