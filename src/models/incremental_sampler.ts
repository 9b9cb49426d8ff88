/**
 * The incremental sampler: every layer resident, each sub-pixel computing only the channels it
 * completes at its own pixel (incremental_ops.ts), in one fused dispatch that ends with the draw, or on
 * a software adapter one dispatch per layer (src/wgsl/incremental.ts). It draws what the reference
 * sampler (sampler.ts) draws from the same (seed, stream).
 *
 * The position of a dispatch is in its bind group: the records are bound at the pixel's window, the
 * logits map at the pixel, and a slot holds the pixel's first sub-pixel index; so every pixel has its
 * own bind groups, recorded once. Per batch: the conditioning maps and padding states, the records'
 * initial values, the given rows (per pixel every channel, no draw), then one command buffer per
 * generated row: per pixel the dispatches of each sub-pixel in turn (one each, or one per layer), and
 * after the row the Diagonal BiLSTM's right direction. Nothing is read back until the images are done.
 */
import { type Dispatch, Graph } from "../engine/graph.ts";
import { GpuError } from "../engine/device.ts";
import { Tensor } from "../engine/tensor.ts";
import { diagonalPadding } from "../wgsl/diagonal_padding.ts";
import { initKernel, logitStride, rowEndKernels, stepKernels } from "../wgsl/incremental.ts";
import type { Kernel } from "../wgsl/kernel.ts";
import { logits } from "./architecture.ts";
import { IncrementalOps, type LstmRefs, type Plan, subpixelOf } from "./incremental_ops.ts";
import { type Layout, layoutOf, recordFloats, windowOffset } from "./incremental_layout.ts";
import { conditionShape, type PixelModel } from "./model.ts";
import {
  type ImageSampler,
  type SampleMaps,
  type SampleOptions,
  startImages,
  submitRows,
} from "./sampling.ts";

/**
 * Per kernel profile (see src/engine/tiles.ts): images per workgroup, invocations per workgroup, and
 * layers per kernel. A GPU runs each sub-pixel as one fused kernel; a software adapter one kernel per
 * layer, which Mesa compiles in seconds where a fused 12-layer RGB kernel took over ten minutes (see
 * stepKernels) and which costs it about a dispatch (~25 us) per layer and sub-pixel.
 */
const SHAPES = {
  software: { group: 8, workgroup: 8, nodesPerKernel: 1 },
  gpu: { group: 4, workgroup: 64, nodesPerKernel: Infinity },
};

export class IncrementalSampler implements ImageSampler {
  readonly plan: Plan;
  readonly layout: Layout;
  private readonly g: Graph;
  private readonly maps: SampleMaps;
  private readonly log: Tensor;
  private readonly key: Tensor;
  private readonly once: Dispatch[];
  /** Per pixel: the dispatches of its sub-pixels in order, and those of a given pixel. */
  private readonly pixels: { draw: Dispatch[]; given: Dispatch[] }[] = [];
  /** Per row: the Diagonal BiLSTM's right direction (none for other kinds). */
  private readonly rowEnd: Dispatch[][];

