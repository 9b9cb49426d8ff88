/**
 * Op recording and reverse-mode differentiation for static graphs.
 *
 * A model is built once: each op allocates its outputs in the arena, appends its kernel dispatches to
 * the forward list and pushes a backward closure on the tape. `buildBackward` then runs the tape in
 * reverse, and each closure appends the dispatches of its gradient kernels. The result is three flat
 * lists of dispatches (forward, backward, optimizer) that a training step encodes into one compute pass
 * (several, where the software adapter's texture copies sit between them: {@link Graph.textureOf}) and
 * submits once. Nothing is allocated, compiled or bound while training.
 *
 * Gradient accumulation needs no zeroing pass: the first backward kernel (in execution order) that
 * contributes to a tensor's gradient overwrites it, later ones add to it. Two more devices keep the
 * backward lean: a complete gradient that passes unchanged to another tensor (a residual connection) is
 * handed over instead of copied ({@link Graph.handGrad}), and gradients formed as sums of partial
 * results (split-K filter gradients, per-image sums) are added up for every parameter at once, in one
 * dispatch at the end of the backward pass ({@link Graph.deferGrad}).
 */
import { type Gpu, GpuError } from "./device.ts";
import { Arena, type DType, Tensor } from "./tensor.ts";
import { type Kernel, TEXEL_ROW } from "../wgsl/kernel.ts";
import { type DeferredSum, sumPartials } from "../wgsl/partials.ts";

/** One kernel dispatch of a recorded list. */
export interface KernelDispatch {
  label: string;
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  workgroups: [number, number, number];
}

/** A copy of a tensor into its texture mirror (see {@link Graph.textureOf}), between compute passes. */
export interface TextureCopy {
  label: string;
  copy: { buffer: GPUBuffer; offset: number; texels: number; texture: GPUTexture };
}

/** What a recorded list holds: kernel dispatches, and the copies some of them read. */
export type Dispatch = KernelDispatch | TextureCopy;

export function isCopy(d: Dispatch): d is TextureCopy {
  return "copy" in d;
}

/** Where {@link Graph.encode} writes GPU timestamps: before its first pass and after its last. */
export interface PassTimestamps {
  querySet: GPUQuerySet;
  begin: number;
  end: number;
}

type Resource = Tensor | GPUBufferBinding | GPUTextureView;

interface GradState {
  grad: Tensor;
  written: boolean;
}

/**
 * Slices of the partial-sum buffer whose sum is (part of) the gradient of elements [at, at + size) of a
 * tensor (all of it when `at` and `size` are absent).
 */
export interface PartialSlices {
  /** The region holding them (from {@link Graph.reservePartials}). */
  region: Tensor;
  /** Element offset of slice 0 within the region. */
  offset: number;
  slices: number;
  /** Elements between consecutive slices. */
  stride: number;
  at?: number;
  size?: number;
}

/** A writable storage binding's name in generated WGSL (see decl in src/wgsl/kernel.ts). */
const WRITABLE = /var<storage, read_write> (\w+)/g;

/** Most bytes of partial sums a graph holds for its single end-of-backward reduction. */
const PARTIAL_BUDGET = 32 << 20;

