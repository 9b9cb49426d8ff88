import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { PNG } from "pngjs";
import { completionFigure, histogramFigure, imageGrid } from "../src/harness/figures.ts";

interface Decoded {
  width: number;
  height: number;
  rgb(x: number, y: number): [number, number, number];
}

function decode(bytes: Uint8Array): Decoded {
  const png = PNG.sync.read(Buffer.from(bytes));
  return {
    width: png.width,
    height: png.height,
    rgb: (x, y) => {
      const at = (y * png.width + x) * 4;
      return [png.data[at], png.data[at + 1], png.data[at + 2]];
    },
  };
}

const PAD: [number, number, number] = [128, 128, 128];
const OCCLUDED: [number, number, number] = [192, 192, 192];

Deno.test("imageGrid: binary images black/white with grey padding, size from cols/pad/scale", () => {
  // 5 images of 2×3; image n has a single 1 at pixel (n % 2, n % 3).
  const images = new Uint8Array(5 * 2 * 3);
  for (let n = 0; n < 5; n++) images[n * 6 + (n % 2) * 3 + (n % 3)] = 1;
  const png = decode(imageGrid(images, 5, 2, 3, 1, { cols: 3, pad: 1, scale: 2, binary: true }));
  assert.equal(png.width, 3 * 6 + 4 * 1);
  assert.equal(png.height, 2 * 4 + 3 * 1);
  const origin = (n: number) => [1 + (n % 3) * 7, 1 + Math.floor(n / 3) * 5];
  for (let n = 0; n < 5; n++) {
    const [x0, y0] = origin(n);
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < 3; j++) {
        const white = i === n % 2 && j === n % 3;
        for (const [dx, dy] of [[0, 0], [1, 1]]) {
          assert.deepEqual(png.rgb(x0 + 2 * j + dx, y0 + 2 * i + dy), white ? [255, 255, 255] : [0, 0, 0]);
        }
      }
    }
  }
  assert.deepEqual(png.rgb(0, 0), PAD);
  assert.deepEqual(png.rgb(7, 2), PAD, "between tiles");
  assert.deepEqual(png.rgb(png.width - 2, png.height - 2), PAD, "empty sixth cell");
});

Deno.test("imageGrid: grey and RGB images keep their values", () => {
  const grey = decode(imageGrid(new Uint8Array([0, 77, 200, 255]), 1, 2, 2, 1, { pad: 0 }));
  assert.equal(grey.width, 2);
  assert.deepEqual(grey.rgb(1, 0), [77, 77, 77]);
  assert.deepEqual(grey.rgb(0, 1), [200, 200, 200]);
  const rgb = decode(imageGrid(new Uint8Array([10, 20, 30, 40, 50, 60]), 2, 1, 1, 3, { pad: 2 }));
  assert.equal(rgb.width, 2 * 1 + 3 * 2);
  assert.equal(rgb.height, 1 + 2 * 2);
  assert.deepEqual(rgb.rgb(2, 2), [10, 20, 30]);
  assert.deepEqual(rgb.rgb(5, 2), [40, 50, 60]);
});

Deno.test("imageGrid refuses inconsistent input", () => {
  assert.throws(() => imageGrid(new Uint8Array(5), 1, 2, 2, 1), /need 4 values, got 5/);
  assert.throws(
    () => imageGrid(new Uint8Array([2]), 1, 1, 1, 1, { binary: true }),
    /binary image has value 2/,
  );
  assert.throws(
    () => imageGrid(new Uint8Array(3), 1, 1, 1, 3, { binary: true }),
    /binary images have 1 channel/,
  );
  assert.throws(() => imageGrid(new Uint8Array(0), 0, 1, 1, 1), /count must be at least 1/);
  assert.throws(
    () => imageGrid(new Uint8Array(1), 1, 1, 1, 1, { scale: 0 }),
    /scale must be a positive integer/,
  );
});

Deno.test("completionFigure: occluded | completions | original with wider gaps, hidden rows grey", () => {
  const h = 4, w = 2, k = 3, pad = 1, gap = 5;
  const image = (v: number) => new Uint8Array(h * w).fill(v);
  const rows = [0, 1].map((r) => ({
    occluded: image(1),
    completions: Array.from({ length: k }, (_, j) => image((r + j) % 2)),
    original: image(1),
  }));
  const png = decode(completionFigure(rows, h, w, 1, { keepRows: 1, pad, gap, binary: true }));
  assert.equal(png.width, pad + w + gap + k * w + (k - 1) * pad + gap + w + pad);
  assert.equal(png.height, 2 * h + 3 * pad);
  const y = pad; // first row of the first figure row
  assert.deepEqual(png.rgb(pad, y), [255, 255, 255], "kept row of the occluded image");
  for (let i = 1; i < h; i++) assert.deepEqual(png.rgb(pad, y + i), OCCLUDED, `hidden row ${i}`);
  const completionsX = pad + w + gap;
  assert.deepEqual(png.rgb(completionsX - 1, y), PAD, "gap before the completions");
  assert.deepEqual(png.rgb(completionsX, y + h - 1), [0, 0, 0], "completion 1 of row 0 is fully drawn");
  assert.deepEqual(png.rgb(completionsX + w + pad, y), [255, 255, 255], "completion 2 of row 0");
  const originalX = completionsX + k * w + (k - 1) * pad + gap;
  assert.deepEqual(png.rgb(originalX - 1, y), PAD, "gap before the original");
  assert.deepEqual(png.rgb(originalX, y + h - 1), [255, 255, 255], "original is fully drawn");
  assert.deepEqual(png.rgb(completionsX, y + h + pad), [255, 255, 255], "completion 1 of row 1");
});

