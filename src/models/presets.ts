/**
 * A preset for every model of the paper (Tables 2-6), with the batch size of §5.2. Where the paper gives
 * no size ([NS]), the choice is stated in `note`.
 */
import { type ModelConfig, resolveModelConfig } from "./config.ts";
import { type MultiScaleConfig, resolveMultiScale } from "./multiscale.ts";

export interface Preset {
  name: string;
  dataset: "binarized-mnist" | "cifar10" | "imagenet32" | "imagenet64";
  batch: number;
  config: ModelConfig;
  note: string;
}

type Partial = Parameters<typeof resolveModelConfig>[0];

const MNIST: Omit<ModelConfig, "kind" | "layers" | "h"> = {
  height: 28,
  width: 28,
  channels: 1,
  output: "binary",
  residual: true,
  skip: true,
  outputMaps: 32,
  forgetBias: 1,
  conditioning: null,
};

const RGB = (n: number) => ({
  height: n,
  width: n,
  channels: 3 as const,
  output: "softmax256" as const,
  outputMaps: 1024,
});

function preset(
  name: string,
  dataset: Preset["dataset"],
  batch: number,
  config: Partial,
  note: string,
): Preset {
  return { name, dataset, batch, config: resolveModelConfig(config), note };
}

export const PRESETS: Preset[] = [
  preset("mnist-diagonal-bilstm-7x16", "binarized-mnist", 16, {
    ...MNIST,
    kind: "diagonal-bilstm",
    layers: 7,
    h: 16,
  }, "Table 4: 7 layers, h = 16 (79.20 nats)."),
  preset("mnist-diagonal-bilstm-1x32", "binarized-mnist", 16, {
    ...MNIST,
    kind: "diagonal-bilstm",
    layers: 1,
    h: 32,
  }, "Table 4: 1 layer, h = 32 (80.75 nats)."),
  preset(
    "mnist-row-lstm",
    "binarized-mnist",
    16,
    { ...MNIST, kind: "row-lstm", layers: 7, h: 16 },
    "Table 4 (80.54 nats); size [NS]: chosen equal to the main Diagonal BiLSTM, 7 layers, h = 16.",
  ),
  preset(
    "mnist-pixelcnn",
    "binarized-mnist",
    16,
    { ...MNIST, kind: "pixelcnn", layers: 7, h: 16 },
    "Table 4 (81.30 nats); size [NS]: 7 residual blocks, h = 16, as the main Diagonal BiLSTM.",
  ),
  preset(
    "cifar10-row-lstm",
    "cifar10",
    16,
    { ...RGB(32), kind: "row-lstm", layers: 12, h: 128 },
    "Table 5: 12 layers, h = 128, residual + skip.",
  ),
  preset("cifar10-diagonal-bilstm", "cifar10", 16, {
    ...RGB(32),
    kind: "diagonal-bilstm",
    layers: 12,
    h: 128,
  }, "Table 5: 12 layers, h = 128."),
  preset(
    "cifar10-pixelcnn",
    "cifar10",
    16,
    { ...RGB(32), kind: "pixelcnn", layers: 15, h: 128 },
    "Table 5: 15 layers read as 15 residual blocks [NS], h = 128.",
  ),
  preset(
    "imagenet32-row-lstm",
    "imagenet32",
    64,
    { ...RGB(32), kind: "row-lstm", layers: 12, h: 384 },
    "Table 6: 12 layers, h = 384.",
  ),
  preset("imagenet64-row-lstm", "imagenet64", 32, {
    ...RGB(64),
    kind: "row-lstm",
    layers: 4,
    h: 512,
    residual: false,
  }, "Table 6: 4 layers, h = 512, no residual connections."),
];

/**
 * Multi-Scale PixelRNN for 64x64 ImageNet (Fig. 8 right), sizes [NS]: the small model is the 32x32
 * ImageNet Row LSTM on subsampled images; the large one the 64x64 Row LSTM (4 layers, h = 512, no
 * residual connections) conditioned through 32 upsampled maps.
 */
export const MULTISCALE_PRESET: {
  name: string;
  dataset: "imagenet64";
  batch: number;
  config: MultiScaleConfig;
  note: string;
} = {
  name: "imagenet64-multiscale",
  dataset: "imagenet64" as const,
  batch: 32,
  config: resolveMultiScale(
    { ...RGB(32), kind: "row-lstm", layers: 12, h: 384 },
    {
      ...RGB(64),
      kind: "row-lstm",
      layers: 4,
      h: 512,
      residual: false,
      conditioning: { factor: 2, maps: 32 },
    },
  ),
  note:
    "Fig. 8: small = ImageNet32 Row LSTM on subsampled images; large = ImageNet64 Row LSTM + 32 conditioning maps.",
};

export function presetByName(name: string): Preset {
  const p = PRESETS.find((x) => x.name === name);
  if (!p) {
    throw new Error(
      `unknown preset ${JSON.stringify(name)}; known: ${PRESETS.map((x) => x.name).join(", ")}`,
    );
  }
  return p;
}
