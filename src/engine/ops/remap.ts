/** Gather ops (index remaps) and their adjoint-gather gradients. */
import type { Graph } from "../graph.ts";
import type { Tensor } from "../tensor.ts";
import { GpuError } from "../device.ts";
import { type IndexMap, remap } from "../../wgsl/remap.ts";

/** Element offset of pixel (n, y, x) in an [*, H, W, C] map, as WGSL. */
export function pix(n: string, y: string, x: string, H: number, W: number, C: number): string {
  return `((${n}) * ${H} + (${y})) * ${W * C} + (${x}) * ${C}`;
}

/** A gather op: forward maps produce `outShape`; backward gathers dL/dx (viewed as `gradView`). */
export function remapOp(
  g: Graph,
  label: string,
  x: Tensor,
  outShape: number[],
  fwd: IndexMap[],
  gradView: number[],
  bwd: IndexMap[],
): Tensor {
  const y = g.alloc(`${label}.out`, outShape);
  g.dispatch(label, remap({ out: outShape, maps: fwd }), { SRC: x, OUT: y });
  g.record(label, [x], [y], () => {
    const sink = g.gradSink(x);
    if (!sink) return;
    g.dispatch(`${label} backward`, remap({ out: gradView, maps: bwd, accumulate: sink.accumulate }), {
      SRC: g.gradOf(y)!,
      OUT: sink.grad,
    });
  });
  return y;
}

/**
 * [B, H, W, C*f*f] -> [B, H*f, W*f, C]: output pixel (f*y + dy, f*x + dx) takes channel block dy*f + dx of
 * input pixel (y, x). After a 1 x 1 convolution to C*f*f maps this is a stride-f, f x f deconvolution.
 */
export function depthToSpace(g: Graph, x: Tensor, f: number, label = "depth to space"): Tensor {
  const [B, H, W, Cin] = x.shape;
  if (x.shape.length !== 4 || !Number.isInteger(f) || f < 1 || Cin % (f * f) !== 0) {
    throw new GpuError(`${label}: cannot rearrange [${x.shape}] by a factor ${f}`);
  }
  const C = Cin / (f * f);
  const fwd = `return ${
    pix("n", `y / ${f}`, `x / ${f}`, H, W, Cin)
  } + ((y % ${f}) * ${f} + x % ${f}) * ${C};`;
  // dL/dx viewed as [B, H, W*f*f, C]: column x*f*f + k holds block k = dy*f + dx of pixel x.
  const bwd = `let k = x % ${f * f}; let px = x / ${f * f};
    return ${pix("n", `y * ${f} + k / ${f}`, `px * ${f} + k % ${f}`, H * f, W * f, C)};`;
  return remapOp(g, label, x, [B, H * f, W * f, C], [fwd], [B, H, W * f * f, C], [bwd]);
}
