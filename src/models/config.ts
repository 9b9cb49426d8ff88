/**
 * Model configuration: the paper's architecture options (§3, §4, Table 1) plus the choices the paper
 * leaves open, each exposed as an option with the value used by default.
 */
/** A model configuration that breaks a rule (unknown kind, a size that is not a positive integer, ...). */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

export type ModelKind = "pixelcnn" | "row-lstm" | "diagonal-bilstm";

export interface ModelConfig {
  kind: ModelKind;
  height: number;
  width: number;
  /** 1 (binarized MNIST) or 3 (RGB). */
  channels: 1 | 3;
  /** "binary": one sigmoid per pixel (MNIST); "softmax256": a 256-way softmax per sub-pixel. */
  output: "binary" | "softmax256";
  /** Residual blocks (LSTM layers or PixelCNN blocks). */
  layers: number;
  /** h: LSTM state size; the residual stream carries 2h maps (paper Fig. 5). */
  h: number;
  residual: boolean;
  skip: boolean;
  /** Feature maps of the two ReLU + 1x1 output layers (32 for MNIST, 1024 otherwise; §4). */
  outputMaps: number;
  /**
   * [NS] Initial forget-gate bias. 1 keeps early gradients flowing through the cell; the paper does not
   * state any initialisation.
   */
  forgetBias: number;
  /**
   * Multi-Scale PixelRNN conditioning (§3.6): the model also reads a `factor`-times smaller image, which
   * an upsampling network turns into `maps` feature maps of the full size; a 1x1 unmasked convolution
   * of them is added to every LSTM layer's input-to-state gates. null for an unconditional model.
   */
  conditioning: Conditioning | null;
}

export interface Conditioning {
  /** n / s: a power of two. */
  factor: number;
  /** c, the upsampling network's output maps ([NS]). */
  maps: number;
}

/** Colour groups of the masks: 3 for RGB, 1 for single-channel data. */
export function colourGroups(cfg: ModelConfig): number {
  return cfg.channels === 3 ? 3 : 1;
}

/** Values per sub-pixel: 2 for binary data, 256 otherwise. */
export function levels(cfg: ModelConfig): number {
  return cfg.output === "binary" ? 2 : 256;
}

/**
 * [I] Input scaling and centring (§1.3: "scaling and centering"; the constants are not given): value v
 * of `levels` possible values enters the network as v / (levels - 1) - 0.5, so [0, 1] is centred on 0.
 */
export function inputScale(cfg: ModelConfig): { scale: number; shift: number } {
  return { scale: 1 / (levels(cfg) - 1), shift: -0.5 };
}

export const DEFAULTS: Omit<
  ModelConfig,
  "kind" | "height" | "width" | "channels" | "output" | "layers" | "h"
> = {
  residual: true,
  skip: true,
  outputMaps: 1024,
  forgetBias: 1,
  conditioning: null,
};

function positiveInt(name: string, v: unknown): void {
  if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) {
    throw new ConfigError(`model config: ${name} must be a positive integer, got ${JSON.stringify(v)}`);
  }
}

/** Checks a config and fills defaults; every complaint names the field. */
export function resolveModelConfig(partial: Partial<ModelConfig> & Pick<ModelConfig, "kind">): ModelConfig {
  const cfg = { ...DEFAULTS, ...partial } as ModelConfig;
  if (!["pixelcnn", "row-lstm", "diagonal-bilstm"].includes(cfg.kind)) {
    throw new ConfigError(`model config: unknown kind ${JSON.stringify(cfg.kind)}`);
  }
  for (const k of ["height", "width", "layers", "h", "outputMaps"] as const) positiveInt(k, cfg[k]);
  if (cfg.channels !== 1 && cfg.channels !== 3) {
    throw new ConfigError(`model config: channels must be 1 or 3, got ${cfg.channels}`);
  }
  if (cfg.output !== "binary" && cfg.output !== "softmax256") {
    throw new ConfigError(
      `model config: output must be "binary" or "softmax256", got ${JSON.stringify(cfg.output)}`,
    );
  }
  if (cfg.output === "binary" && cfg.channels !== 1) {
    throw new ConfigError("model config: a binary (sigmoid) output needs single-channel images");
  }
  if (cfg.kind === "diagonal-bilstm" && cfg.height !== cfg.width) {
    throw new ConfigError(
      `model config: the Diagonal BiLSTM needs square images, got ${cfg.height}x${cfg.width}`,
    );
  }
  if (!Number.isFinite(cfg.forgetBias)) throw new ConfigError("model config: forgetBias must be finite");
  const cond = cfg.conditioning;
  if (cond) {
    if (cfg.kind === "pixelcnn") {
      throw new ConfigError("model config: conditioning biases LSTM gates; the PixelCNN has none");
    }
    positiveInt("conditioning.maps", cond.maps);
    const f = cond.factor;
    if (!Number.isInteger(f) || f < 2 || (f & (f - 1)) !== 0 || cfg.height % f || cfg.width % f) {
      throw new ConfigError(
        `model config: conditioning.factor ${f} must be a power of two >= 2 dividing the image size`,
      );
    }
  }
  return cfg;
}
