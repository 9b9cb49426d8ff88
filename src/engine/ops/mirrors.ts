/**
 * How an op binds the maps its kernels read: through texture mirrors (Graph.textureOf) on the software
 * tiles where the policy asks (textureReads in src/engine/tiles.ts), else as storage buffers.
 */
import type { Graph } from "../graph.ts";
import type { Tensor } from "../tensor.ts";
import { textureReads } from "../tiles.ts";

/** Whether a kernel reads `maps` (those given) from texture mirrors: the policy asks and each can be. */
export function readsMirrors(g: Graph, maps: (Tensor | undefined)[]): boolean {
  return textureReads(g.gpu) && maps.every((t) => !t || g.mirrorable(t));
}

/** `t` as a kernel binds it: its texture mirror (copied first if a kernel wrote it since) or its buffer. */
export function bindMap(g: Graph, t: Tensor, mirrored: boolean): Tensor | GPUTextureView {
  return mirrored ? g.textureOf(t)! : t;
}
