/**
 * Submits one command buffer per step and reads a small result (the loss, and at times a state check)
 * back through a ring of staging buffers, `depth` steps late, so the host never waits for the GPU inside
 * a loop unless the GPU is `depth` steps behind (which is the back-pressure a loop wants).
 */
import { type Gpu, GpuError } from "./device.ts";
import type { Tensor } from "./tensor.ts";

export class ReadbackRing {
  private readonly staging: GPUBuffer[];
  private readonly pending: (Promise<void> | null)[];
  private submitted = 0;
  private collected = 0;

  constructor(readonly gpu: Gpu, readonly label: string, readonly bytes: number, readonly depth = 3) {
    this.staging = Array.from(
      { length: depth },
      (_, i) =>
        gpu.createBuffer(`${label} readback ${i}`, bytes, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST),
    );
    this.pending = new Array(depth).fill(null);
  }

  /**
   * Encodes one step with `encode`, copies `src` (one tensor's first `bytes`, or several tensors whole,
   * one after another) into the next staging buffer, submits, and returns the staging buffer's contents
   * for the step submitted `depth` steps earlier (null while the ring fills).
   */
  async step(encode: (enc: GPUCommandEncoder) => void, src: Tensor | Tensor[]): Promise<Float32Array | null> {
    const slot = this.submitted % this.depth;
    const out = this.pending[slot] ? await this.collect(slot) : null;
    const enc = this.gpu.device.createCommandEncoder({ label: this.label });
    encode(enc);
    if (Array.isArray(src)) {
      let at = 0;
      for (const t of src) {
        if (at + t.byteSize > this.bytes) {
          throw new GpuError(`${this.label}: ${t.label} does not fit the ${this.bytes}-byte readback`);
        }
        enc.copyBufferToBuffer(t.buffer, t.offset, this.staging[slot], at, t.byteSize);
        at += t.byteSize;
      }
    } else enc.copyBufferToBuffer(src.buffer, src.offset, this.staging[slot], 0, this.bytes);
    this.gpu.device.queue.submit([enc.finish()]);
    this.pending[slot] = this.staging[slot].mapAsync(GPUMapMode.READ);
    this.submitted++;
    return out;
  }

  /** Results of every submitted step not yet returned, oldest first. */
  async drain(): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    while (this.collected < this.submitted) out.push(await this.collect(this.collected % this.depth));
    return out;
  }

  private async collect(slot: number): Promise<Float32Array> {
    await this.pending[slot];
    this.pending[slot] = null;
    const data = new Float32Array(this.staging[slot].getMappedRange().slice(0));
    this.staging[slot].unmap();
    this.collected++;
    this.gpu.check(this.label);
    return data;
  }

  destroy(): void {
    for (const b of this.staging) b.destroy();
  }
}
