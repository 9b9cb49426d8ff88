/** Shared plumbing of the command-line entry points: arguments, errors as one line, stop signals, the device. */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { type Gpu, GpuError, openGpu } from "../../engine/device.ts";
import { CheckpointError } from "../../engine/safetensors.ts";
import { ConfigError } from "../../models/config.ts";
import { WriteError } from "../atomic.ts";
import { ResultsError } from "../csv.ts";
import { CurveError } from "../curves.ts";
import { DatasetError } from "../datasets/types.ts";
import { MismatchError } from "../fit.ts";
import { ImplausibleResult } from "../metrics.ts";
import { TrainingDiverged } from "../train.ts";

/** Thrown for bad command-line usage; printed with the command's --help hint, exit code 2. */
export class UsageError extends Error {}

/**
 * node:util parseArgs over `config.args` (default Deno.args), with its complaints (unknown or ambiguous
 * options) as UsageErrors. A negative number after an option that takes a value is that value
 * (`--lr -1`), so that the option's own check can say what it expects.
 */
export function parseCli<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  const args = [...(config.args ?? Deno.args)];
  for (let i = 0; i + 1 < args.length; i++) {
    const name = args[i].match(/^--([^=]+)$/)?.[1];
    if (name && config.options?.[name]?.type === "string" && /^-[\d.]/.test(args[i + 1])) {
      args.splice(i, 2, `--${name}=${args[i + 1]}`);
    }
  }
  try {
    return parseArgs({ ...config, args } as T);
  } catch (e) {
    if ((e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      throw new UsageError((e as Error).message.split("\n")[0]);
    }
    throw e;
  }
}

/** Failures of input, environment or training, told in one line; anything else is a bug, with its stack. */
const EXPECTED = [
  UsageError,
  DatasetError,
  CheckpointError,
  ConfigError,
  GpuError,
  ImplausibleResult,
  TrainingDiverged,
  MismatchError,
  ResultsError,
  CurveError,
  WriteError,
];

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

/** Exit codes of a run stopped by a signal: 128 + the signal's number, as a shell reports it. */
const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143 } as const;

/**
 * A stop request from Ctrl-C (SIGINT) or from a job scheduler (SIGTERM: Slurm's preemption, `scancel`):
 * the first signal raises it (the run then stops after its current step, writing a checkpoint), a second
 * one exits at once.
 */
export class StopSignal {
  /** The first signal received, if any. */
  private received: keyof typeof SIGNAL_EXIT | null = null;

  constructor() {
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      try {
        Deno.addSignalListener(signal, () => {
          if (this.received) Deno.exit(SIGNAL_EXIT[signal]);
          this.received = signal;
          const again = signal === "SIGINT" ? "Ctrl-C" : signal;
          console.error(
            `\n${signal}: stopping after this step and writing a checkpoint (${again} again to abort)`,
          );
        });
      } catch {
        // Signals are unavailable on some platforms; runs then stop only when done.
      }
    }
  }

  /** For `shouldStop`: true once a signal came. */
  readonly requested = (): boolean => this.received !== null;

  /** The exit code of a run that stopped for the signal. */
  get exitCode(): number {
    return SIGNAL_EXIT[this.received ?? "SIGINT"];
  }
}

/** A plain decimal integer, as people write counts: no exponent, sign, hex or spaces. */
const INTEGER = /^\d+$/;
/** A decimal number, with an optional exponent (1e-3). */
const DECIMAL = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

export function positiveInt(name: string, v: string | undefined, fallback?: number): number {
  if (v === undefined) {
    if (fallback === undefined) throw new UsageError(`--${name} is required`);
    return fallback;
  }
  const n = Number(v);
  if (!INTEGER.test(v) || !Number.isSafeInteger(n) || n <= 0) {
    throw new UsageError(`--${name} must be a positive integer in plain decimal, got ${JSON.stringify(v)}`);
  }
  return n;
}

/** The number `v` given for --`name`, or a UsageError saying what is expected. */
export function decimal(name: string, v: string, expected: string, ok: (x: number) => boolean): number {
  const x = Number(v);
  if (!DECIMAL.test(v) || !Number.isFinite(x) || !ok(x)) {
    throw new UsageError(`--${name} must be ${expected}, got ${JSON.stringify(v)}`);
  }
  return x;
}

export function positiveNumber(name: string, v: string | undefined, fallback: number): number {
  return v === undefined ? fallback : decimal(name, v, "a positive number", (x) => x > 0);
}

/** Formats rows of cells as aligned text columns. */
export function textTable(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd()).join("\n");
}
