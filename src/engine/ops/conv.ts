/**
 * k x k convolution (stride 1, same padding, NHWC) as an implicit GEMM, with optional bias and an
 * optional mask, and two fusions that save whole passes over a map: a ReLU of the input applied as it is
 * read (`relu`), and a residual map added to the output (`residual`). A mask is applied by zeroing
 * weights (the optimizer keeps them zero); here it only decides which taps the kernel visits, so wholly
 * masked taps cost nothing. A 1 x 1 convolution is a plain GEMM through the same kernel.
 *
 * Backward: the input gradient is a convolution of dY with the flipped taps, reading W transposed in
 * place, zeroed where the input was not positive when the forward read its ReLU; the filter and bias
 * gradients are one filter-gradient dispatch; the residual's gradient is dY itself, handed over.
 */
import { GpuError } from "../device.ts";
import type { Graph } from "../graph.ts";
import type { Tensor } from "../tensor.ts";
import { chooseTiles, profileFor, uniformWeightTiles } from "../tiles.ts";
import { convForward } from "../../wgsl/conv.ts";
import type { MapView, Tap } from "../../wgsl/kernel.ts";
import { filterGrad } from "./filter_grad.ts";
import { gatherPatches } from "../../wgsl/layout.ts";
import { passGrad } from "./basic.ts";
import { bindMap, readsMirrors } from "./mirrors.ts";

export interface ConvOptions {
  bias?: Tensor;
  /** 0/1 mask over the weight [KH, KW, Cin, Cout]: taps with no nonzero entry are skipped. */
  mask?: Float32Array;
  /** Convolve max(x, 0) instead of x. */
  relu?: boolean;
  /** A map shaped like the output, added to it. */
  residual?: Tensor;
}

/** Contiguous NHWC view of a tensor of shape [B, H, W, C]. */
export function nhwc(t: Tensor): MapView {
  const [, h, w, c] = t.shape;
  return { sB: h * w * c, sY: w * c, sX: c, offset: { c: 0 } };
}

/** The taps of a KH x KW kernel centred on the output pixel, minus those the mask zeroes entirely. */
export function activeTaps(kh: number, kw: number, cin: number, cout: number, mask?: Float32Array): Tap[] {
  const taps: Tap[] = [];
  const cy = (kh - 1) / 2, cx = (kw - 1) / 2;
  for (let ky = 0; ky < kh; ky++) {
    for (let kx = 0; kx < kw; kx++) {
      const t = ky * kw + kx;
      if (mask) {
        const block = mask.subarray(t * cin * cout, (t + 1) * cin * cout);
        if (!block.some((v) => v !== 0)) continue;
      }
      taps.push({ dy: ky - cy, dx: kx - cx, w: t });
    }
  }
  return taps;
}

