/** Tiny models of MNIST's and CIFAR-10's shapes, saved as model files or training checkpoints. */
import { saveCheckpoint, saveModelFile } from "../../src/harness/checkpoint.ts";
import { type ModelConfig, resolveModelConfig } from "../../src/models/config.ts";
import { PixelModel } from "../../src/models/model.ts";
import { testGpu } from "../util.ts";

const TINY = { kind: "pixelcnn", layers: 1, h: 4, outputMaps: 8 } as const;
export const TINY_MNIST = resolveModelConfig({
  ...TINY,
  height: 28,
  width: 28,
  channels: 1,
  output: "binary",
});
export const TINY_CIFAR = resolveModelConfig({
  ...TINY,
  height: 32,
  width: 32,
  channels: 3,
  output: "softmax256",
});

/** Writes a fresh model of `config` to `path`: a model file, or with `training` a step-1 checkpoint. */
export async function modelFile(config: ModelConfig, path: string, training = false): Promise<string> {
  const model = PixelModel.create(await testGpu(), config, 1);
  try {
    if (!training) await saveModelFile(path, model);
    else {
      await saveCheckpoint(path, model, {
        step: 1,
        cursor: { epoch: 0, batch: 1 },
        dataSeed: 1,
        optimizer: { kind: "rmsprop", lr: 1e-3 },
        optimizerState: { step: 1, buffers: {} },
        run: {},
        wallSeconds: 0,
        curve: { sum: 0, count: 0 },
      });
    }
  } finally {
    model.destroy();
  }
  return path;
}
