/** Random contents for bench tensors (values only matter in that they are not all zero). */
import type { Tensor } from "../src/engine/tensor.ts";

/** Uniform values in [-scale, scale), optionally multiplied by a 0/1 mask (masked weights stay zero). */
export function fillRandom(t: Tensor, scale = 0.5, mask?: Float32Array): void {
  const v = new Float32Array(t.size);
  for (let i = 0; i < v.length; i++) v[i] = (Math.random() * 2 - 1) * scale * (mask ? mask[i] : 1);
  t.write(v);
}

/** Random 0/1 values (binary targets) in a u32 tensor. */
export function fillBits(t: Tensor): void {
  t.write(Uint32Array.from({ length: t.size }, () => (Math.random() < 0.5 ? 0 : 1)));
}
