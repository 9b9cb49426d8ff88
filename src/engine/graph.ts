/**
 * Op recording and reverse-mode differentiation for static graphs.
 *
 * A model is built once: each op allocates its outputs in the arena, appends its kernel dispatches to
 * the forward list and pushes a backward closure on the tape. `buildBackward` then runs the tape in
 * reverse, and each closure appends the dispatches of its gradient kernels. The result is three flat
 * lists of dispatches (forward, backward, optimizer) that a training step encodes into one compute pass
 * and submits once. Nothing is allocated, compiled or bound while training.
 *
 * Gradient accumulation needs no zeroing pass: the first backward kernel (in execution order) that
 * contributes to a tensor's gradient overwrites it, later ones add to it.
 */
import { type Gpu, GpuError } from "./device.ts";
import { Arena, type DType, Tensor } from "./tensor.ts";
import type { Kernel } from "../wgsl/conv.ts";

export interface Dispatch {
  label: string;
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  workgroups: [number, number, number];
}

type Resource = Tensor | GPUBufferBinding;

interface GradState {
  grad: Tensor;
  written: boolean;
}

export class Graph {
  readonly arena: Arena;
  readonly forward: Dispatch[] = [];
  readonly backward: Dispatch[] = [];
  private phase: "forward" | "backward" = "forward";
  private readonly tape: { label: string; outputs: Tensor[]; run: () => void }[] = [];
  private readonly grads = new Map<Tensor, GradState>();
  private readonly needsGrad = new Set<Tensor>();
  private readonly gradViews = new Map<Tensor, Tensor>();
  private readonly workspaces: Tensor[] = [];

  constructor(readonly gpu: Gpu, readonly label: string) {
    this.arena = new Arena(gpu, label);
  }

  alloc(label: string, shape: readonly number[], dtype: DType = "f32"): Tensor {
    return this.arena.alloc(`${this.label}/${label}`, shape, dtype);
  }

  /**
   * Scratch memory for values that live only between two dispatches of one op (split-K partial sums).
   * Dispatches run in recorded order, so every op of the graph can share it.
   */
  workspace(elements: number): Tensor {
    let w = this.workspaces.find((t) => t.size >= elements);
    if (!w) {
      w = this.arena.alloc(`${this.label}/workspace ${this.workspaces.length}`, [elements]);
      this.workspaces.push(w);
    }
    return w.size === elements ? w : new Tensor(this.gpu, w.label, [elements], w.buffer, w.offset);
  }

  /**
   * Declares that gradients flow into `t` (a parameter, or an input a test differentiates). `grad`, when
   * given, is where the gradient is written (a parameter's slot in the flat gradient buffer).
   */
  requireGrad(t: Tensor, grad?: Tensor): void {
    this.needsGrad.add(t);
    if (grad) this.gradViews.set(t, grad);
  }

  requiresGrad(t: Tensor): boolean {
    return this.needsGrad.has(t);
  }

  /** Appends one kernel dispatch to the phase being built; resources are bound in the kernel's order. */
  dispatch(label: string, kernel: Kernel, resources: Record<string, Resource>, step?: number): void {
    const pipeline = this.gpu.pipeline(label, kernel.code);
    const entries: GPUBindingResource[] = kernel.bindings.map((name) => {
      const r = resources[name];
      if (!r) throw new GpuError(`${label}: kernel binding '${name}' has no resource`);
      return r instanceof Tensor ? r.binding() : r;
    });
    if (kernel.usesStep) {
      if (step === undefined) throw new GpuError(`${label}: kernel reads a step index but none was given`);
      entries.push(this.gpu.stepBinding(step));
    }
    const bindGroup = this.gpu.bindGroup(label, pipeline, entries);
    const [x, y, z] = kernel.workgroups;
    const max = this.gpu.limits.maxComputeWorkgroupsPerDimension;
    if (x > max || y > max || z > max) {
      throw new GpuError(`${label}: grid ${x}x${y}x${z} exceeds ${max} workgroups per dimension`);
    }
    if (x === 0 || y === 0 || z === 0) return;
    (this.phase === "forward" ? this.forward : this.backward).push({
      label,
      pipeline,
      bindGroup,
      workgroups: kernel.workgroups,
    });
  }

  /**
   * Records an op. Its outputs require gradients when any input does; `backward` then runs during
   * {@link buildBackward} after every consumer of the outputs has contributed to their gradients.
   */
  record(label: string, inputs: Tensor[], outputs: Tensor[], backward?: () => void): void {
    if (this.phase !== "forward") throw new GpuError(`${label}: ops cannot be recorded after backward`);
    if (!inputs.some((t) => this.needsGrad.has(t))) return;
    for (const o of outputs) this.needsGrad.add(o);
    if (backward) this.tape.push({ label, outputs, run: backward });
  }

  /**
   * Where a backward kernel writes its contribution to dL/dt, and whether it must add to what is there.
   * Returns null when `t` needs no gradient.
   */
  gradSink(t: Tensor): { grad: Tensor; accumulate: boolean } | null {
    if (!this.needsGrad.has(t)) return null;
    let s = this.grads.get(t);
    if (!s) {
      const grad = this.gradViews.get(t) ?? this.arena.alloc(`${t.label}.grad`, t.shape);
      s = { grad, written: false };
      this.grads.set(t, s);
    }
    const accumulate = s.written;
    s.written = true;
    return { grad: s.grad, accumulate };
  }

  /** The complete gradient of `t` (valid once every consumer's backward ran), or null if none flowed. */
  gradOf(t: Tensor): Tensor | null {
    const s = this.grads.get(t);
    return s && s.written ? s.grad : null;
  }

  /**
   * Builds the backward dispatches. `seeds` gives, for each output, the tensor holding dL/d(output)
   * (written by the caller, usually once at build: e.g. 1/batch for a mean loss).
   */
  buildBackward(seeds: [Tensor, Tensor][]): void {
    if (this.phase !== "forward") throw new GpuError("backward already built");
    this.phase = "backward";
    for (const [t, g] of seeds) {
      if (!this.needsGrad.has(t)) throw new GpuError(`${t.label}: no parameter influences this output`);
      this.grads.set(t, { grad: g, written: true });
    }
    for (let i = this.tape.length - 1; i >= 0; i--) {
      const e = this.tape[i];
      if (e.outputs.some((o) => this.gradOf(o))) e.run();
    }
  }

  /** Encodes the given dispatch lists into one compute pass. */
  static encode(pass: GPUComputePassEncoder, ...lists: Dispatch[][]): void {
    for (const list of lists) {
      for (const d of list) {
        pass.setPipeline(d.pipeline);
        pass.setBindGroup(0, d.bindGroup);
        pass.dispatchWorkgroups(d.workgroups[0], d.workgroups[1], d.workgroups[2]);
      }
    }
  }

  /** Encodes and submits the lists once (for tests and evaluation; training uses its own loop). */
  run(...lists: Dispatch[][]): void {
    const enc = this.gpu.device.createCommandEncoder({ label: this.label });
    const pass = enc.beginComputePass({ label: this.label });
    Graph.encode(pass, ...lists);
    pass.end();
    this.gpu.device.queue.submit([enc.finish()]);
  }

  destroy(): void {
    this.arena.destroy();
  }
}
