/**
 * Masks A and B over R, G, B channel groups (paper §3.4, Fig. 2 right).
 *
 * Every feature map of a layer belongs to one colour group. With `groups` = 3 (RGB data) channel c of a
 * C-channel map belongs to group floor(3c / C): contiguous thirds, the first group taking the extra
 * channel when C is not divisible by 3 (C = 256 splits 86 / 85 / 85, C = 128 splits 43 / 43 / 42).
 * With `groups` = 1 (binarized MNIST) every channel is in group 0, so mask A excludes the centre pixel and
 * mask B includes it. Gate tensors of an LSTM ([o, f, i, g] blocks of h channels each) take the group of
 * their channel within the block, so every gate of channel c sees what channel c may see.
 */

export type MaskType = "A" | "B";

/** Colour group of channel `c` of a `channels`-wide map. */
export function groupOf(c: number, channels: number, groups: number): number {
  return Math.floor((groups * c) / channels);
}

/** Group of every channel of a plain map. */
export function channelGroups(channels: number, groups: number): number[] {
  return Array.from({ length: channels }, (_, c) => groupOf(c, channels, groups));
}

/** Group of every channel of a gate map made of `blocks` blocks of `h` channels. */
export function gateGroups(h: number, blocks: number, groups: number): number[] {
  const one = channelGroups(h, groups);
  return Array.from({ length: blocks * h }, (_, j) => one[j % h]);
}

/**
 * 0/1 mask for a KH x KW kernel [KH, KW, Cin, Cout] centred on the output pixel: rows above and pixels
 * to the left are allowed; at the centre, input group < output group (mask A) or <= (mask B).
 */
export function convMask(kh: number, kw: number, inGroups: number[], outGroups: number[], type: MaskType) {
  const cin = inGroups.length, cout = outGroups.length;
  const m = new Float32Array(kh * kw * cin * cout);
  const cy = (kh - 1) / 2, cx = (kw - 1) / 2;
  for (let ky = 0; ky < kh; ky++) {
    for (let kx = 0; kx < kw; kx++) {
      const past = ky < cy || (ky === cy && kx < cx);
      const centre = ky === cy && kx === cx;
      if (!past && !centre) continue;
      for (let ci = 0; ci < cin; ci++) {
        for (let co = 0; co < cout; co++) {
          const allowed = past ||
            (type === "A" ? inGroups[ci] < outGroups[co] : inGroups[ci] <= outGroups[co]);
          if (allowed) m[(((ky * kw + kx) * cin) + ci) * cout + co] = 1;
        }
      }
    }
  }
  return m;
}
