/**
 * Issue 8, honest dataset labels: the `dataset` column of a results row states the split trained on and
 * the split evaluated, with their sizes and whether each is a subset, so a CIFAR-10 directory of 3,500
 * training records no longer reads like the full 50,000.
 */
import assert from "node:assert/strict";
import type { ImageSet } from "../src/harness/datasets/types.ts";
import { describeData } from "../src/harness/repro.ts";

function cifar(split: string, count: number, subset: boolean): ImageSet {
  return {
    name: "cifar10",
    variant: "cifar10-binary",
    split,
    count,
    height: 32,
    width: 32,
    channels: 3,
    levels: 256,
    pixels: new Uint8Array(0),
    subset,
    fingerprint: "",
    files: [],
  };
}

Deno.test("the dataset column states both splits, their sizes and subsets", () => {
  const test = cifar("test", 10_000, false);
  assert.equal(
    describeData(cifar("train", 50_000, false), test),
    "cifar10 [cifar10-binary]; train: train, 50000 images; eval: test, 10000 images",
  );
  assert.equal(
    describeData(cifar("train", 3_500, true), test),
    "cifar10 [cifar10-binary]; train: train, 3500 images (subset); eval: test, 10000 images",
  );
  assert.equal(
    describeData(cifar("train", 50_000, false), cifar("test (first 1000)", 1_000, true)),
    "cifar10 [cifar10-binary]; train: train, 50000 images; eval: test (first 1000), 1000 images (subset)",
  );
});
