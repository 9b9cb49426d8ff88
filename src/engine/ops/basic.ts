/** Element-wise ops: add, ReLU, and gradient plumbing (accumulate, copy). */
import { GpuError } from "../device.ts";
import type { Graph } from "../graph.ts";
import type { Tensor } from "../tensor.ts";
import { elementwise } from "../../wgsl/elementwise.ts";

function sameShape(label: string, a: Tensor, b: Tensor): void {
  if (a.shape.join() !== b.shape.join()) {
    throw new GpuError(`${label}: shapes differ: ${a.label} [${a.shape}] vs ${b.label} [${b.shape}]`);
  }
}

/** dst (=|+=) src, not differentiated (gradient plumbing inside backward closures). */
export function copyInto(g: Graph, label: string, dst: Tensor, src: Tensor, accumulate: boolean): void {
  sameShape(label, dst, src);
  g.dispatch(label, elementwise({ n: src.size, inputs: ["A"], expr: () => "A[i]", accumulate }), {
    A: src,
    OUT: dst,
  });
}

/** dst += src, not differentiated. */
export function addInto(g: Graph, label: string, dst: Tensor, src: Tensor): void {
  copyInto(g, label, dst, src, true);
}

/** Sends `grad` to the gradient of `t` (overwrite or add, as the graph decides). */
export function passGrad(g: Graph, label: string, t: Tensor, grad: Tensor): void {
  const sink = g.gradSink(t);
  if (sink) copyInto(g, label, sink.grad, grad, sink.accumulate);
}

/** a + b. */
export function add(g: Graph, a: Tensor, b: Tensor, label = "add"): Tensor {
  sameShape(label, a, b);
  const y = g.alloc(`${label}.out`, a.shape);
  g.dispatch(label, elementwise({ n: a.size, inputs: ["A", "B"], expr: () => "A[i] + B[i]" }), {
    A: a,
    B: b,
    OUT: y,
  });
  g.record(label, [a, b], [y], () => {
    const dy = g.gradOf(y)!;
    passGrad(g, `${label} dA`, a, dy);
    passGrad(g, `${label} dB`, b, dy);
  });
  return y;
}

/** max(x, 0); the gradient passes where the output is positive. */
export function relu(g: Graph, x: Tensor, label = "relu"): Tensor {
  const y = g.alloc(`${label}.out`, x.shape);
  g.dispatch(
    label,
    elementwise({ n: x.size, inputs: ["A"], expr: (v) => `max(A[i], ${v ? "vec4f()" : "0.0"})` }),
    {
      A: x,
      OUT: y,
    },
  );
  g.record(label, [x], [y], () => {
    const dy = g.gradOf(y)!;
    const sink = g.gradSink(x);
    if (!sink) return;
    const k = elementwise({
      n: x.size,
      inputs: ["DY", "Y"],
      expr: (v) => `select(${v ? "vec4f()" : "0.0"}, DY[i], Y[i] > ${v ? "vec4f()" : "0.0"})`,
      accumulate: sink.accumulate,
    });
    g.dispatch(`${label} backward`, k, { DY: dy, Y: y, OUT: sink.grad });
  });
  return y;
}