  constructor(readonly model: PixelModel, readonly batch: number) {
    const c = model.config, gpu = model.gpu;
    if (!Number.isInteger(batch) || batch <= 0) {
      throw new GpuError(`batch must be a positive integer, got ${batch}`);
    }
    const shape = SHAPES[gpu.policy.profile];
    this.g = new Graph(gpu, "incremental sampler");
    const imageShape = [batch, c.height, c.width, c.channels];
    const input = this.g.alloc("input", imageShape), targets = this.g.alloc("targets", imageShape, "u32");
    const condition = c.conditioning ? this.g.alloc("condition", conditionShape(c, batch)) : undefined;
    this.maps = { input, targets, condition };
    // Padding states of every Diagonal BiLSTM layer: [h | c] x [left | right] x rows x h, 64-aligned.
    const rows = Math.max(1, c.height - 1), block = Math.ceil((4 * rows * c.h) / 64) * 64;
    const pad = c.kind === "diagonal-bilstm" ? this.g.alloc("padding states", [c.layers * block]) : null;
    const padAt = new Map<number, number>();
    const ops = new IncrementalOps(this.g, model.store, c.channels, (g, p, n, h) => {
      const at = padAt.size * block;
      const view = (k: number) =>
        new Tensor(gpu, "padding", [2 * rows * h], pad!.buffer, pad!.offset + 4 * (at + k));
      const [ph, pc] = [view(0), view(2 * rows * h)];
      if (n > 1) {
        g.dispatch("padding states", diagonalPadding({ n, h }), {
          ...paramTensors(model, p),
          PADH: ph,
          PADC: pc,
        });
      }
      padAt.set(padAt.size, at);
      return { h: ph, c: pc };
    });
    const image = ops.image(imageShape);
    const out = logits(ops, c, image, condition && ops.given(condition));
    this.plan = ops.plan(out);
    const per = this.plan.nodes[this.plan.output].channels / c.channels;
    this.plan.nodes[this.plan.output].deps.forEach((d, col) => {
      if (subpixelOf(d) > Math.floor(col / per)) {
        throw new GpuError(
          `logit ${col} depends on its own sub-pixel or a later one: the model is not causal`,
        );
      }
    });
    try {
      this.layout = layoutOf(
        this.plan,
        { batch, height: c.height, width: c.width, group: shape.group },
        gpu.limits.maxStorageBufferBindingSize,
      );
    } catch (e) {
      this.g.destroy();
      throw e;
    }
    const l = this.layout;
    const rec = this.g.alloc("records", [recordFloats(l)]);
    const scr = this.g.alloc("scratch", [l.images * l.scratch]);
    const stride = logitStride(this.plan.nodes[this.plan.output].channels);
    this.log = this.g.alloc("logits", [batch, c.height, c.width, stride]);
    this.key = this.g.alloc("sample key", [2], "u32");
    // Pixel p's slot holds its first sub-pixel index p * C, at a binding-aligned offset.
    const slot = Math.max(16, gpu.limits.minStorageBufferOffsetAlignment) / 4;
    const pos = this.g.alloc("sub-pixel positions", [c.height * c.width * slot], "u32");
    const first = new Uint32Array(pos.size);
    for (let p = 0; p < c.height * c.width; p++) first[p * slot] = p * c.channels;
    pos.write(first);

    const diagonalNodes = this.plan.nodes.flatMap((n, k) => n.op === "diagonal" ? [k] : []);
    const init = initKernel(this.plan, l, c.channels, (k) => padAt.get(diagonalNodes.indexOf(k))!);
    const fixed = this.plan.nodes.flatMap((n) => n.op === "fixed" ? [n.t] : []);
    const initRes: Record<string, Tensor> = { REC: rec, INPUT: input, P: params(model) };
    fixed.forEach((t, i) => initRes[`FIX${i}`] = t);
    if (pad) initRes.PAD = pad;
    this.g.dispatch("records", init, initRes);
    this.once = this.g.forward;

    const common = {
      workgroup: shape.workgroup,
      channels: c.channels,
      output: c.output,
      ...inputScaling(model),
    };
    // Sub-pixel g computes the channels that become computable at g; a given pixel every channel of
    // the nodes given rows need.
    const columns = (g: number | null) =>
      this.plan.nodes.map((n, k) =>
        n.deps.flatMap((d, ch) => (g === null ? this.plan.prefix[k] : subpixelOf(d) === g) ? [ch] : [])
      );
    const kernels = (g: number | null) =>
      stepKernels({
        ...common,
        plan: this.plan,
        layout: l,
        subpixel: g,
        columns: columns(g),
        nodesPerKernel: shape.nodesPerKernel,
      });
    const draws = Array.from({ length: c.channels }, (_, g) => kernels(g));
    const given = kernels(null);
    const window = (r: number, c0: number) => binding(rec, windowOffset(l, r, c0));
    for (let r = 0; r < c.height; r++) {
      for (let x = 0; x < c.width; x++) {
        const p = r * c.width + x;
        const res = { REC: window(r, x), SCR: scr.binding(), P: params(model).binding() };
        const drawRes = {
          ...res,
          LOG: binding(this.log, p * stride),
          TGT: targets.binding(),
          POS: { buffer: pos.buffer, offset: pos.offset + p * slot * 4, size: 4 },
          KEY: this.key.binding(),
        };
        this.pixels.push({
          draw: draws.flatMap((ks, g) =>
            ks.map((k, i) => dispatch(model, `pixel ${p} sub-pixel ${g} part ${i}`, k, drawRes))
          ),
          given: given.map((k, i) => dispatch(model, `given pixel ${p} part ${i}`, k, res)),
        });
      }
    }
    const ends = rowEndKernels(this.plan, l, shape.workgroup, shape.nodesPerKernel);
    this.rowEnd = Array.from(
      { length: c.height },
      (_, r) =>
        ends.map((k, i) =>
          dispatch(model, `row ${r} end part ${i}`, k, {
            REC: window(r + l.pad.top - 1, 0),
            P: params(model).binding(),
          })
        ),
    );
  }

