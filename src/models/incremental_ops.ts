/**
 * The incremental executor of an architecture: runs the same architecture function (architecture.ts)
 * over {@link ModelOps}, recording the model as a list of nodes (convolutions and LSTM layers over maps)
 * from which incremental_layout.ts and src/wgsl/incremental.ts build the kernels that bring every layer
 * up to date at one pixel. The derivation of what runs where:
 *
 * - Which pixels. A value at pixel p of any layer depends only on sub-pixels before p's own in raster
 *   order (mask A at the input, mask B and causal taps above it), and on values of other layers at p or
 *   at earlier pixels: convolution taps lie above or to the left of their centre; the Row LSTM's state
 *   at (r, c) reads the row above, (r - 1, c - 1 .. c + 1); the Diagonal BiLSTM's left direction reads
 *   (r - 1, c) and (r, c - 1). So, layer by layer, bottom to top, every value at p can be computed the
 *   moment p is next, and is then final: each layer is computed once at each pixel, at that pixel only.
 *   A new sub-pixel does reach pixels to the right and below, but none of them is final before its own
 *   turn, so nothing is ever recomputed.
 * - The Diagonal BiLSTM's right direction. Its state at (r, c) reads (r, c + 1) and (r - 1, c): it needs
 *   its gates along the whole row, so it runs once per row, right to left, after the row's last
 *   sub-pixel is drawn. It enters the layer's output shifted down a row, so row r + 1 reads it.
 * - Which channels, per sub-pixel. Channel k of a map at pixel p depends on p's own sub-pixels only
 *   through the centre taps of the masked convolutions (an LSTM channel through its four gates at p).
 *   Propagating, from the image (sub-pixel c: {c}) through the centre-tap masks, the set of p's
 *   sub-pixels each channel depends on, a channel is computed at the first sub-pixel after the last of
 *   its set: with the RGB masks, colour group g at sub-pixel g (group R before R is drawn, G once R is
 *   known, B once G is). So sub-pixel g computes exactly one colour group of every layer, and a pixel's
 *   sub-pixels together do the work of one pixel of a forward pass.
 * - Given rows (completions). Each pixel of a given row computes every channel at once, skipping the
 *   layers whose values there nothing later reads (the output head, the skip connections).
 *
 * Values of the conditioning path of a Multi-Scale model (its upsampling network) do not depend on the
 * generated image; they are computed whole, once per batch, by the ordinary kernels.
 */
import { GpuError } from "../engine/device.ts";
import type { Dispatch, Graph } from "../engine/graph.ts";
import { activeTaps, conv2d } from "../engine/ops/conv.ts";
import type { LstmScanOptions } from "../engine/ops/lstm.ts";
import { depthToSpace } from "../engine/ops/remap.ts";
import type { Init, ParamStore } from "../engine/params.ts";
import type { Tensor } from "../engine/tensor.ts";
import type { Tap } from "../wgsl/kernel.ts";
import { type ConvOpts, convShape, type LstmWeights, type ModelOps } from "./ops.ts";

/** A parameter: its element offset in the flat parameter buffer, and its shape. */
export interface ParamRef {
  name: string;
  offset: number;
  shape: readonly number[];
}

interface NodeBase {
  label: string;
  /** Channels of the map the node produces. */
  channels: number;
  /** Per channel, the bit set of the current pixel's sub-pixels its value there depends on. */
  deps: number[];
}

/** The image being generated (scaled input values); channel c is sub-pixel c. */
export interface ImageNode extends NodeBase {
  op: "image";
}

/** A map given whole before generation (the upsampled conditioning image). */
export interface FixedNode extends NodeBase {
  op: "fixed";
  t: Tensor;
}

/** A convolution of node `x` (taps at or before the centre), plus node `residual`. */
export interface ConvNode extends NodeBase {
  op: "conv";
  x: number;
  w: ParamRef;
  bias?: ParamRef;
  taps: Tap[];
  cin: number;
  relu: boolean;
  residual?: number;
}

export interface LstmRefs {
  wss: ParamRef;
  bias: ParamRef;
  h0: ParamRef;
  c0: ParamRef;
}

/** A Row LSTM layer over the gates of node `gates` [.., 4h]; its value is the hidden state h. */
export interface RowLstmNode extends NodeBase {
  op: "row-lstm";
  gates: number;
  p: LstmRefs;
}

/**
 * A Diagonal BiLSTM layer over the gates of node `gates` [.., 8h] (left | right); its value is the
 * layer's output, the left state plus the right state one row up. `padding` holds the states the
 * skewed scans pass through before each row's first pixel (see diagonalPadding).
 */
export interface DiagonalNode extends NodeBase {
  op: "diagonal";
  gates: number;
  p: LstmRefs;
  padding: { h: Tensor; c: Tensor };
}

