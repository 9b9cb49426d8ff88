/**
 * Counter-based random numbers: Threefry-2x32 with 20 rounds (Salmon et al., "Parallel random numbers:
 * as easy as 1, 2, 3", SC 2011). Additions, rotations and xors only, so the WGSL version in
 * src/wgsl/rng.ts produces the same bits on every adapter and the host can reproduce any draw.
 */

const ROT = [13, 15, 26, 6, 17, 29, 16, 24];
const PARITY = 0x1bd11bda;

function rotl(x: number, r: number): number {
  return ((x << r) | (x >>> (32 - r))) >>> 0;
}

/** Threefry-2x32-20 of counter (c0, c1) under key (k0, k1). */
export function threefry2x32(k0: number, k1: number, c0: number, c1: number): [number, number] {
  const ks = [k0 >>> 0, k1 >>> 0, (PARITY ^ k0 ^ k1) >>> 0];
  let x0 = (c0 + ks[0]) >>> 0;
  let x1 = (c1 + ks[1]) >>> 0;
  for (let r = 0; r < 20; r++) {
    x0 = (x0 + x1) >>> 0;
    x1 = rotl(x1, ROT[r % 8]) ^ x0;
    if (r % 4 === 3) {
      const s = (r + 1) / 4;
      x0 = (x0 + ks[s % 3]) >>> 0;
      x1 = (x1 + ks[(s + 1) % 3] + s) >>> 0;
    }
  }
  return [x0 >>> 0, x1 >>> 0];
}

/** A uniform float in [0, 1) from the top 24 bits of a u32 (exact in f32 and f64 alike). */
export function unitFloat(x: number): number {
  return (x >>> 8) / 16777216;
}

/** A host-side stream: draw i of stream `seed` is threefry(seed, stream)(i). */
export class Rng {
  private counter = 0;
  constructor(readonly seed: number, readonly stream = 0) {}

  /** Two fresh u32 values. */
  next(): [number, number] {
    return threefry2x32(this.seed >>> 0, this.stream >>> 0, this.counter++, 0);
  }

  uniform(): number {
    return unitFloat(this.next()[0]);
  }

  /** Standard normal by Box-Muller. */
  normal(): number {
    const [a, b] = this.next();
    const u1 = (unitFloat(a) * 16777215 + 1) / 16777216;
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * unitFloat(b));
  }

  /** Where the stream stands, for checkpoints. */
  get position(): number {
    return this.counter;
  }

  set position(p: number) {
    this.counter = p;
  }
}