  async sample(o: SampleOptions): Promise<Uint8Array> {
    const c = this.model.config;
    const keep = startImages(this.model, this.batch, this.maps, o);
    for (const v of [o.seed, o.stream ?? 0]) {
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new GpuError(`sample key ${v} is not a u32`);
    }
    this.key.write(Uint32Array.of(o.seed, o.stream ?? 0));
    const first: Dispatch[] = [...this.once];
    for (let r = 0; r < keep; r++) {
      for (let x = 0; x < c.width; x++) first.push(...this.pixels[r * c.width + x].given);
      first.push(...this.rowEnd[r]);
    }
    const enc = this.model.gpu.device.createCommandEncoder({ label: "sample: given rows" });
    Graph.encode(enc, "sample: given rows", [first]);
    this.model.gpu.device.queue.submit([enc.finish()]);
    await submitRows(this.model.gpu, keep, c.height, (enc, y) => {
      const lists = Array.from({ length: c.width }, (_, x) => this.pixels[y * c.width + x].draw);
      Graph.encode(enc, `sample row ${y}`, [...lists, this.rowEnd[y]]);
    }, o.onRow);
    return Uint8Array.from(await this.maps.targets.readU32());
  }

  /** Each sub-pixel's logits as it was drawn from, [B, H, W, C * levels] (rows generated by the last batch). */
  async readLogits(): Promise<Float32Array> {
    const n = this.plan.nodes[this.plan.output].channels, stride = logitStride(n);
    const all = await this.log.read();
    return Float32Array.from(
      { length: (all.length / stride) * n },
      (_, i) => all[Math.floor(i / n) * stride + (i % n)],
    );
  }

  destroy(): void {
    this.g.destroy();
  }
}

function params(model: PixelModel): Tensor {
  const s = model.store;
  return new Tensor(model.gpu, "params", [s.length], s.values!, 0);
}

function paramTensors(model: PixelModel, p: LstmRefs): Record<string, Tensor> {
  const t = (name: string) => model.store.tensor(name);
  return { WSS: t(p.wss.name), BIAS: t(p.bias.name), H0: t(p.h0.name), C0: t(p.c0.name) };
}

function inputScaling(model: PixelModel): { inputScale: number; inputShift: number } {
  const { scale, shift } = model.scaling;
  return { inputScale: scale, inputShift: shift };
}

/** The rest of a tensor from element `at`. */
function binding(t: Tensor, at: number): GPUBufferBinding {
  return { buffer: t.buffer, offset: t.offset + at * 4, size: t.byteSize - at * 4 };
}

function dispatch(
  model: PixelModel,
  label: string,
  k: Kernel,
  resources: Record<string, GPUBufferBinding>,
): Dispatch {
  const pipeline = model.gpu.pipeline(label, k.code);
  const entries = k.bindings.map((name) => {
    const r = resources[name];
    if (!r) throw new GpuError(`${label}: kernel binding '${name}' has no resource`);
    return r;
  });
  return {
    label,
    pipeline,
    bindGroup: model.gpu.bindGroup(label, pipeline, entries),
    workgroups: k.workgroups,
  };
}
