/**
 * Where the incremental sampler keeps its values (see incremental_ops.ts for what it computes).
 *
 * - Records: every value a later pixel reads (the image, the conditioning maps, maps read through taps
 *   off their centre, LSTM states, the Diagonal BiLSTM's gates) lives in a record per pixel and image,
 *   [padded row][padded column][image][field], S floats each. The map is padded (`pad` rows above,
 *   columns left and right) and the padding holds what a full forward pass reads outside the image:
 *   zeros, the Row LSTM's h0, c0 above the first row, and the states the Diagonal BiLSTM's skewed scans
 *   pass through before a row's first pixel. So every read is at a fixed offset from the current pixel,
 *   and the kernels bind the records at the current pixel's window (a binding offset): addresses built
 *   from constants, loop counters and builtins only, which a software adapter runs several times faster
 *   than addresses computed from values read from memory.
 * - Scratch: values read only at their own pixel, one area per image, reused at every pixel.
 */
import { GpuError } from "../engine/device.ts";
import { inputsOf, type Plan } from "./incremental_ops.ts";

/** Where a node's value lives; LSTM layers also keep their states in the record. */
export interface NodeStore {
  /** Record field (offset in the record) or scratch field (offset in an image's scratch area). */
  rec: boolean;
  at: number;
  /** Row LSTM: its cell state c (h is the node's value). Diagonal BiLSTM: both directions' h and c. */
  states?: Record<string, number>;
}

export interface Layout {
  /** Images generated, and images laid out (a whole number of workgroups). */
  batch: number;
  images: number;
  /** Images per workgroup. */
  group: number;
  height: number;
  width: number;
  /** Padding of the record map: rows above the image, columns left and right of it. */
  pad: { top: number; left: number; right: number };
  /** Padded record map size. */
  rows: number;
  cols: number;
  /** Floats per record (per pixel and image), a multiple of 8 so pixel offsets stay binding-aligned. */
  record: number;
  /** Floats of scratch per image. */
  scratch: number;
  stores: NodeStore[];
}

/** Offsets of fields laid out one after another, each 4-float aligned. */
class Fields {
  size = 0;
  take(n: number): number {
    const at = this.size;
    this.size += Math.ceil(n / 4) * 4;
    return at;
  }
}

/**
 * The layout of `plan` for `batch` images of height x width, `group` images per workgroup. The record
 * map must fit one binding of `limitBytes`.
 */
export function layoutOf(
  plan: Plan,
  canvas: { batch: number; height: number; width: number; group: number },
  limitBytes: number,
): Layout {
  const { nodes } = plan;
  const history = nodes.map((n) => n.op === "image" || n.op === "fixed");
  const pad = { top: 0, left: 0, right: 0 };
  for (const n of nodes) {
    for (const i of inputsOf(n)) if (i.history) history[i.node] = true;
    if (n.op === "conv") {
      for (const t of n.taps) {
        pad.top = Math.max(pad.top, -t.dy);
        pad.left = Math.max(pad.left, -t.dx);
        pad.right = Math.max(pad.right, t.dx);
      }
    }
    // LSTM states read the row above and the neighbours along the row.
    if (n.op === "row-lstm" || n.op === "diagonal") {
      pad.top = Math.max(pad.top, 1);
      pad.left = Math.max(pad.left, 1);
      pad.right = Math.max(pad.right, 1);
    }
  }
  const rec = new Fields(), scr = new Fields();
  const stores = nodes.map((n, k): NodeStore => {
    if (n.op === "row-lstm") {
      return { rec: true, at: rec.take(n.channels), states: { c: rec.take(n.channels) } };
    }
    const states = n.op === "diagonal"
      ? Object.fromEntries(["lh", "lc", "rh", "rc"].map((s) => [s, rec.take(n.channels)]))
      : undefined;
    const field = history[k] ? rec : scr;
    return { rec: history[k], at: field.take(n.channels), states };
  });
  const group = Math.min(canvas.group, canvas.batch);
  const images = Math.ceil(canvas.batch / group) * group;
  const layout: Layout = {
    batch: canvas.batch,
    images,
    group,
    height: canvas.height,
    width: canvas.width,
    pad,
    rows: canvas.height + pad.top,
    cols: canvas.width + pad.left + pad.right,
    record: Math.ceil(rec.size / 8) * 8,
    scratch: Math.max(4, scr.size),
    stores,
  };
  const bytes = recordFloats(layout) * 4;
  if (bytes > limitBytes) {
    const perImage = bytes / images, fits = Math.floor(limitBytes / perImage);
    throw new BatchLimitError(
      `incremental sampler: ${canvas.batch} images need ${bytes} bytes of resident state, over this ` +
        `adapter's storage binding limit ${limitBytes}; use a smaller batch`,
      // Images are laid out in whole workgroups of `group` once the batch reaches one.
      fits >= canvas.group ? Math.floor(fits / canvas.group) * canvas.group : fits,
    );
  }
  return layout;
}

/** A batch over the adapter's storage binding limit; `fits` is the largest batch that fits (maybe 0). */
export class BatchLimitError extends GpuError {
  constructor(message: string, readonly fits: number) {
    super(message);
  }
}

/** Floats of the whole record map. */
export function recordFloats(l: Layout): number {
  return l.rows * l.cols * l.images * l.record;
}

/** Float offset of the record window of pixel (r, c): the padded pixel (r, c), pad rows and columns before it. */
export function windowOffset(l: Layout, r: number, c: number): number {
  return (r * l.cols + c) * l.images * l.record;
}
