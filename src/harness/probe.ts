/**
 * Output locations checked before any work starts: a command that would train for hours and then fail
 * to write its checkpoint or results fails at once instead, in one line naming the path.
 */
import { basename, dirname, join } from "node:path";
import { oneLineReason, WriteError } from "./atomic.ts";

/** The folders of `dir` and its parents that do not exist yet, deepest first. */
async function missingFolders(dir: string): Promise<string[]> {
  const missing: string[] = [];
  for (let d = dir; !(await Deno.stat(d).then(() => true, () => false)); d = dirname(d)) {
    missing.push(d);
    if (dirname(d) === d) break;
  }
  return missing;
}

/**
 * Checks that `path` can be written: creates and removes a probe file next to it (the atomic writes
 * put their temp files there too), creating the folders on the way and removing them again, so that a
 * check leaves nothing behind. A target that is a directory is refused. Throws a {@link WriteError}
 * naming `path`.
 */
export async function probeOutput(path: string): Promise<void> {
  const target = await Deno.stat(path).catch(() => null);
  if (target?.isDirectory) throw new WriteError(`${path}: cannot write (it is a directory)`);
  const dir = dirname(path);
  const created = await missingFolders(dir);
  const tag = crypto.getRandomValues(new Uint32Array(1))[0].toString(16);
  const probe = join(dir, `.${basename(path)}.${Deno.pid}.${tag}.probe`);
  try {
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeFile(probe, new Uint8Array(), { createNew: true });
    await Deno.remove(probe);
  } catch (e) {
    throw new WriteError(`${path}: cannot write (${oneLineReason(e)})`);
  } finally {
    for (const d of created) await Deno.remove(d).catch(() => {});
  }
}

/** {@link probeOutput} of every path, in order. */
export async function probeOutputs(paths: Iterable<string>): Promise<void> {
  for (const p of new Set(paths)) await probeOutput(p);
}
