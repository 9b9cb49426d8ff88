/** A loaded image dataset split, ready to hand to training or evaluation. */
export interface ImageSet {
  /** e.g. "binarized-mnist", "cifar10", "imagenet32" */
  name: string;
  /**
   * Which variant/format was read, e.g. "amat", "cifar10-binary", "imagenet-png-tar", "imagenet-png-dir",
   * "imagenet-npz (Chrabaszcz et al. 2017, not the paper's downsampling)".
   */
  variant: string;
  /** "train" | "valid" | "test" ... */
  split: string;
  count: number;
  height: number;
  width: number;
  channels: 1 | 3;
  /** Values a sub-pixel takes: 2 for binarized MNIST (0 or 1), 256 for 8-bit images. */
  levels: 2 | 256;
  /** uint8 pixel values, NHWC order (image, row, column, channel), count*height*width*channels bytes. Binary MNIST stores 0/1. */
  pixels: Uint8Array;
  /** Class labels, when the format has them (as stored: CIFAR-10 0..9, Chrabaszcz et al. ImageNet 1..1000). */
  labels?: Uint16Array;
  /** true when fewer records than the official split were loaded (then every result must say "subset"). */
  subset: boolean;
  /** SHA-256 (hex) over the files read, in a fixed order (sorted by name); see fingerprint.ts. */
  fingerprint: string;
  /** The paths read. */
  files: string[];
}

/** A wrong, truncated or missing dataset file. The message is one line naming the file and what was expected vs found. */
export class DatasetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DatasetError";
  }
}
