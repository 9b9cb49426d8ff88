/**
 * Per-dispatch GPU timing with timestamp queries (when the adapter offers `timestamp-query`): each
 * dispatch runs in its own compute pass with begin/end timestamps. For finding where a step's time goes;
 * the extra passes make the total somewhat larger than a real step's.
 */
import { type Gpu, GpuError } from "./device.ts";
import type { Dispatch } from "./graph.ts";

export interface DispatchTime {
  label: string;
  ms: number;
}

export async function profileDispatches(gpu: Gpu, dispatches: Dispatch[]): Promise<DispatchTime[]> {
  if (!gpu.hasFeature("timestamp-query")) throw new GpuError("profiling needs the timestamp-query feature");
  const n = dispatches.length;
  const d = gpu.device;
  const set = d.createQuerySet({ type: "timestamp", count: 2 * n });
  const resolve = gpu.createBuffer(
    "profile resolve",
    16 * n,
    GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
  );
  const read = gpu.createBuffer("profile read", 16 * n, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
  const enc = d.createCommandEncoder({ label: "profile" });
  dispatches.forEach((x, i) => {
    const pass = enc.beginComputePass({
      label: x.label,
      timestampWrites: { querySet: set, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 },
    });
    pass.setPipeline(x.pipeline);
    pass.setBindGroup(0, x.bindGroup);
    pass.dispatchWorkgroups(...x.workgroups);
    pass.end();
  });
  enc.resolveQuerySet(set, 0, 2 * n, resolve, 0);
  enc.copyBufferToBuffer(resolve, 0, read, 0, 16 * n);
  d.queue.submit([enc.finish()]);
  await read.mapAsync(GPUMapMode.READ);
  const t = new BigUint64Array(read.getMappedRange().slice(0));
  read.unmap();
  for (const b of [resolve, read]) b.destroy();
  set.destroy();
  gpu.check("profiling");
  return dispatches.map((x, i) => ({ label: x.label, ms: Number(t[2 * i + 1] - t[2 * i]) / 1e6 }));
}

/** Sums times by label with digits removed (so "step 12" and "step 13" add up), largest first. */
export function summarize(times: DispatchTime[]): DispatchTime[] {
  const m = new Map<string, number>();
  for (const { label, ms } of times) {
    const key = label.replace(/\d+/g, "#");
    m.set(key, (m.get(key) ?? 0) + ms);
  }
  return [...m].map(([label, ms]) => ({ label, ms })).sort((a, b) => b.ms - a.ms);
}
