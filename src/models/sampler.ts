/**
 * Generation, strictly sequential (pixel by pixel in raster order, R then G then B within a pixel):
 * for each sub-pixel the forward pass is re-run on the images generated so far and the sub-pixel is
 * drawn from its conditional and written into both the target image and the network input. Everything
 * is recorded once and submitted a row at a time; nothing is read back until the end.
 *
 * This is the simple, exact sampler: one full forward pass per sub-pixel. An incremental sampler that
 * reuses the rows already computed is left open (the scan and conv layers keep their states
 * addressable for it).
 */
import { Graph } from "../engine/graph.ts";
import { recordSampleBernoulli, recordSampleCategorical, SampleRng } from "../engine/ops/sample.ts";
import { GpuError } from "../engine/device.ts";
import type { ModelGraph, PixelModel } from "./model.ts";

export interface SampleOptions {
  /** Random key: the same (seed, stream) gives the same images. */
  seed: number;
  stream?: number;
  /** Known images (u8, NHWC, one per sample): rows [0, keepRows) are kept, the rest generated. */
  prefix?: Uint8Array;
  keepRows?: number;
  /** Small images (u8) for a Multi-Scale conditional model, one per sample. */
  small?: Uint8Array;
  /** Called after each generated row has been submitted. */
  onRow?: (row: number) => void;
}

export class Sampler {
  readonly mg: ModelGraph;
  private readonly sg: Graph;
  private readonly rng: SampleRng;

  constructor(readonly model: PixelModel, batch: number) {
    const c = model.config;
    this.mg = model.buildGraph(batch, false, "sample");
    this.sg = new Graph(model.gpu, "sampler");
    this.rng = new SampleRng(this.sg, c.height * c.width * c.channels);
    const { scale, shift } = model.scaling;
    const record = c.output === "binary" ? recordSampleBernoulli : recordSampleCategorical;
    for (let y = 0; y < c.height; y++) {
      for (let x = 0; x < c.width; x++) {
        for (let ch = 0; ch < c.channels; ch++) {
          record(this.sg, this.mg.logits, y, x, ch, this.mg.targets, this.mg.input, {
            rng: this.rng,
            inputScale: scale,
            inputShift: shift,
          });
        }
      }
    }
  }

  get batch(): number {
    return this.mg.batch;
  }

  /** Generates `batch` images (u8 values, NHWC). */
  async sample(o: SampleOptions): Promise<Uint8Array> {
    const c = this.model.config, B = this.mg.batch;
    const per = c.height * c.width * c.channels;
    const keep = o.keepRows ?? 0;
    if (keep && !o.prefix) throw new GpuError("keepRows needs prefix images");
    if (o.prefix && o.prefix.length !== B * per) {
      throw new GpuError(`prefix of ${o.prefix.length} values for ${B} images`);
    }
    const start = o.prefix ? o.prefix : new Uint8Array(B * per);
    const { scale, shift } = this.model.scaling;
    this.mg.targets.write(Uint32Array.from(start));
    this.mg.input.write(Float32Array.from(start, (v) => v * scale + shift));
    if (this.mg.condition) {
      if (!o.small) throw new GpuError("a conditional model samples given small images");
      this.mg.condition.write(Float32Array.from(o.small, (v) => v * scale + shift));
    }
    this.rng.setKey(o.seed, o.stream ?? 0);
    const d = this.model.gpu.device;
    const rowSubpixels = c.width * c.channels;
    for (let y = keep; y < c.height; y++) {
      const enc = d.createCommandEncoder({ label: `sample row ${y}` });
      const pass = enc.beginComputePass({ label: `sample row ${y}` });
      for (let s = y * rowSubpixels; s < (y + 1) * rowSubpixels; s++) {
        Graph.encode(pass, this.mg.graph.forward, [this.sg.forward[s]]);
      }
      pass.end();
      d.queue.submit([enc.finish()]);
      o.onRow?.(y);
    }
    const out = await this.mg.targets.readU32();
    return Uint8Array.from(out);
  }

  destroy(): void {
    this.sg.destroy();
    this.mg.graph.destroy();
  }
}
