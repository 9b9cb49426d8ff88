/** Pixel layout conversion shared by the CIFAR-10 and Chrabaszcz et al. ImageNet formats. */

/**
 * Writes one image stored as three colour planes (all R, then all G, then all B, each row-major with `plane`
 * pixels) into `out` as interleaved RGB (row, column, channel).
 */
export function planesToHwc(planes: Uint8Array, plane: number, out: Uint8Array): void {
  for (let i = 0; i < plane; i++) {
    out[3 * i] = planes[i];
    out[3 * i + 1] = planes[plane + i];
    out[3 * i + 2] = planes[2 * plane + i];
  }
}
