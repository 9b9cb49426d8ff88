/** Tables 2, 3 and 5: CIFAR-10 in bits/dim. */
import { type ModelConfig, resolveModelConfig } from "../../models/config.ts";
import { presetByName } from "../../models/presets.ts";
import { tierRuns } from "./runs.ts";
import type { PaperTable, TableRow } from "./types.ts";

const SMOKE = { layers: 1, h: 6, outputMaps: 12 };
/** Under 6 bits/dim: far below the uniform 8 and independent sub-pixels (about 7.5), below PNG (about 5.9). */
const QUICK_BAND: [number, number] = [1, 6];
const SMOKE_BAND: [number, number] = [1, 8];
/** Quick runs evaluate the first 1,000 images of the split (the row is labelled a subset). */
const QUICK_EVAL = 1000;

function run(
  model: ModelConfig,
  quick: Partial<ModelConfig>,
  trainMetric: boolean,
  smoke: Partial<ModelConfig> = {},
): TableRow["tiers"] {
  return tierRuns({
    model,
    batch: 16,
    smoke: { ...SMOKE, ...smoke },
    quick: { outputMaps: 64, ...quick },
    quickSteps: 300,
    quickEvalImages: QUICK_EVAL,
    paperSteps: 150_000,
    bands: { smoke: SMOKE_BAND, quick: QUICK_BAND },
    tolerance: 0.05,
    trainMetric,
  });
}

const ref = (id: string, label: string, paper: number, reference: string): TableRow => ({
  id,
  label,
  paper,
  reference,
});

const NOTE_TRAINING =
  "Paper tier: 150,000 steps of batch 16 (48 epochs) with RMSProp lr 1e-3 [NS: the paper " +
  "gives neither]; quick tier: the same kind of model at h = 16 with 64 output maps, 300 steps, evaluated on " +
  `the first ${QUICK_EVAL} images of the split.`;

export const CIFAR10_TABLE: PaperTable = {
  id: "cifar10",
  title: "Table 5: CIFAR-10, test NLL (training NLL in brackets)",
  dataset: "cifar10",
  split: "test",
  unit: "bits/dim",
  note: `Train on the 50,000 training images, report the 10,000 test images. ${NOTE_TRAINING}`,
  rows: [
    ref("uniform", "Uniform Distribution", 8.00, "log2 256 per sub-pixel"),
    ref("gaussian", "Multivariate Gaussian", 4.70, "as reported in the paper"),
    ref("nice", "NICE", 4.48, "Dinh et al. 2014"),
    ref("diffusion", "Deep Diffusion", 4.20, "Sohl-Dickstein et al. 2015"),
    ref("deep-gmm", "Deep GMMs", 4.00, "van den Oord & Schrauwen 2014"),
    ref("ride", "RIDE", 3.47, "Theis & Bethge 2015 (personal communication)"),
    {
      id: "pixelcnn",
      label: "PixelCNN",
      paper: 3.14,
      paperTrain: 3.08,
      tiers: run(presetByName("cifar10-pixelcnn").config, { layers: 3, h: 16 }, true),
    },
    {
      id: "row-lstm",
      label: "Row LSTM",
      paper: 3.07,
      paperTrain: 3.00,
      tiers: run(presetByName("cifar10-row-lstm").config, { layers: 2, h: 16 }, true),
    },
    {
      id: "diagonal-bilstm",
      label: "Diagonal BiLSTM",
      paper: 3.00,
      paperTrain: 2.93,
      tiers: run(presetByName("cifar10-diagonal-bilstm").config, { layers: 2, h: 16 }, true),
    },
  ],
};

const ROW_LSTM = presetByName("cifar10-row-lstm").config;
const VALID_NOTE = "[I] The paper's validation split is not described: training uses the first 45,000 " +
  "training images and validation the last 5,000 (the second half of data_batch_5). " + NOTE_TRAINING;

function variant(
  id: string,
  label: string,
  paper: number,
  o: Partial<ModelConfig>,
  quick: Partial<ModelConfig>,
): TableRow {
  // Smoke and quick runs keep what the row varies (connections or depth), at a small width.
  return {
    id,
    label,
    paper,
    tiers: run(resolveModelConfig({ ...ROW_LSTM, ...o }), { h: 16, ...quick }, false, { ...o, h: 4 }),
  };
}

export const CIFAR10_RESIDUAL_TABLE: PaperTable = {
  id: "cifar10-residual",
  title: "Table 2: residual and skip connections, 12-layer Row LSTM, CIFAR-10 validation NLL",
  dataset: "cifar10",
  split: "valid",
  unit: "bits/dim",
  note: `Quick tier keeps each row's connections at 4 layers. ${VALID_NOTE}`,
  rows: [
    variant("plain", "No residual, no skip", 3.22, { residual: false, skip: false }, { layers: 4 }),
    variant("skip", "No residual, skip", 3.09, { residual: false, skip: true }, { layers: 4 }),
    variant("residual", "Residual, no skip", 3.07, { residual: true, skip: false }, { layers: 4 }),
    variant("both", "Residual, skip", 3.06, { residual: true, skip: true }, { layers: 4 }),
  ],
};

export const CIFAR10_DEPTH_TABLE: PaperTable = {
  id: "cifar10-depth",
  title: "Table 3: depth, Row LSTM with residual and skip connections, CIFAR-10 validation NLL",
  dataset: "cifar10",
  split: "valid",
  unit: "bits/dim",
  note: `Quick tier keeps each row's depth at h = 8. ${VALID_NOTE}`,
  rows: ([[1, 3.30], [2, 3.20], [3, 3.17], [6, 3.09], [9, 3.08], [12, 3.06]] as const).map((
    [layers, paper],
  ) =>
    variant(`layers-${layers}`, `${layers} layer${layers > 1 ? "s" : ""}`, paper, { layers }, {
      layers,
      h: 8,
    })
  ),
};
