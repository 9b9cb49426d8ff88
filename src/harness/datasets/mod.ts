/**
 * The dataset layer: loaders for binarized MNIST, CIFAR-10 and downsampled ImageNet, each returning an
 * {@link ImageSet} with a fingerprint of the files read, or failing with a one-line {@link DatasetError}.
 *
 * @module
 */
export * from "./types.ts";
export * from "./fingerprint.ts";
export * from "./mnist.ts";
export * from "./cifar10.ts";
export * from "./imagenet.ts";
