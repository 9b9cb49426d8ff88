/**
 * Issue 8, a model meets only data of its shape: eval, sample and repro --resume refuse a model whose
 * image size, channels or output type differ from the dataset's, in one line naming both, before any
 * evaluation, sampling or training.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { oneError, task } from "./helpers/cli.ts";
import { modelFile, TINY_CIFAR as CIFAR, TINY_MNIST as MNIST } from "./helpers/model_files.ts";

const CIFAR_FIXTURE = fileURLToPath(new URL("./fixtures/cifar10", import.meta.url));

Deno.test("eval refuses an MNIST model on CIFAR-10 and a CIFAR-10 model on MNIST", async () => {
  const dir = await Deno.makeTempDir();
  const mnist = await modelFile(MNIST, `${dir}/mnist.safetensors`);
  const cifar = await modelFile(CIFAR, `${dir}/cifar.safetensors`);
  const onCifar = await task("eval", [
    "--checkpoint",
    mnist,
    "--dataset",
    "cifar10",
    "--split",
    "train",
    "--data",
    CIFAR_FIXTURE,
    "--allow-subset",
  ]);
  assert.equal(
    oneError(onCifar),
    `eval: ${mnist} models 28x28x1 binary images; cifar10 train images are 32x32x3 256-level`,
  );
  const onMnist = await task("eval", ["--checkpoint", cifar, "--dataset", "binarized-mnist"]);
  assert.equal(
    oneError(onMnist),
    `eval: ${cifar} models 32x32x3 256-level images; binarized-mnist test images are 28x28x1 binary`,
  );
  assert.doesNotMatch(onCifar.stdout + onMnist.stdout, /nats|bits\/dim/, "no NLL may be reported");
});

Deno.test("sample --figures refuses a dataset of another shape before sampling", async () => {
  const dir = await Deno.makeTempDir();
  const cifar = await modelFile(CIFAR, `${dir}/cifar.safetensors`);
  const out = `${dir}/samples.png`;
  const r = await task("sample", [
    "--checkpoint",
    cifar,
    "--count",
    "1",
    "--out",
    out,
    "--figures",
    "binarized-mnist",
  ]);
  assert.equal(
    oneError(r),
    `sample: ${cifar} models 32x32x3 256-level images; binarized-mnist test images are 28x28x1 binary`,
  );
  assert.doesNotMatch(r.stderr, /row \d+\/\d+/, "no image may be sampled");
  await assert.rejects(Deno.stat(out), Deno.errors.NotFound);
  // --complete reads the dataset the checkpoint records; this model file records none.
  const unnamed = await task("sample", ["--checkpoint", cifar, "--complete", "2", "--out", out]);
  assert.equal(
    oneError(unnamed),
    "sample: name the test images of --complete with --dataset (binarized-mnist, cifar10, imagenet32, imagenet64)",
  );
  const other = await task("sample", [
    "--checkpoint",
    cifar,
    "--complete",
    "2",
    "--dataset",
    "binarized-mnist",
    "--out",
    out,
  ]);
  assert.match(
    oneError(other),
    /models 32x32x3 256-level images; binarized-mnist test images are 28x28x1 binary$/,
  );
  await assert.rejects(Deno.stat(out), Deno.errors.NotFound);
});

Deno.test("repro --resume refuses a checkpoint of another shape or model before training any row", async () => {
  const cwd = await Deno.makeTempDir();
  const runs = `${cwd}/runs`;
  const ckpt = `${runs}/mnist-pixelcnn-smoke.safetensors`;
  const args = ["mnist", "--tier", "smoke", "--rows", "row-lstm,pixelcnn", "--checkpoints", runs, "--resume"];
  await modelFile(CIFAR, ckpt, true);
  const shape = await task("repro", args, cwd);
  assert.equal(
    oneError(shape),
    `repro: ${ckpt} models 32x32x3 256-level images; binarized-mnist train (smoke slice) images are 28x28x1 binary`,
  );
  assert.doesNotMatch(shape.stderr, /steps of batch/, "no row may train");
  await assert.rejects(Deno.stat(`${cwd}/results`), Deno.errors.NotFound, "nothing may be written");
  // The right shape, but the smoke tier's PixelCNN has 8 output maps, not 16.
  await modelFile({ ...MNIST, outputMaps: 16 }, ckpt, true);
  const other = await task("repro", args, cwd);
  assert.match(
    oneError(other),
    new RegExp(`^repro: ${ckpt}: not a checkpoint of mnist / pixelcnn: .*outputMaps`),
  );
  assert.doesNotMatch(other.stderr, /steps of batch/);
});
