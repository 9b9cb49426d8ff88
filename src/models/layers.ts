/**
 * Pieces shared by every architecture: masked convolutions with their parameters, the 7x7 mask-A input
 * layer, and the output head (paper Table 1).
 */
import type { Init } from "../engine/params.ts";
import { colourGroups, type ModelConfig } from "./config.ts";
import { channelGroups, convMask, type MaskType } from "./masks.ts";
import type { ModelOps } from "./ops.ts";

/** [NS] Weight initialisation: uniform with variance 1 / fan-in (the paper states none). */
export function fanInInit(fanIn: number): Init {
  return { kind: "uniform", scale: Math.sqrt(3 / fanIn) };
}

export const ZEROS: Init = { kind: "constant", value: 0 };

export interface ConvSpec<T> {
  kh: number;
  kw: number;
  cout: number;
  /** Mask type, or null for an unmasked convolution (the multi-scale conditioning path). */
  mask: MaskType | null;
  /** Colour group of every output channel (defaults to contiguous thirds of cout). */
  outGroups?: number[];
  /** Colour group of every input channel (defaults to contiguous thirds of cin). */
  inGroups?: number[];
  bias?: boolean;
  /** Convolve max(x, 0) (the ReLU is fused into the convolution's reads). */
  relu?: boolean;
  /** Added to the output (fused into the convolution's store). */
  residual?: T;
}

/** A convolution with its own weight "<name>.w" [KH, KW, Cin, Cout] and bias "<name>.b". */
export function conv<T>(ops: ModelOps<T>, cfg: ModelConfig, name: string, x: T, s: ConvSpec<T>): T {
  const cin = ops.shape(x)[3];
  const groups = colourGroups(cfg);
  const mask = s.mask
    ? convMask(
      s.kh,
      s.kw,
      s.inGroups ?? channelGroups(cin, groups),
      s.outGroups ?? channelGroups(s.cout, groups),
      s.mask,
    )
    : undefined;
  const w = ops.param(`${name}.w`, [s.kh, s.kw, cin, s.cout], fanInInit(s.kh * s.kw * cin), mask);
  const b = s.bias === false ? undefined : ops.param(`${name}.b`, [s.cout], ZEROS);
  return ops.conv(x, w, { bias: b, mask, relu: s.relu, residual: s.residual });
}

/** The first layer: 7x7 mask A from the image to the 2h-map residual stream. */
export function inputLayer<T>(ops: ModelOps<T>, cfg: ModelConfig, x: T): T {
  return conv(ops, cfg, "input", x, { kh: 7, kw: 7, cout: 2 * cfg.h, mask: "A" });
}

/** Logit channels: one per pixel for a sigmoid, 256 per colour (R block, G block, B block) otherwise. */
export function logitChannels(cfg: ModelConfig): number {
  return cfg.output === "binary" ? cfg.channels : 256 * cfg.channels;
}

/**
 * The output head: two ReLU + 1x1 mask-B layers of `outputMaps` maps (Table 1, §4), then [I] a ReLU +
 * 1x1 mask-B projection to the logits, grouped so that colour c's logits read only features of groups
 * <= c (the paper leaves the final projection unstated).
 */
export function outputHead<T>(ops: ModelOps<T>, cfg: ModelConfig, x: T): T {
  const D = cfg.outputMaps;
  let a = conv(ops, cfg, "out1", x, { kh: 1, kw: 1, cout: D, mask: "B", relu: true });
  a = conv(ops, cfg, "out2", a, { kh: 1, kw: 1, cout: D, mask: "B", relu: true });
  const n = logitChannels(cfg);
  const outGroups = channelGroups(n, colourGroups(cfg));
  return conv(ops, cfg, "logits", a, { kh: 1, kw: 1, cout: n, mask: "B", outGroups, relu: true });
}
