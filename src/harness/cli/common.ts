/** Shared plumbing of the command-line entry points: errors as one line, Ctrl-C, the device. */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { type Gpu, GpuError, openGpu } from "../../engine/device.ts";
import { CheckpointError } from "../../engine/safetensors.ts";
import { DatasetError } from "../datasets/types.ts";
import { ImplausibleResult } from "../metrics.ts";
import { TrainingDiverged } from "../train.ts";

/** Thrown for bad command-line usage; printed with the command's --help hint, exit code 2. */
export class UsageError extends Error {}

/**
 * node:util parseArgs (the caller passes `args: Deno.args`), with its complaints (unknown or ambiguous
 * options) as UsageErrors.
 */
export function parseCli<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (e) {
    if ((e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      throw new UsageError((e as Error).message.split("\n")[0]);
    }
    throw e;
  }
}

const EXPECTED = [UsageError, DatasetError, CheckpointError, GpuError, ImplausibleResult, TrainingDiverged];

/** Runs a command's main; expected failures print one line and exit non-zero, without a stack trace. */
export async function runMain(command: string, main: () => Promise<number | void>): Promise<void> {
  try {
    Deno.exit((await main()) ?? 0);
  } catch (e) {
    if (EXPECTED.some((k) => e instanceof k)) {
      console.error(`${command}: ${(e as Error).message}`);
      if (e instanceof UsageError) console.error(`(see deno task ${command} --help)`);
      Deno.exit(e instanceof UsageError ? 2 : 1);
    }
    throw e;
  }
}

/** The device, or the one-line message naming what to install. */
export async function device(): Promise<Gpu> {
  return await openGpu();
}

/**
 * Returns a flag that the first Ctrl-C raises (the run then stops after its current step, writing a
 * checkpoint); a second Ctrl-C exits at once.
 */
export function stopOnCtrlC(): () => boolean {
  let stop = false;
  try {
    Deno.addSignalListener("SIGINT", () => {
      if (stop) Deno.exit(130);
      stop = true;
      console.error("\nstopping after this step and writing a checkpoint (Ctrl-C again to abort)");
    });
  } catch {
    // Signals are unavailable on some platforms; runs then stop only when done.
  }
  return () => stop;
}

export function positiveInt(name: string, v: string | undefined, fallback?: number): number {
  if (v === undefined) {
    if (fallback === undefined) throw new UsageError(`--${name} is required`);
    return fallback;
  }
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) {
    throw new UsageError(`--${name} must be a positive integer, got ${JSON.stringify(v)}`);
  }
  return n;
}

export function positiveNumber(name: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) {
    throw new UsageError(`--${name} must be a positive number, got ${JSON.stringify(v)}`);
  }
  return n;
}

/** Formats rows of cells as aligned text columns. */
export function textTable(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd()).join("\n");
}
