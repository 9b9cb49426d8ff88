/**
 * The WebGPU device: picks a real GPU when one is present, else the software adapter, and says which.
 * Every buffer and pipeline the project creates goes through {@link Gpu}, so buffer creation can be
 * counted (no allocation inside a training step) and errors can name the op that caused them.
 */

import { defaultPolicy, type KernelPolicy } from "./policy.ts";

/** What `deno task info` prints and every result row records. */
export interface AdapterSummary {
  description: string;
  vendor: string;
  architecture: string;
  /** Best guess of the native backend: vulkan, gl, metal, dx12 or unknown. */
  backend: string;
  /** True for a software adapter (Mesa llvmpipe / lavapipe, SwiftShader, WARP). */
  fallback: boolean;
  features: string[];
  limits: Record<string, number>;
}

/** Limits this project depends on, requested at the adapter's maximum. */
const LIMITS = [
  "maxBufferSize",
  "maxStorageBufferBindingSize",
  "maxStorageBuffersPerShaderStage",
  "maxComputeWorkgroupStorageSize",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupSizeX",
  "maxComputeWorkgroupSizeY",
  "maxComputeWorkgroupSizeZ",
  "maxComputeWorkgroupsPerDimension",
  "maxUniformBufferBindingSize",
  "maxDynamicUniformBuffersPerPipelineLayout",
  "minStorageBufferOffsetAlignment",
  "minUniformBufferOffsetAlignment",
] as const;

/** Optional features used when present (each has a tested fallback). */
const OPTIONAL_FEATURES = ["shader-f16", "subgroups", "timestamp-query"] as const;

/** The most steps (rows, diagonals) a recurrent layer may take. */
const MAX_STEPS = 1024;

export const NO_ADAPTER_MESSAGE = "no WebGPU adapter found. On Linux without a GPU install Mesa's software " +
  "Vulkan driver (Debian/Ubuntu: `apt-get install -y mesa-vulkan-drivers libvulkan1`) or run where Mesa's " +
  "OpenGL llvmpipe is present (libegl1 libgl1-mesa-dri); with a GPU, install its Vulkan driver.";

export class GpuError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "GpuError";
  }
}

/** The device plus the project's bookkeeping: pipeline cache, buffer count, collected errors. */
export class Gpu {
  /** Number of GPU buffers created so far (tests assert it does not grow inside a step loop). */
  buffersCreated = 0;
  readonly summary: AdapterSummary;
  /** The kernel variants graphs built from now on use (tests switch it to certify every variant). */
  policy: KernelPolicy;
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly errors: string[] = [];
  private lostReason: string | null = null;
  private stepUniforms: GPUBuffer | null = null;

  constructor(readonly adapter: GPUAdapter, readonly device: GPUDevice) {
    this.summary = summarize(adapter, device);
    this.policy = defaultPolicy(this.summary.fallback, this.summary.backend);
    device.addEventListener("uncapturederror", (e) => {
      this.errors.push((e as GPUUncapturedErrorEvent).error.message);
    });
    device.lost.then((info) => {
      this.lostReason = `${info.reason}: ${info.message}`;
    });
  }

  get limits(): GPUSupportedLimits {
    return this.device.limits;
  }

  get isFallback(): boolean {
    return this.summary.fallback;
  }

  hasFeature(name: GPUFeatureName): boolean {
    return this.device.features.has(name);
  }

  createBuffer(label: string, size: number, usage: number): GPUBuffer {
    if (size > this.limits.maxBufferSize) {
      throw new GpuError(
        `${label}: buffer of ${size} bytes exceeds this adapter's maxBufferSize ${this.limits.maxBufferSize}`,
      );
    }
    this.buffersCreated++;
    return this.device.createBuffer({ label, size, usage });
  }

  /**
   * A compute pipeline for WGSL `code` with entry point `main`, cached by source text. Kernel sources are
   * generated per shape, so equal shapes share one pipeline.
   */
  pipeline(label: string, code: string): GPUComputePipeline {
    let p = this.pipelines.get(code);
    if (!p) {
      const module = this.device.createShaderModule({ label, code });
      p = this.device.createComputePipeline({
        label,
        layout: "auto",
        compute: { module, entryPoint: "main" },
      });
      this.pipelines.set(code, p);
    }
    return p;
  }

  get pipelineCount(): number {
    return this.pipelines.size;
  }

  bindGroup(label: string, pipeline: GPUComputePipeline, entries: GPUBindingResource[]): GPUBindGroup {
    return this.device.createBindGroup({
      label,
      layout: pipeline.getBindGroupLayout(0),
      entries: entries.map((resource, binding) => ({ binding, resource })),
    });
  }

  /**
   * The binding of a 4-byte uniform holding step index `t`, for kernels that run once per row or
   * diagonal of a recurrent layer. One shared buffer holds every index at its own aligned slot.
   */
  stepBinding(t: number): GPUBufferBinding {
    const slot = Math.max(256, this.limits.minUniformBufferOffsetAlignment);
    if (!Number.isInteger(t) || t < 0 || t >= MAX_STEPS) throw new GpuError(`step index ${t} out of range`);
    if (!this.stepUniforms) {
      this.stepUniforms = this.createBuffer(
        "step indices",
        slot * MAX_STEPS,
        GPUBufferUsage.UNIFORM |
          GPUBufferUsage.COPY_DST,
      );
      const data = new Uint32Array((slot / 4) * MAX_STEPS);
      for (let i = 0; i < MAX_STEPS; i++) data[(i * slot) / 4] = i;
      this.device.queue.writeBuffer(this.stepUniforms, 0, data);
    }
    return { buffer: this.stepUniforms, offset: t * slot, size: 16 };
  }