export type PlanNode = ImageNode | FixedNode | ConvNode | RowLstmNode | DiagonalNode;

/** The node list of an architecture, with what each node reads. */
export interface Plan {
  nodes: PlanNode[];
  /** The logits node. */
  output: number;
  /** Per node: whether given rows compute it (something later reads its values there). */
  prefix: boolean[];
}

/** A value of the executor. */
export interface Value {
  kind: "param" | "fixed" | "map" | "skewed";
  shape: readonly number[];
  /** Maps: the node that produces it. */
  node?: number;
  param?: ParamRef;
  /** Fixed values: the whole map. */
  t?: Tensor;
}

/** The sub-pixel at which a channel depending on the sub-pixels in `deps` becomes computable. */
export function subpixelOf(deps: number): number {
  return deps === 0 ? 0 : 32 - Math.clz32(deps);
}

/** The nodes a node reads (at the pixel or, `history`, at earlier pixels too). */
export function inputsOf(n: PlanNode): { node: number; history: boolean }[] {
  switch (n.op) {
    case "conv":
      return [
        { node: n.x, history: n.taps.some((t) => t.dy !== 0 || t.dx !== 0) },
        ...(n.residual !== undefined ? [{ node: n.residual, history: false }] : []),
      ];
    case "row-lstm":
      return [{ node: n.gates, history: false }];
    case "diagonal":
      // The right direction reads the gates along the whole row.
      return [{ node: n.gates, history: true }];
    default:
      return [];
  }
}

/**
 * Records the architecture. Convolutions of the conditioning path run whole into `fixed` (a graph whose
 * forward list is run once per batch); everything that depends on the generated image becomes a node.
 */
export class IncrementalOps implements ModelOps<Value> {
  readonly nodes: PlanNode[] = [];
  private readonly fixedNodes = new Map<Tensor, number>();

  /**
   * @param fixed allocates and records the once-per-batch work (conditioning path, padding states).
   * @param diagonalPadding records the padding states of a Diagonal BiLSTM layer into `fixed`.
   */
  constructor(
    readonly fixed: Graph,
    readonly store: ParamStore,
    readonly subpixels: number,
    private readonly diagonalPadding: (
      g: Graph,
      p: LstmRefs,
      n: number,
      h: number,
    ) => { h: Tensor; c: Tensor },
  ) {}

  /** The image being generated. */
  image(shape: readonly number[]): Value {
    const C = shape[3];
    const deps = Array.from({ length: C }, (_, c) => 1 << c);
    return this.add({ op: "image", label: "image", channels: C, deps }, shape);
  }

  /** A map given in full before generation (the conditioning image). */
  given(t: Tensor): Value {
    return { kind: "fixed", shape: t.shape, t };
  }

  param(name: string, shape: number[], _init: Init, _mask?: Float32Array): Value {
    const info = this.store.get(name);
    if (info.shape.join() !== shape.join()) {
      throw new GpuError(`param ${name}: stored as [${info.shape}], the architecture asks for [${shape}]`);
    }
    return { kind: "param", shape, param: { name, offset: info.offset, shape } };
  }

  shape(x: Value): readonly number[] {
    return x.shape;
  }

  conv(x: Value, w: Value, opts: ConvOpts<Value>): Value {
    const res = opts.residual;
    if (x.kind === "fixed" && (!res || res.kind === "fixed")) {
      const t = conv2d(this.fixed, x.t!, this.store.tensor(w.param!.name), {
        bias: opts.bias && this.store.tensor(opts.bias.param!.name),
        mask: opts.mask,
        relu: opts.relu,
        residual: res?.t,
      });
      return this.given(t);
    }
    const shape = convShape(x.shape, w.shape, opts.bias?.shape);
    const [, , , cin] = x.shape, [KH, KW, , cout] = w.shape;
    const taps = activeTaps(KH, KW, cin, cout, opts.mask);
    if (taps.some((t) => t.dy > 0 || (t.dy === 0 && t.dx > 0))) {
      throw new GpuError(
        `${w.param!.name}: reads pixels after its own; it cannot be generated pixel by pixel`,
      );
    }
    const input = this.mapNode(x), residual = res && this.mapNode(res);
    const centre = taps.find((t) => t.dy === 0 && t.dx === 0);
    const xDeps = this.nodes[input].deps;
    const deps = Array.from({ length: cout }, (_, co) => {
      let d = residual !== undefined ? this.nodes[residual].deps[co] : 0;
      if (centre) {
        for (let ci = 0; ci < cin; ci++) {
          if (!opts.mask || opts.mask[(centre.w * cin + ci) * cout + co]) d |= xDeps[ci];
        }
      }
      return d;
    });
    return this.add({
      op: "conv",
      label: w.param!.name.replace(/\.w$/, ""),
      channels: cout,
      deps,
      x: input,
      w: w.param!,
      bias: opts.bias?.param,
      taps,
      cin,
      relu: opts.relu ?? false,
      residual,
    }, shape);
  }

