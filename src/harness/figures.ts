/**
 * PNG figures drawn pixel by pixel (no fonts, no plotting library): sample grids, occluded-image
 * completions laid out like the paper's Fig. 1, and softmax histograms like its Fig. 6.
 */
import { PNG } from "pngjs";

type RGB = readonly [number, number, number];

/** Padding between tiles. */
const PAD_GREY: RGB = [128, 128, 128];
/** Hidden (occluded) pixels; lighter than the padding so the two stay apart. */
const OCCLUDED_GREY: RGB = [192, 192, 192];
const WHITE: RGB = [255, 255, 255];
const BLACK: RGB = [0, 0, 0];
const FRAME_GREY: RGB = [200, 200, 200];
const BAR_COLORS: Record<HistogramPanel["color"], RGB> = {
  r: [214, 39, 40],
  g: [44, 160, 44],
  b: [31, 119, 180],
  grey: [100, 100, 100],
};

/** How images are drawn into tiles. */
interface TileStyle {
  height: number;
  width: number;
  channels: 1 | 3;
  scale: number;
  binary: boolean;
}

/** An RGB drawing surface backed by a pngjs image. */
class Canvas {
  private readonly png: PNG;

  constructor(readonly width: number, readonly height: number, background: RGB) {
    this.png = new PNG({ width, height });
    this.rect(0, 0, width, height, background);
  }

  rect(x: number, y: number, w: number, h: number, color: RGB): void {
    for (let r = y; r < y + h; r++) {
      for (let c = x; c < x + w; c++) this.set(c, r, color);
    }
  }

  /**
   * Draws image `index` of the NHWC batch `images` with its top-left corner at (x, y), each pixel a
   * scale × scale block; image rows from `keepRows` down are drawn as occluded.
   */
  tile(images: Uint8Array, index: number, s: TileStyle, x: number, y: number, keepRows = s.height): void {
    const base = index * s.height * s.width * s.channels;
    for (let i = 0; i < s.height; i++) {
      for (let j = 0; j < s.width; j++) {
        const at = base + (i * s.width + j) * s.channels;
        const color = i >= keepRows ? OCCLUDED_GREY : pixelColor(images, at, s);
        this.rect(x + j * s.scale, y + i * s.scale, s.scale, s.scale, color);
      }
    }
  }

  encode(): Uint8Array {
    // colorType 2 writes RGB and drops the always-opaque alpha channel.
    return PNG.sync.write(this.png, { colorType: 2 });
  }

  private set(x: number, y: number, [r, g, b]: RGB): void {
    const at = (y * this.width + x) * 4;
    const d = this.png.data;
    d[at] = r;
    d[at + 1] = g;
    d[at + 2] = b;
    d[at + 3] = 255;
  }
}

function pixelColor(images: Uint8Array, at: number, s: TileStyle): RGB {
  if (s.binary) {
    const v = images[at];
    if (v > 1) throw new Error(`figures: binary image has value ${v} at element ${at}`);
    return v === 1 ? WHITE : BLACK;
  }
  if (s.channels === 1) return [images[at], images[at], images[at]];
  return [images[at], images[at + 1], images[at + 2]];
}

function checkStyle(s: TileStyle, where: string): void {
  if (s.channels !== 1 && s.channels !== 3) {
    throw new Error(`${where}: channels must be 1 or 3, got ${s.channels}`);
  }
  if (s.binary && s.channels !== 1) throw new Error(`${where}: binary images have 1 channel`);
  for (const [name, v] of [["height", s.height], ["width", s.width], ["scale", s.scale]] as const) {
    if (!Number.isInteger(v) || v < 1) {
      throw new Error(`${where}: ${name} must be a positive integer, got ${v}`);
    }
  }
}

function checkLength(data: Uint8Array, count: number, s: TileStyle, where: string): void {
  const want = count * s.height * s.width * s.channels;
  if (data.length !== want) {
    throw new Error(
      `${where}: ${count} × ${s.height}×${s.width}×${s.channels} images need ${want} values, got ${data.length}`,
    );
  }
}

/**
 * The upscaling of a sample or completion figure (nearest neighbour): 28x28 and 32x32 images 4x, 64x64
 * 2x, so that every figure's tiles are about 128 pixels on a side.
 */