  /**
   * Runs `fn` inside validation, out-of-memory and internal error scopes and throws a {@link GpuError}
   * naming `what` if any of them caught an error.
   */
  async scoped<T>(what: string, fn: () => T): Promise<T> {
    const d = this.device;
    d.pushErrorScope("internal");
    d.pushErrorScope("out-of-memory");
    d.pushErrorScope("validation");
    let result: T | undefined;
    let thrown: unknown = null;
    try {
      result = fn();
    } catch (e) {
      thrown = e;
    }
    const found = [];
    for (let i = 0; i < 3; i++) {
      const err = await d.popErrorScope();
      if (err) found.push(err.message);
    }
    if (found.length) throw new GpuError(`${what}: ${found.join("; ")}`);
    if (thrown) throw thrown;
    return result as T;
  }

  /** Throws if the device was lost or reported an error since the last check. */
  check(what: string): void {
    if (this.lostReason) throw new GpuError(`${what}: the GPU device was lost (${this.lostReason})`);
    if (this.errors.length) {
      const msg = this.errors.splice(0).join("; ");
      throw new GpuError(`${what}: ${msg}`);
    }
  }

  /** Waits until the queue has finished all submitted work, then checks for errors. */
  async sync(what: string): Promise<void> {
    await this.device.queue.onSubmittedWorkDone();
    this.check(what);
  }

  destroy(): void {
    this.device.destroy();
  }
}

export interface OpenOptions {
  /** Ask for the software adapter even where a GPU is present. */
  forceFallback?: boolean;
}

/** Opens the best adapter: a real GPU when present, else the software adapter. */
export async function openGpu(options: OpenOptions = {}): Promise<Gpu> {
  if (!("gpu" in navigator) || !navigator.gpu) throw new GpuError(NO_ADAPTER_MESSAGE);
  if (!Deno.env.get("XDG_RUNTIME_DIR")) quietVulkanRuntimeDirWarning();
  const adapter = await navigator.gpu.requestAdapter({
    powerPreference: "high-performance",
    forceFallbackAdapter: options.forceFallback ?? false,
  });
  if (!adapter) throw new GpuError(NO_ADAPTER_MESSAGE);
  const requiredLimits: Record<string, number> = {};
  for (const name of LIMITS) requiredLimits[name] = adapter.limits[name];
  const requiredFeatures = OPTIONAL_FEATURES.filter((f) => adapter.features.has(f)) as GPUFeatureName[];
  return new Gpu(adapter, await requestDevice(adapter, requiredLimits, requiredFeatures));
}

/**
 * Deno's adapter does not list "subgroups" among its features even where its device offers them (Mesa's
 * lavapipe on Vulkan does, with 8 lanes), so they are asked for by trying; an adapter without them
 * refuses the request and the device is made without.
 */
async function requestDevice(
  adapter: GPUAdapter,
  requiredLimits: Record<string, number>,
  features: GPUFeatureName[],
): Promise<GPUDevice> {
  const subgroups = "subgroups" as GPUFeatureName;
  if (!features.includes(subgroups)) {
    try {
      return await adapter.requestDevice({ requiredLimits, requiredFeatures: [...features, subgroups] });
    } catch {
      // Not offered: the kernels' subgroup variants are then never chosen.
    }
  }
  return await adapter.requestDevice({ requiredLimits, requiredFeatures: features });
}

/** Vulkan loaders complain when XDG_RUNTIME_DIR is unset; point it at a private temporary directory. */
function quietVulkanRuntimeDirWarning(): void {
  try {
    Deno.env.set("XDG_RUNTIME_DIR", Deno.makeTempDirSync({ prefix: "pixelrnn-xdg-" }));
  } catch {
    // Without env or write permission the warning is cosmetic; carry on.
  }
}

function summarize(adapter: GPUAdapter, device: GPUDevice): AdapterSummary {
  const info = adapter.info;
  const limits: Record<string, number> = {};
  for (const name of LIMITS) limits[name] = device.limits[name];
  const description = info.description || info.device || "unknown adapter";
  const fallback = info.isFallbackAdapter ?? /llvmpipe|lavapipe|swiftshader|warp/i.test(description);
  return {
    description,
    vendor: info.vendor,
    architecture: info.architecture,
    backend: guessBackend(device),
    fallback,
    features: [...device.features].sort(),
    limits,
  };
}

/**
 * Deno does not report the native backend. DENO_WEBGPU_BACKEND names it when set; otherwise wgpu's GL
 * backend exposes 16 storage buffers per stage and Vulkan/Metal/DX12 more.
 */
function guessBackend(device: GPUDevice): string {
  const env = Deno.env.get("DENO_WEBGPU_BACKEND");
  if (env) return env;
  if (Deno.build.os === "darwin") return "metal";
  if (Deno.build.os === "windows") return "dx12 or vulkan";
  return device.limits.maxStorageBuffersPerShaderStage <= 16 ? "gl" : "vulkan";
}

/** One line naming the adapter, as printed by the CLI and written into result rows. */
export function adapterLine(s: AdapterSummary): string {
  return `${s.description} (${s.backend}${s.fallback ? ", software fallback" : ""})`;
}