  lstm(gates: Value, p: LstmWeights<Value>, opts: LstmScanOptions): Value {
    const h = gates.shape[3] / 4;
    const refs = { wss: p.wss.param!, bias: p.bias.param!, h0: p.h0.param!, c0: p.c0.param! };
    const label = refs.wss.name.replace(/\.ss\.w$/, "");
    const deps = (offset: number) => gateDeps(this.nodes[gates.node!].deps, h, offset);
    if (gates.kind === "skewed" && opts.z === 2 && opts.taps.join() === "-1,0") {
      const n = gates.shape[2];
      const padding = this.diagonalPadding(this.fixed, refs, n, h);
      const v = this.add(
        { op: "diagonal", label, channels: h, deps: deps(0), gates: gates.node!, p: refs, padding },
        [gates.shape[0], gates.shape[1], n, h],
      );
      return { ...v, kind: "skewed" };
    }
    if (gates.kind === "map" && opts.z === 1 && opts.taps.join() === "-1,0,1") {
      const [B, H, W] = gates.shape;
      return this.add({ op: "row-lstm", label, channels: h, deps: deps(0), gates: gates.node!, p: refs }, [
        B,
        H,
        W,
        h,
      ]);
    }
    throw new GpuError(
      `lstm: no incremental schedule for z = ${opts.z}, taps [${opts.taps}] on a ${gates.kind}`,
    );
  }

  /** Pairs the two directions' gates; nothing moves (the states live in pixel coordinates). */
  skewPair(x: Value): Value {
    const [B, n, , C] = x.shape;
    if (x.kind !== "map") throw new GpuError("skewPair: expects a map");
    return { ...x, kind: "skewed", shape: [2 * B, 2 * n - 1, n, C / 2] };
  }

  unskewCombine(s: Value): Value {
    if (s.kind !== "skewed") throw new GpuError("unskewCombine: expects the Diagonal BiLSTM's states");
    const [B2, , n, C] = s.shape;
    return { ...s, kind: "map", shape: [B2 / 2, n, n, C] };
  }

  depthToSpace(x: Value, factor: number): Value {
    if (x.kind !== "fixed") throw new GpuError("depthToSpace: only the conditioning path rearranges maps");
    return this.given(depthToSpace(this.fixed, x.t!, factor));
  }

  /** The plan, once the architecture has run and returned `out`. */
  plan(out: Value): Plan {
    const late = this.nodes.findIndex((n) =>
      n.op !== "image" && n.deps.some((d) => subpixelOf(d) >= this.subpixels)
    );
    if (late >= 0) {
      throw new GpuError(`${this.nodes[late].label}: a channel depends on every sub-pixel of its own pixel`);
    }
    // A node runs over given rows when a later pixel reads its values there: its own states (LSTMs),
    // a tap off the centre, or a node that runs there reading it at the same pixel.
    const prefix = this.nodes.map((n) => n.op === "row-lstm" || n.op === "diagonal");
    for (const n of this.nodes) for (const i of inputsOf(n)) if (i.history) prefix[i.node] = true;
    for (let k = this.nodes.length - 1; k >= 0; k--) {
      if (prefix[k]) { for (const i of inputsOf(this.nodes[k])) prefix[i.node] = true; }
    }
    return { nodes: this.nodes, output: out.node!, prefix };
  }

  /** The once-per-batch dispatches recorded so far. */
  get once(): Dispatch[] {
    return this.fixed.forward;
  }

  private add(n: PlanNode, shape: readonly number[]): Value {
    this.nodes.push(n);
    return { kind: "map", shape, node: this.nodes.length - 1 };
  }

  /** The node of a map value; a fixed map becomes a node the first time a map op reads it. */
  private mapNode(v: Value): number {
    if (v.kind === "map") return v.node!;
    if (v.kind !== "fixed") throw new GpuError(`expected a map, got a ${v.kind}`);
    let k = this.fixedNodes.get(v.t!);
    if (k === undefined) {
      const C = v.shape[3];
      k = this.add(
        { op: "fixed", label: "condition", channels: C, deps: new Array(C).fill(0), t: v.t! },
        v.shape,
      )
        .node!;
      this.fixedNodes.set(v.t!, k);
    }
    return k;
  }
}

/** LSTM channel j's dependencies: those of its four gates, in the 4h-wide block at `offset`. */
function gateDeps(deps: number[], h: number, offset: number): number[] {
  return Array.from({ length: h }, (_, j) => [0, 1, 2, 3].reduce((d, k) => d | deps[offset + k * h + j], 0));
}