export class Graph {
  readonly arena: Arena;
  readonly forward: Dispatch[] = [];
  readonly backward: Dispatch[] = [];
  private phase: "forward" | "backward" = "forward";
  private readonly tables: GPUBuffer[] = [];
  private readonly tape: { label: string; outputs: Tensor[]; run: () => void }[] = [];
  private readonly grads = new Map<Tensor, GradState>();
  private readonly needsGrad = new Set<Tensor>();
  private readonly gradViews = new Map<Tensor, Tensor>();
  private readonly workspaces: Tensor[] = [];
  private readonly mirrors = new Map<Tensor, GPUTexture>();
  /** Tensors whose mirror holds their values at the end of the lists recorded so far. */
  private readonly freshMirrors = new Set<Tensor>();
  /** Which tensor each gradient this graph allocated belongs to (only those may be handed on). */
  private readonly holder = new Map<Tensor, Tensor>();
  private readonly deferred = new Map<Tensor, PartialSlices[]>();
  private partialBuffer: GPUBuffer | null = null;
  private partialUsed = 0;

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
      const table = kernel.tables?.[name];
      if (table) return { buffer: this.table(label, table) };
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
    for (const [, name] of kernel.code.matchAll(WRITABLE)) {
      const r = resources[name];
      if (r instanceof Tensor) this.staleMirrors(r.buffer);
    }
    (this.phase === "forward" ? this.forward : this.backward).push({
      label,
      pipeline,
      bindGroup,
      workgroups: kernel.workgroups,
    });
  }

  /** Whether {@link textureOf} can mirror `t`. */
  mirrorable(t: Tensor): boolean {
    const texels = Math.ceil(t.size / 4), max = this.gpu.limits.maxTextureDimension2D;
    return t.offset % 16 === 0 && t.offset + texels * 16 <= t.buffer.size && TEXEL_ROW <= max &&
      Math.ceil(texels / TEXEL_ROW) <= max;
  }

  /**
   * `t`'s values as an rgba32float texture (4 elements a texel, texel i at (i % TEXEL_ROW, i / TEXEL_ROW)),
   * refreshed by a copy appended to the phase being built (unless no dispatch recorded since the last
   * copy writes its buffer), so that kernels recorded after it read the tensor as it is at that point
   * through textureLoad (see load in src/wgsl/kernel.ts). Writes are known from the kernels' read_write
   * bindings; a host write (Tensor.write) between running one recorded list and a later one is not, so a
   * later list may read the values of the earlier run. Null where the tensor cannot be mirrored (see
   * {@link mirrorable}: 16-byte aligned, within the adapter's largest 2D texture).
   */
  textureOf(t: Tensor): GPUTextureView | null {
    if (!this.mirrorable(t)) return null;
    const texels = Math.ceil(t.size / 4);
    let texture = this.mirrors.get(t);
    if (texture && this.freshMirrors.has(t)) return texture.createView();
    if (!texture) {
      texture = this.gpu.device.createTexture({
        label: `${t.label} texture`,
        size: [TEXEL_ROW, Math.ceil(texels / TEXEL_ROW)],
        format: "rgba32float",
        usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST,
      });
      this.mirrors.set(t, texture);
    }
    const copy = { buffer: t.buffer, offset: t.offset, texels, texture };
    this.freshMirrors.add(t);
    (this.phase === "forward" ? this.forward : this.backward).push({ label: `${t.label} to texture`, copy });
    return texture.createView();
  }

  /** Forgets the mirrors of tensors in `buffer`, which a recorded dispatch writes. */
  private staleMirrors(buffer: GPUBuffer): void {
    for (const t of this.freshMirrors) if (t.buffer === buffer) this.freshMirrors.delete(t);
  }

  /** A read-only storage buffer holding `data`, written once and kept while the graph lives. */
  private table(label: string, data: Uint32Array<ArrayBuffer>): GPUBuffer {
    const buffer = this.gpu.createBuffer(
      `${label} table`,
      data.byteLength,
      GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
    );
    this.gpu.device.queue.writeBuffer(buffer, 0, data);
    this.tables.push(buffer);
    return buffer;
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
    if (this.deferred.has(t)) {
      throw new GpuError(`${t.label}: gradient written directly after partial sums were deferred`);
    }
    let s = this.grads.get(t);
    if (!s) {
      let grad = this.gradViews.get(t);
      if (!grad) {
        grad = this.arena.alloc(`${t.label}.grad`, t.shape);
        this.holder.set(grad, t);
      }
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
   * Passes y's complete gradient on to `t` as t's gradient, without a copy, when `t` has none yet and
   * y still holds a gradient this graph allocated (so a chain of residual connections hands one buffer
   * down). Later contributions to t's gradient then add into that memory; that is safe because y's
   * gradient is complete when y's backward runs, and only that backward's dispatches (recorded before
   * any later contribution) read it. Returns false when the caller must copy instead.
   */
  handGrad(y: Tensor, t: Tensor): boolean {
    const grad = this.gradOf(y);
    if (!grad || this.holder.get(grad) !== y || grad.shape.join() !== t.shape.join()) return false;
    if (!this.needsGrad.has(t) || this.grads.has(t) || this.gradViews.has(t) || this.deferred.has(t)) {
      return false;
    }
    this.holder.set(grad, t);
    this.grads.set(t, { grad, written: true });
    return true;
  }

  /**
   * True when t's gradient may be formed from partial sums reduced at the end of backward: t needs a
   * gradient and nothing has written it directly.
   */
  canDefer(t: Tensor): boolean {
    return this.needsGrad.has(t) && !this.grads.has(t);
  }

  /**
   * A region of `elements` floats in the graph's partial-sum buffer, or null when the budget (or the
   * adapter's binding limit) is spent and the caller must reduce on its own.
   */
  reservePartials(label: string, elements: number): Tensor | null {
    const align = Math.max(256, this.gpu.limits.minStorageBufferOffsetAlignment) / 4;
    const budget = Math.min(PARTIAL_BUDGET, this.gpu.limits.maxStorageBufferBindingSize) / 4;
    const start = Math.ceil(this.partialUsed / align) * align;
    if (start + elements > budget) return null;
    this.partialBuffer ??= this.gpu.createBuffer(
      `${this.label}/partial sums`,
      budget * 4,
      GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
    );
    this.partialUsed = start + elements;
    return new Tensor(this.gpu, `${this.label}/${label} partials`, [elements], this.partialBuffer, start * 4);
  }

  /** True when part of t's gradient is already deferred. */
  isDeferred(t: Tensor): boolean {
    return this.deferred.has(t);
  }

  /**
   * Declares that the sum of `p`'s slices is part of the gradient of t's elements [at, at + size). Every
   * element of t must be covered by at least one declaration.
   */
  deferGrad(t: Tensor, p: PartialSlices): void {
    if (!this.canDefer(t) && !this.deferred.has(t)) {
      throw new GpuError(`${t.label}: cannot defer a gradient that was written directly`);
    }
    const at = p.at ?? 0, size = p.size ?? t.size;
    const inRegion = p.offset + (p.slices - 1) * p.stride + size <= p.region.size;
    if (p.region.buffer !== this.partialBuffer || !inRegion || at + size > t.size) {
      throw new GpuError(`${t.label}: partial slices outside their region or tensor`);
    }
    const list = this.deferred.get(t) ?? [];
    list.push(p);
    this.deferred.set(t, list);
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
    this.reduceDeferred();
  }

  /**
   * Adds up every deferred gradient into its tensor: one dispatch per destination buffer (all of a
   * model's parameters share one), or per window of it that fits the binding limit.
   */
  private reduceDeferred(): void {
    const byBuffer = new Map<GPUBuffer, { at: number; sum: DeferredSum }[]>();
    for (const [t, parts] of this.deferred) {
      const dst = this.gradViews.get(t) ?? this.arena.alloc(`${t.label}.grad`, t.shape);
      this.grads.set(t, { grad: dst, written: true });
      // One sum per element range; the parts of a range are added in the order they were declared.
      // Elements no part covers (the rows of wholly masked taps) get no gradient, as they would
      // from a direct write.
      const ranges = new Map<string, { at: number; sum: DeferredSum }>();
      for (const p of parts) {
        const at = p.at ?? 0, size = p.size ?? t.size, key = `${at}:${size}`;
        let r = ranges.get(key);
        if (!r) {
          r = { at: dst.offset / 4 + at, sum: { dst: 0, size, parts: [] } };
          ranges.set(key, r);
        }
        r.sum.parts.push({ src: p.region.offset / 4 + p.offset, slices: p.slices, stride: p.stride });
      }
      const list = byBuffer.get(dst.buffer) ?? [];
      list.push(...ranges.values());
      byBuffer.set(dst.buffer, list);
    }
    this.deferred.clear();
    const align = Math.max(256, this.gpu.limits.minStorageBufferOffsetAlignment) / 4;
    const limit = Math.floor(this.gpu.limits.maxStorageBufferBindingSize / 4);
    const part = { buffer: this.partialBuffer!, offset: 0, size: this.partialUsed * 4 };
    for (const [buffer, list] of byBuffer) {
      list.sort((a, b) => a.at - b.at);
      let i = 0;
      while (i < list.length) {
        const base = Math.floor(list[i].at / align) * align;
        const group: DeferredSum[] = [];
        let end = base;
        for (; i < list.length && list[i].at + list[i].sum.size - base <= limit; i++) {
          group.push({ ...list[i].sum, dst: list[i].at - base });
          end = Math.max(end, list[i].at + list[i].sum.size);
        }
        if (!group.length) throw new GpuError(`${this.label}: a gradient exceeds the binding limit`);
        const kernel = sumPartials(group, this.gpu.limits.maxComputeWorkgroupsPerDimension);
        this.dispatch("sum partials", kernel, {
          PART: part,
          DST: { buffer, offset: base * 4, size: (end - base) * 4 },
        });
      }
    }
  }

  /**
   * Encodes the lists in order: their dispatches in compute passes, texture copies between passes. With
   * `timestamps`, GPU time is written before the first pass and after the last.
   */
  static encode(
    enc: GPUCommandEncoder,
    label: string,
    lists: Dispatch[][],
    timestamps?: PassTimestamps,
  ): void {
    const items = lists.flat();
    const lastCopy = items.findLastIndex(isCopy);
    const ts = (begin: boolean, end: boolean): GPUComputePassTimestampWrites | undefined =>
      timestamps && (begin || end)
        ? {
          querySet: timestamps.querySet,
          beginningOfPassWriteIndex: begin ? timestamps.begin : undefined,
          endOfPassWriteIndex: end ? timestamps.end : undefined,
        }
        : undefined;
    // Consecutive copies share one break between passes (a pass costs ~10 us of host encoding here).
    let pass: GPUComputePassEncoder | null = enc.beginComputePass({
      label,
      timestampWrites: ts(true, lastCopy < 0),
    });
    items.forEach((d, i) => {
      if (isCopy(d)) {
        pass?.end();
        pass = null;
        copyToTexture(enc, d.copy);
        return;
      }
      pass ??= enc.beginComputePass({ label, timestampWrites: ts(false, i > lastCopy) });
      pass.setPipeline(d.pipeline);
      pass.setBindGroup(0, d.bindGroup);
      pass.dispatchWorkgroups(d.workgroups[0], d.workgroups[1], d.workgroups[2]);
    });
    // Lists ending in a copy: an empty pass takes the closing timestamp.
    if (!pass && timestamps) pass = enc.beginComputePass({ label, timestampWrites: ts(false, true) });
    pass?.end();
  }

  /** Encodes and submits the lists once (for tests and evaluation; training uses its own loop). */
  run(...lists: Dispatch[][]): void {
    const enc = this.gpu.device.createCommandEncoder({ label: this.label });
    Graph.encode(enc, this.label, lists);
    this.gpu.device.queue.submit([enc.finish()]);
  }

  destroy(): void {
    this.arena.destroy();
    this.partialBuffer?.destroy();
    for (const b of this.tables) b.destroy();
    for (const t of this.mirrors.values()) t.destroy();
  }
}

/** Texel rows as written by TextureCopy: whole rows in one copy, the last partial row in another. */
function copyToTexture(enc: GPUCommandEncoder, c: TextureCopy["copy"]): void {
  const full = Math.floor(c.texels / TEXEL_ROW), rest = c.texels - full * TEXEL_ROW;
  const bytesPerRow = TEXEL_ROW * 16;
  if (full) {
    enc.copyBufferToTexture({ buffer: c.buffer, offset: c.offset, bytesPerRow }, { texture: c.texture }, [
      TEXEL_ROW,
      full,
    ]);
  }
  if (rest) {
    enc.copyBufferToTexture(
      { buffer: c.buffer, offset: c.offset + full * bytesPerRow, bytesPerRow },
      { texture: c.texture, origin: [0, full] },
      [rest, 1],
    );
  }
}