export function figureScale(height: number): number {
  return Math.max(1, Math.floor(128 / height));
}

/** Options for {@link imageGrid}. */
export interface GridOptions {
  /** Tiles per row; default ⌈√count⌉. */
  cols?: number;
  /** Grey padding in output pixels between tiles and around the edge; default 2. */
  pad?: number;
  /** Integer upscaling factor (nearest neighbour); default 1. */
  scale?: number;
  /** Values are 0/1 and drawn black/white (1 = white); default false. */
  binary?: boolean;
}

/**
 * Lays out `count` NHWC uint8 images as a grid PNG: binary images black/white, grey images as grey, RGB
 * as RGB, with mid-grey padding between the tiles. Returns the PNG file bytes.
 */
export function imageGrid(
  images: Uint8Array,
  count: number,
  height: number,
  width: number,
  channels: 1 | 3,
  opts: GridOptions = {},
): Uint8Array {
  const style: TileStyle = { height, width, channels, scale: opts.scale ?? 1, binary: opts.binary ?? false };
  const pad = opts.pad ?? 2;
  checkStyle(style, "imageGrid");
  if (!Number.isInteger(count) || count < 1) {
    throw new Error(`imageGrid: count must be at least 1, got ${count}`);
  }
  checkLength(images, count, style, "imageGrid");
  const cols = Math.min(count, opts.cols ?? Math.ceil(Math.sqrt(count)));
  const rows = Math.ceil(count / cols);
  const tileW = width * style.scale;
  const tileH = height * style.scale;
  const canvas = new Canvas(cols * tileW + (cols + 1) * pad, rows * tileH + (rows + 1) * pad, PAD_GREY);
  for (let n = 0; n < count; n++) {
    const x = pad + (n % cols) * (tileW + pad);
    const y = pad + Math.floor(n / cols) * (tileH + pad);
    canvas.tile(images, n, style, x, y);
  }
  return canvas.encode();
}

/** One row of a completion figure; each array holds one HWC image. */
export interface CompletionRow {
  occluded: Uint8Array;
  completions: Uint8Array[];
  original: Uint8Array;
}

/** Options for {@link completionFigure}. */
export interface CompletionOptions {
  /** Image rows given to the model; rows below are greyed out in the occluded column. */
  keepRows: number;
  /** Padding between tiles and around the edge; default 2. */
  pad?: number;
  /** Space separating the occluded and original columns from the completions; default 4 × pad. */
  gap?: number;
  /** Integer upscaling factor; default 1. */
  scale?: number;
  /** Values are 0/1 and drawn black/white; default false. */
  binary?: boolean;
}

/**
 * Draws image completions like the paper's Fig. 1: each row is `occluded | completion 1 … k | original`,
 * with a wider gap before and after the completions. Returns the PNG file bytes.
 */
export function completionFigure(
  rows: readonly CompletionRow[],
  height: number,
  width: number,
  channels: 1 | 3,
  opts: CompletionOptions,
): Uint8Array {
  const style: TileStyle = { height, width, channels, scale: opts.scale ?? 1, binary: opts.binary ?? false };
  const pad = opts.pad ?? 2;
  const gap = opts.gap ?? 4 * pad;
  checkStyle(style, "completionFigure");
  if (rows.length === 0) throw new Error("completionFigure: no rows");
  if (!Number.isInteger(opts.keepRows) || opts.keepRows < 0 || opts.keepRows > height) {
    throw new Error(`completionFigure: keepRows must be an integer in 0..${height}, got ${opts.keepRows}`);
  }
  const k = rows[0].completions.length;
  if (k === 0) throw new Error("completionFigure: rows have no completions");
  rows.forEach((r, i) => {
    const where = `completionFigure: row ${i}`;
    if (r.completions.length !== k) {
      throw new Error(`${where}: ${r.completions.length} completions, row 0 has ${k}`);
    }
    for (const image of [r.occluded, r.original, ...r.completions]) checkLength(image, 1, style, where);
  });

  const tileW = width * style.scale;
  const tileH = height * style.scale;
  const completionsX = pad + tileW + gap;
  const originalX = completionsX + k * tileW + (k - 1) * pad + gap;
  const canvas = new Canvas(originalX + tileW + pad, rows.length * tileH + (rows.length + 1) * pad, PAD_GREY);
  rows.forEach((r, i) => {
    const y = pad + i * (tileH + pad);
    canvas.tile(r.occluded, 0, style, pad, y, opts.keepRows);
    r.completions.forEach((c, j) => canvas.tile(c, 0, style, completionsX + j * (tileW + pad), y));
    canvas.tile(r.original, 0, style, originalX, y);
  });
  return canvas.encode();
}