Deno.test("completionFigure: RGB images, default gaps, and refusals", () => {
  const img = new Uint8Array([255, 0, 0, 0, 255, 0]); // 2×1 RGB: red over green
  const png = decode(completionFigure([{ occluded: img, completions: [img], original: img }], 2, 1, 3, {
    keepRows: 1,
    scale: 2,
  }));
  // pad 2, gap 8, tile 2 px wide.
  assert.equal(png.width, 2 + 2 + 8 + 2 + 8 + 2 + 2);
  assert.deepEqual(png.rgb(2, 2), [255, 0, 0]);
  assert.deepEqual(png.rgb(3, 5), OCCLUDED);
  assert.deepEqual(png.rgb(12, 5), [0, 255, 0]);
  assert.throws(
    () => completionFigure([{ occluded: img, completions: [img], original: img }], 2, 1, 3, { keepRows: 3 }),
    /keepRows must be an integer in 0\.\.2/,
  );
  assert.throws(
    () =>
      completionFigure(
        [
          { occluded: img, completions: [img], original: img },
          { occluded: img, completions: [img, img], original: img },
        ],
        2,
        1,
        3,
        { keepRows: 1 },
      ),
    /row 1: 2 completions, row 0 has 1/,
  );
  assert.throws(
    () =>
      completionFigure([{ occluded: img, completions: [img], original: img.subarray(1) }], 2, 1, 3, {
        keepRows: 1,
      }),
    /row 0: .*need 6 values, got 5/,
  );
});

Deno.test("histogramFigure: bars scaled to the panel's max, in the panel colour, with baseline and marker", () => {
  const probs = new Float64Array(256).fill(0.001);
  probs[200] = 0.5;
  probs[10] = 0.25;
  const panels = [
    { probs, color: "r" as const, marker: 30 },
    { probs: new Float32Array(256).fill(1 / 256), color: "g" as const },
    { probs, color: "b" as const },
  ];
  const png = decode(histogramFigure(panels, { cols: 2, panelWidth: 524, panelHeight: 100 }));
  assert.equal(png.width, 2 * 524);
  assert.equal(png.height, 2 * 100);
  // Panel 0: plot area x0 = 6, barWidth 2, y0 = 6, plot height 88, baseline at y = 94.
  const x = (v: number) => 6 + 2 * v;
  const red: [number, number, number] = [214, 39, 40];
  assert.deepEqual(png.rgb(x(200), 6), red, "argmax bar reaches the top");
  assert.deepEqual(png.rgb(x(200) + 1, 93), red);
  assert.deepEqual(png.rgb(x(10), 6 + 44), red, "half-height bar");
  assert.deepEqual(png.rgb(x(10), 6 + 43), [255, 255, 255], "above the half-height bar");
  assert.deepEqual(png.rgb(x(100), 92), [255, 255, 255], "tiny probability rounds to no bar");
  assert.deepEqual(png.rgb(x(100), 94), [0, 0, 0], "baseline");
  assert.deepEqual(png.rgb(x(30) + 1, 20), [0, 0, 0], "marker line");
  assert.deepEqual(png.rgb(x(30), 93), [255, 255, 255], "marker is thin; bar 30 is empty here");
  assert.deepEqual(png.rgb(5, 50), [200, 200, 200], "frame");
  // Panel 1 (uniform): every bar full height, green.
  assert.deepEqual(png.rgb(524 + x(0), 6), [44, 160, 44]);
  assert.deepEqual(png.rgb(524 + x(255) + 1, 93), [44, 160, 44]);
  // Panel 2 sits on the second row, blue.
  assert.deepEqual(png.rgb(x(200), 100 + 6), [31, 119, 180]);
  // The empty fourth cell is white.
  assert.deepEqual(png.rgb(524 + x(200), 100 + 6), [255, 255, 255]);
});

Deno.test("histogramFigure refuses bad panels", () => {
  const ok = new Float64Array(256).fill(1 / 256);
  assert.throws(
    () => histogramFigure([{ probs: new Float64Array(10), color: "r" }]),
    /10 probabilities, expected 256/,
  );
  const neg = ok.slice();
  neg[3] = -1;
  assert.throws(() => histogramFigure([{ probs: neg, color: "r" }]), /finite and non-negative/);
  assert.throws(() => histogramFigure([{ probs: ok, color: "r", marker: 256 }]), /marker must be an integer/);
  assert.throws(
    () => histogramFigure([{ probs: ok, color: "r" }], { panelWidth: 100 }),
    /panelWidth must be at least 268/,
  );
  assert.throws(() => histogramFigure([]), /no panels/);
});
