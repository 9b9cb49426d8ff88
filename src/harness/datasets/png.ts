/** PNG decoding for the downsampled ImageNet folders and tars. */
import { Buffer } from "node:buffer";
import { PNG } from "pngjs";
import { oneLine } from "./io.ts";
import { DatasetError } from "./types.ts";

const COLOR_TYPES: Record<number, string> = { 0: "grey", 2: "RGB", 3: "palette", 4: "grey+alpha", 6: "RGBA" };

/**
 * Decodes `bytes`, which must be a `size`×`size` 8-bit RGB or RGBA PNG, into `out` as row-major RGB
 * (`size*size*3` bytes; alpha is dropped). `where` names the file in errors.
 *
 * @throws {DatasetError} on an undecodable PNG or one of another size or colour format.
 */
export function decodeRgbPng(bytes: Uint8Array, size: number, where: string, out: Uint8Array): void {
  let png: ReturnType<typeof PNG.sync.read>;
  try {
    png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (err) {
    throw new DatasetError(`${where}: expected a ${size}x${size} PNG, cannot decode it (${oneLine(err)})`);
  }
  const { width, height, depth, colorType } = png;
  if (width !== size || height !== size || depth !== 8 || (colorType !== 2 && colorType !== 6)) {
    const color = COLOR_TYPES[colorType] ?? `colour type ${colorType}`;
    throw new DatasetError(
      `${where}: expected a ${size}x${size} 8-bit RGB or RGBA PNG, found ${width}x${height} ${depth}-bit ${color}`,
    );
  }
  // pngjs always hands back RGBA, whatever the file's colour type.
  const rgba = png.data;
  for (let p = 0; p < size * size; p++) {
    out[3 * p] = rgba[4 * p];
    out[3 * p + 1] = rgba[4 * p + 1];
    out[3 * p + 2] = rgba[4 * p + 2];
  }
}
