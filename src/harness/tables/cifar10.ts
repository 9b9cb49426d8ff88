/** Tables 2, 3 and 5: CIFAR-10 in bits/dim. */
import { type ModelConfig, resolveModelConfig } from "../../models/config.ts";
import { presetByName } from "../../models/presets.ts";
import { type DatasetPlan, paperSize, provisionalRecipe } from "./recipes.ts";
import { tierRuns } from "./runs.ts";
import type { PaperTable, TableRow } from "./types.ts";

const SMOKE = { layers: 1, h: 6, outputMaps: 12 };
/** Under 6 bits/dim: far below the uniform 8 and independent sub-pixels (about 7.5), below PNG (about 5.9). */
const QUICK_BAND: [number, number] = [1, 6];
const SMOKE_BAND: [number, number] = [1, 8];
/** Quick runs evaluate the first 1,000 images of the split (the row is labelled a subset). */
const QUICK_EVAL = 1000;

const PLAN: DatasetPlan = {
  maxSteps: { value: 150_000, why: "48 epochs of batch 16 (2.4 M images)." },
  evalEvery: {
    value: 5000,
    why: "Every 80,000 training images, the 5,000 held-out training images: about 2% of the training " +
      "compute (a forward pass costs about a third of a training step).",
  },
};

/** A row's tiers; `sizeSource` says where the paper gives the model's size. */
function run(
  model: ModelConfig,
  sizeSource: string,
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
    recipe: provisionalRecipe(paperSize(model, sizeSource), PLAN),
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

const NOTE_TRAINING = "Paper tier: each row's recipe (provisional: at most 150,000 steps of batch 16, " +
  "RMSProp 1e-3 halved on validation plateaus, validation on the last 5,000 training images, which training " +
  "then leaves out, every 5,000 steps, early stopping; the reported NLL is the best validation " +
  "checkpoint's); quick tier: the same kind of model at h = 16 with 64 output maps, 300 steps, evaluated on " +
  `the first ${QUICK_EVAL} images of the split.`;

/** A Table 5 row's tiers, the model as its preset gives it. */
function table5(preset: string, quick: Partial<ModelConfig>): TableRow["tiers"] {
  const p = presetByName(preset);
  return run(p.config, `The paper's: ${p.note}`, quick, true);
}

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
      tiers: table5("cifar10-pixelcnn", { layers: 3, h: 16 }),
    },
    {
      id: "row-lstm",
      label: "Row LSTM",
      paper: 3.07,
      paperTrain: 3.00,
      tiers: table5("cifar10-row-lstm", { layers: 2, h: 16 }),
    },
    {
      id: "diagonal-bilstm",
      label: "Diagonal BiLSTM",
      paper: 3.00,
      paperTrain: 2.93,
      tiers: table5("cifar10-diagonal-bilstm", { layers: 2, h: 16 }),
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
  sizeSource: string,
): TableRow {
  // Smoke and quick runs keep what the row varies (connections or depth), at a small width.
  const model = resolveModelConfig({ ...ROW_LSTM, ...o });
  return { id, label, paper, tiers: run(model, sizeSource, { h: 16, ...quick }, false, { ...o, h: 4 }) };
}

const TABLE2_SIZE =
  "The paper's: Table 2 varies the connections of its 12-layer CIFAR-10 Row LSTM (h = 128).";

export const CIFAR10_RESIDUAL_TABLE: PaperTable = {
  id: "cifar10-residual",
  title: "Table 2: residual and skip connections, 12-layer Row LSTM, CIFAR-10 validation NLL",
  dataset: "cifar10",
  split: "valid",
  unit: "bits/dim",
  note: `Quick tier keeps each row's connections at 4 layers. ${VALID_NOTE}`,
  rows: [
    variant(
      "plain",
      "No residual, no skip",
      3.22,
      { residual: false, skip: false },
      { layers: 4 },
      TABLE2_SIZE,
    ),
    variant("skip", "No residual, skip", 3.09, { residual: false, skip: true }, { layers: 4 }, TABLE2_SIZE),
    variant(
      "residual",
      "Residual, no skip",
      3.07,
      { residual: true, skip: false },
      { layers: 4 },
      TABLE2_SIZE,
    ),
    variant("both", "Residual, skip", 3.06, { residual: true, skip: true }, { layers: 4 }, TABLE2_SIZE),
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
    }, `The paper's: Table 3 varies the depth of its CIFAR-10 Row LSTM (h = 128).`)
  ),
};
