/**
 * WGSL counter-based random numbers, bit-identical to src/engine/rng.ts: Threefry-2x32 with 20 rounds and
 * the same 24-bit unit float, so the host can reproduce every draw a kernel makes.
 *
 * Include {@link RNG_WGSL} in a kernel's source to get
 *   `fn threefry2x32(key: vec2u, ctr: vec2u) -> vec2u` and `fn unitFloat(x: u32) -> f32`.
 */

/** Threefry-2x32 rotation constants (Random123), applied cyclically over the 20 rounds. */
const ROT = [13, 15, 26, 6, 17, 29, 16, 24];
const PARITY = 0x1bd11bda;
const ROUNDS = 20;

/** The 20 rounds, unrolled: WGSL cannot index a value array (the key schedule) with a runtime index. */
function rounds(): string {
  const L: string[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    L.push(`  x0 += x1; x1 = rotl(x1, ${ROT[r % 8]}u) ^ x0;`);
    if (r % 4 === 3) {
      const s = (r + 1) / 4;
      L.push(`  x0 += ks${s % 3}; x1 += ks${(s + 1) % 3} + ${s}u;`);
    }
  }
  return L.join("\n");
}

/** WGSL source of `threefry2x32(key, ctr)` and `unitFloat(x)` (u32 arithmetic wraps, as on the host). */
export const RNG_WGSL = `
fn rotl(x: u32, r: u32) -> u32 { return (x << r) | (x >> (32u - r)); }
fn threefry2x32(key: vec2u, ctr: vec2u) -> vec2u {
  let ks0 = key.x;
  let ks1 = key.y;
  let ks2 = ${PARITY}u ^ key.x ^ key.y;
  var x0 = ctr.x + ks0;
  var x1 = ctr.y + ks1;
${rounds()}
  return vec2u(x0, x1);
}
// A uniform float in [0, 1) from the top 24 bits: exact in f32, equal to the host's unitFloat.
fn unitFloat(x: u32) -> f32 { return f32(x >> 8u) / 16777216.0; }
`;
