/** Every paper table the harness reproduces, by command-line name. */
import { CIFAR10_DEPTH_TABLE, CIFAR10_RESIDUAL_TABLE, CIFAR10_TABLE } from "./cifar10.ts";
import { IMAGENET32_TABLE, IMAGENET64_TABLE } from "./imagenet.ts";
import { MNIST_TABLE } from "./mnist.ts";
import type { PaperTable } from "./types.ts";

export const TABLES: PaperTable[] = [
  MNIST_TABLE,
  CIFAR10_TABLE,
  CIFAR10_RESIDUAL_TABLE,
  CIFAR10_DEPTH_TABLE,
  IMAGENET32_TABLE,
  IMAGENET64_TABLE,
];

export function tableById(id: string): PaperTable {
  const t = TABLES.find((x) => x.id === id);
  if (!t) {
    throw new Error(`unknown table ${JSON.stringify(id)}; known: ${TABLES.map((x) => x.id).join(", ")}`);
  }
  return t;
}

export type { PaperTable, TableRow, Tier, TierRun } from "./types.ts";