export function conv2d(g: Graph, x: Tensor, w: Tensor, opts: ConvOptions = {}): Tensor {
  const name = `conv2d ${w.label}`;
  if (x.shape.length !== 4 || w.shape.length !== 4) {
    throw new GpuError(
      `${name}: expects x [B,H,W,Cin] and w [KH,KW,Cin,Cout], got [${x.shape}] and [${w.shape}]`,
    );
  }
  const [B, H, W, C] = x.shape;
  const [KH, KW, CI, CO] = w.shape;
  if (CI !== C) {
    throw new GpuError(`${name}: x has ${C} channels but w expects ${CI} ([${x.shape}] * [${w.shape}])`);
  }
  if (KH % 2 === 0 || KW % 2 === 0) {
    throw new GpuError(`${name}: unsupported kernel size ${KH}x${KW} (odd sizes only, centred)`);
  }
  if (opts.bias && (opts.bias.shape.length !== 1 || opts.bias.shape[0] !== CO)) {
    throw new GpuError(`${name}: bias shape [${opts.bias.shape}] does not match ${CO} output channels`);
  }
  if (opts.mask && opts.mask.length !== w.size) {
    throw new GpuError(`${name}: mask has ${opts.mask.length} entries for weight [${w.shape}]`);
  }
  const res = opts.residual;
  if (res && res.shape.join() !== [B, H, W, CO].join()) {
    throw new GpuError(`${name}: residual [${res.shape}] does not match the output [${B},${H},${W},${CO}]`);
  }
  const taps = activeTaps(KH, KW, C, CO, opts.mask);
  const y = g.alloc(`${name}.out`, [B, H, W, CO]);
  const profile = profileFor(g.gpu);
  const M = B * H * W;
  // The forward and dW run as a GEMM over `src` (x, or its patches) with `cin` channels.
  const patches = opts.relu ? null : patchesOf(g, name, x, taps, KH * KW);
  const src = patches ?? x, cin = src.shape[3];
  const gemm = {
    batch: B,
    height: H,
    width: W,
    cin,
    n: CO,
    taps: patches ? [{ dy: 0, dx: 0, w: 0 }] : taps,
    input: nhwc(src),
    weight: { offset: { c: 0 }, sTap: cin * CO, ld: CO },
  };
  const fwdUniform = uniformWeightTiles(g.gpu, w, CO);
  const fwdTextures = readsMirrors(g, [src, res]);
  const fwd = convForward({
    ...gemm,
    label: name,
    output: nhwc(y),
    bias: opts.bias ? { offset: { c: 0 } } : undefined,
    preRelu: opts.relu,
    residual: res !== undefined,
    tiles: fwdUniform?.tiles ?? chooseTiles(profile, M, CO),
    uniformWeight: fwdUniform?.vec4s,
    textures: fwdTextures,
  });
  const bindings: Record<string, Tensor | GPUTextureView> = { X: bindMap(g, src, fwdTextures), W: w, OUT: y };
  if (opts.bias) bindings.BIAS = opts.bias;
  if (res) bindings.RES = bindMap(g, res, fwdTextures);
  g.dispatch(name, fwd, bindings);
  const inputs = [x, w, ...(opts.bias ? [opts.bias] : []), ...(res ? [res] : [])];
  g.record(name, inputs, [y], () => {
    const dy = g.gradOf(y)!;
    const dx = g.gradSink(x);
    if (dx) {
      // dX[p, ci] = sum_t sum_co dY[p - d_t, co] * W[t, ci, co]: a forward conv with flipped taps whose
      // weight is W read transposed (row co, column ci), then zeroed where x <= 0 when x went through a ReLU.
      const backUniform = uniformWeightTiles(g.gpu, w, C);
      const backTextures = readsMirrors(g, [dy, opts.relu ? x : undefined]);
      const back = convForward({
        label: `${name} dX`,
        batch: B,
        height: H,
        width: W,
        cin: CO,
        n: C,
        taps: taps.map((t) => ({ dy: -t.dy, dx: -t.dx, w: t.w })),
        input: nhwc(dy),
        weight: { offset: { c: 0 }, sTap: C * CO, ld: 1, sCol: CO },
        output: nhwc(dx.grad),
        accumulate: dx.accumulate,
        reluMask: opts.relu,
        tiles: backUniform?.tiles ?? chooseTiles(profile, M, C),
        uniformWeight: backUniform?.vec4s,
        textures: backTextures,
      });
      const b: Record<string, Tensor | GPUTextureView> = {
        X: bindMap(g, dy, backTextures),
        W: w,
        OUT: dx.grad,
      };
      if (opts.relu) b.MASKX = bindMap(g, x, backTextures);
      g.dispatch(`${name} dX`, back, b);
    }
    if (g.requiresGrad(w) || (opts.bias && g.requiresGrad(opts.bias))) {
      filterGrad(
        g,
        `${name} dW`,
        { ...gemm, label: `${name} dW`, grad: nhwc(dy), preRelu: opts.relu },
        src,
        dy,
        {
          weight: w,
          bias: opts.bias,
        },
      );
    }
    if (res && !g.handGrad(y, res)) passGrad(g, `${name} dRes`, res, dy);
  });
  return y;
}

/**
 * With fewer than 4 input channels (the image) a tap holds too little work to pay for its bounds checks,
 * so when the active taps are a prefix of the weight's the patches are gathered once, [B, H, W, K] with
 * K = taps x channels, and the forward and filter gradient run as a 1 x 1 convolution over them whose
 * weight is the first K rows of w. K is rounded up (to 16, else 4) where w has rows to spare: those rows
 * meet zero patches. The 7x7 mask-A input conv of CIFAR-10 (batch 16, 3 -> 256) on lavapipe: forward
 * 45 -> 33 ms (gather 5 ms included), filter gradient 50 -> 41 ms.
 */
function patchesOf(g: Graph, name: string, x: Tensor, taps: Tap[], kernelTaps: number): Tensor | null {
  const [B, H, W, C] = x.shape;
  if (C >= 4 || taps.length < 2 || !taps.every((t, i) => t.w === i)) return null;
  const K = taps.length * C;
  const k = [16, 4, 1].map((a) => Math.ceil(K / a) * a).find((v) => v <= kernelTaps * C)!;
  const p = g.alloc(`${name}.patches`, [B, H, W, k]);
  g.dispatch(`${name} patches`, gatherPatches(x.shape, taps, k), { X: x, P: p });
  return p;
}