/** One bar chart of a 256-way softmax. */
export interface HistogramPanel {
  /** Probability of each value 0..255. */
  probs: Float64Array | Float32Array;
  color: "r" | "g" | "b" | "grey";
  /** The true value, drawn as a thin black vertical line. */
  marker?: number;
}

/** Options for {@link histogramFigure}. */
export interface HistogramOptions {
  /** Panels per row; default ⌈√panels⌉. */
  cols?: number;
  /** Panel width including its margins; the plot gets ⌊(panelWidth − 12) / 256⌋ pixels per bar. Default 524. */
  panelWidth?: number;
  /** Panel height including its margins; default 160. */
  panelHeight?: number;
}

/** White space around each panel's plot area. */
const MARGIN = 6;

/**
 * Draws softmax histograms like the paper's Fig. 6: per panel, one bar per value 0..255 with height
 * proportional to its probability (the largest fills the plot), a black baseline, a light frame and an
 * optional marker at the true value. Returns the PNG file bytes.
 */
export function histogramFigure(panels: readonly HistogramPanel[], opts: HistogramOptions = {}): Uint8Array {
  const panelW = opts.panelWidth ?? 2 * 256 + 2 * MARGIN;
  const panelH = opts.panelHeight ?? 160;
  const barW = Math.floor((panelW - 2 * MARGIN) / 256);
  if (barW < 1) {
    throw new Error(`histogramFigure: panelWidth must be at least ${256 + 2 * MARGIN}, got ${panelW}`);
  }
  if (!Number.isInteger(panelH) || panelH < 2 * MARGIN + 2) {
    throw new Error(
      `histogramFigure: panelHeight must be an integer of at least ${2 * MARGIN + 2}, got ${panelH}`,
    );
  }
  if (panels.length === 0) throw new Error("histogramFigure: no panels");
  panels.forEach((p, i) => {
    const where = `histogramFigure: panel ${i}`;
    if (p.probs.length !== 256) throw new Error(`${where}: ${p.probs.length} probabilities, expected 256`);
    if (!p.probs.every((v) => Number.isFinite(v) && v >= 0)) {
      throw new Error(`${where}: probabilities must be finite and non-negative`);
    }
    if (p.marker !== undefined && !(Number.isInteger(p.marker) && p.marker >= 0 && p.marker < 256)) {
      throw new Error(`${where}: marker must be an integer in 0..255, got ${p.marker}`);
    }
  });

  const cols = Math.min(panels.length, opts.cols ?? Math.ceil(Math.sqrt(panels.length)));
  const rows = Math.ceil(panels.length / cols);
  const canvas = new Canvas(cols * panelW, rows * panelH, WHITE);
  const plotW = 256 * barW;
  const plotH = panelH - 2 * MARGIN;
  panels.forEach((p, i) => {
    const x0 = (i % cols) * panelW + Math.floor((panelW - plotW) / 2);
    const y0 = Math.floor(i / cols) * panelH + MARGIN;
    // Frame just outside the plot area; its bottom edge is the black baseline.
    canvas.rect(x0 - 1, y0 - 1, plotW + 2, 1, FRAME_GREY);
    canvas.rect(x0 - 1, y0 - 1, 1, plotH + 2, FRAME_GREY);
    canvas.rect(x0 + plotW, y0 - 1, 1, plotH + 2, FRAME_GREY);
    canvas.rect(x0 - 1, y0 + plotH, plotW + 2, 1, BLACK);
    const max = Math.max(...p.probs);
    if (max > 0) {
      for (let v = 0; v < 256; v++) {
        const h = Math.round((p.probs[v] / max) * plotH);
        canvas.rect(x0 + v * barW, y0 + plotH - h, barW, h, BAR_COLORS[p.color]);
      }
    }
    if (p.marker !== undefined) canvas.rect(x0 + p.marker * barW + Math.floor(barW / 2), y0, 1, plotH, BLACK);
  });
  return canvas.encode();
}
