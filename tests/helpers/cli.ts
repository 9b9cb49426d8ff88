/** Runs a `deno task` command as a user does, from the repository or from another working directory. */
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

export interface TaskResult {
  code: number;
  stdout: string;
  stderr: string;
  /** The lines the command printed as errors ("<command>: ..."). */
  errors: string[];
}

/** The arguments of `deno run` for command `name` (train, eval, sample, info, repro). */
export function taskArgs(name: string, args: string[]): string[] {
  return ["run", "-A", `--config=${ROOT}deno.json`, `${ROOT}src/harness/cli/${name}.ts`, ...args];
}

/**
 * Runs command `name` with `args`; `cwd` (default: the repository) is where its relative paths
 * (results/, runs/) land, so a test can keep them out of the repository.
 */
export async function task(name: string, args: string[], cwd = ROOT): Promise<TaskResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: taskArgs(name, args),
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  const stderr = dec.decode(out.stderr);
  const errors = stderr.trim().split("\n").filter((l) => l.startsWith(`${name}:`));
  return { code: out.code, stdout: dec.decode(out.stdout), stderr, errors };
}

/** The one error line of a failed command; throws unless it failed with one such line and no stack trace. */
export function oneError(r: TaskResult): string {
  if (r.errors.length !== 1 || r.code === 0 || /^\s+at /m.test(r.stderr)) {
    throw new Error(`expected one error line and no stack trace, exit ${r.code}:\n${r.stderr}`);
  }
  return r.errors[0];
}

/**
 * Runs command `name` with `args`, sends `signal` once its stderr shows the first training step, and
 * returns its exit code and everything it wrote to stderr.
 */
export async function signalAfterFirstStep(
  name: string,
  args: string[],
  signal: Deno.Signal,
  cwd = ROOT,
): Promise<{ code: number; stderr: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: taskArgs(name, args),
    cwd,
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  while (!seen.includes("step 1/")) {
    const { value, done } = await reader.read();
    if (done) break;
    seen += value;
  }
  child.kill(signal);
  for (let r = await reader.read(); !r.done; r = await reader.read()) seen += r.value;
  return { code: (await child.status).code, stderr: seen };
}
