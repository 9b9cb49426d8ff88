/**
 * Negative log-likelihood losses over discrete pixels, in nats: the 256-way softmax of the paper's
 * natural-image models and the sigmoid of binarized MNIST. Each is available per image (the sum over
 * all sub-pixels: the number training minimises and evaluation reports) and per sub-pixel (a map, for
 * evaluation summaries and figures). Per-image sums run in a fixed order, so the loss is bit-reproducible.
 */
import { GpuError } from "../device.ts";
import type { Graph } from "../graph.ts";
import type { Tensor } from "../tensor.ts";
import {
  type GradSource,
  type LossShape,
  sigmoidBceBackward,
  sigmoidBceForward,
  softmaxXentBackward,
  softmaxXentForward,
} from "../../wgsl/loss.ts";
import { columnSum } from "./reduce.ts";

type Kind = "softmax" | "sigmoid";

/** Logits per sub-pixel for each kind. */
const WIDTH: Record<Kind, number> = { softmax: 256, sigmoid: 1 };

function checkShapes(name: string, kind: Kind, logits: Tensor, targets: Tensor): LossShape {
  if (logits.shape.length !== 4 || targets.shape.length !== 4 || targets.dtype !== "u32") {
    throw new GpuError(
      `${name}: expects logits [B,H,W,C*${WIDTH[kind]}] and u32 targets [B,H,W,C], got ` +
        `[${logits.shape}] and ${targets.dtype} [${targets.shape}]`,
    );
  }
  const [B, H, W, C] = targets.shape;
  const ok = logits.shape[0] === B && logits.shape[1] === H && logits.shape[2] === W &&
    logits.shape[3] === C * WIDTH[kind];
  if (!ok) {
    throw new GpuError(
      `${name}: logits [${logits.shape}] do not match targets [${targets.shape}] ` +
        `(${WIDTH[kind]} logits per sub-pixel)`,
    );
  }
  return { batch: B, subpixels: H * W * C };
}

/**
 * Records the loss forward and its backward. With `perImage` the result is [B] (sum over sub-pixels),
 * otherwise the NLL map in the targets' shape.
 */
function nllOp(g: Graph, kind: Kind, logits: Tensor, targets: Tensor, perImage: boolean): Tensor {
  const name = `${kind === "softmax" ? "softmaxXent" : "sigmoidBce"} ${logits.label}`;
  const shape = checkShapes(name, kind, logits, targets);
  const layout = perImage ? "transposed" : "map";
  const nll = perImage
    ? g.alloc(`${name}.nll`, [shape.subpixels, shape.batch])
    : g.alloc(`${name}.nll`, targets.shape);
  const lse = kind === "softmax" ? g.alloc(`${name}.lse`, targets.shape) : null;
  if (lse) {
    g.dispatch(name, softmaxXentForward(shape, layout), {
      LOGITS: logits,
      TARGETS: targets,
      NLL: nll,
      LSE: lse,
    });
  } else {
    g.dispatch(name, sigmoidBceForward(shape, layout), { LOGITS: logits, TARGETS: targets, NLL: nll });
  }
  let out = nll;
  if (perImage) {
    out = g.alloc(`${name}.out`, [shape.batch]);
    columnSum(g, `${name} sum`, nll, out, { rows: shape.subpixels, cols: shape.batch }, false);
  }
  g.record(name, [logits], [out], () => {
    const dl = g.gradSink(logits);
    if (!dl) return;
    const source: GradSource = perImage ? "image" : "subpixel";
    const common = { LOGITS: logits, TARGETS: targets, G: g.gradOf(out)!, OUT: dl.grad };
    if (lse) {
      g.dispatch(`${name} dLogits`, softmaxXentBackward(shape, source, dl.accumulate), {
        ...common,
        LSE: lse,
      });
    } else {
      g.dispatch(`${name} dLogits`, sigmoidBceBackward(shape, source, dl.accumulate), common);
    }
  });
  return out;
}

/**
 * Per-image NLL in nats, [B]: the sum over positions and channels c of -log softmax(logits[b,y,x,
 * c*256 .. c*256+255])[targets[b,y,x,c]]. `logits` is [B,H,W,C*256], `targets` u32 [B,H,W,C] (0..255).
 * Backward: dlogits = dNLL[b] * (softmax - onehot(target)).
 */
export function softmaxXent(g: Graph, logits: Tensor, targets: Tensor): Tensor {
  return nllOp(g, "softmax", logits, targets, true);
}

/** Per-sub-pixel softmax NLL map [B,H,W,C] (same definition as {@link softmaxXent}, not summed). */
export function softmaxXentMap(g: Graph, logits: Tensor, targets: Tensor): Tensor {
  return nllOp(g, "softmax", logits, targets, false);
}

/**
 * Per-image binary NLL in nats, [B]: the sum of softplus(z) - t z over the logits z [B,H,W,C] and u32
 * targets t (0/1) of the same shape. Backward: dz = dNLL[b] * (sigmoid(z) - t).
 */
export function sigmoidBce(g: Graph, logits: Tensor, targets: Tensor): Tensor {
  return nllOp(g, "sigmoid", logits, targets, true);
}

/** Per-sub-pixel binary NLL map [B,H,W,C] (same definition as {@link sigmoidBce}, not summed). */
export function sigmoidBceMap(g: Graph, logits: Tensor, targets: Tensor): Tensor {
  return nllOp(g, "sigmoid", logits, targets, false);
}
