/** A parser for numpy's `.npy` format (versions 1 to 3), the members of an `.npz`. */
import { DatasetError } from "./types.ts";

/** A C-ordered array read from a `.npy`. */
export interface NpyArray {
  /** numpy dtype string, e.g. "|u1", "<i8". */
  descr: string;
  shape: number[];
  /** The raw element bytes, product(shape) × item size of them. */
  data: Uint8Array;
}

/** A shape as numpy prints it: "(2, 3072)", "(5,)". */
export function formatShape(shape: number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"

/**
 * Parses a `.npy` file. `where` names it in errors.
 *
 * @throws {DatasetError} on a bad magic, an unreadable header, Fortran order or a data length that does not
 * match the shape.
 */
export function parseNpy(bytes: Uint8Array, where: string): NpyArray {
  const fail = (msg: string): never => {
    throw new DatasetError(`${where}: ${msg}`);
  };
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    fail("expected a .npy array, found no \\x93NUMPY magic");
  }
  const major = bytes[6];
  if (major < 1 || major > 3) fail(`expected .npy format version 1 to 3, found ${major}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerStart = major === 1 ? 10 : 12;
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  if (headerStart + headerLength > bytes.length) fail("truncated .npy header");
  const header = new TextDecoder().decode(bytes.subarray(headerStart, headerStart + headerLength));

  const descr = header.match(/'descr'\s*:\s*'([^']*)'/)?.[1];
  const fortran = header.match(/'fortran_order'\s*:\s*(True|False)/)?.[1];
  const shapeText = header.match(/'shape'\s*:\s*\(([^)]*)\)/)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    return fail(
      `expected a .npy header with descr, fortran_order and shape, found ${JSON.stringify(header.trim())}`,
    );
  }
  const shape = shapeText.split(",").map((s) => s.trim()).filter((s) => s !== "").map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) {
    fail(`expected a shape of integers, found (${shapeText})`);
  }
  if (fortran === "True" && shape.filter((d) => d > 1).length > 1) {
    fail("expected C order, found fortran_order True");
  }
  const itemSize = Number(descr.match(/^[<>|=]?[biuf](\d+)$/)?.[1]);
  if (!(itemSize > 0)) fail(`expected a numeric dtype, found '${descr}'`);

  const expected = shape.reduce((a, b) => a * b, 1) * itemSize;
  const data = bytes.subarray(headerStart + headerLength);
  if (data.length !== expected) {
    fail(
      `expected ${expected} data bytes for shape ${formatShape(shape)} of '${descr}', found ${data.length}`,
    );
  }
  return { descr, shape, data };
}
