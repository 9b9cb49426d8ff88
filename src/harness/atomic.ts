/**
 * Atomic file replacement, for checkpoints and results: a reader (or a crash) sees either the old file or
 * the complete new one, never a partial write.
 */
import { dirname } from "node:path";

/** A file that could not be written; the message is one line naming the path and why. */
export class WriteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WriteError";
  }
}

/**
 * Why a file operation failed, in one line: the OS reason without the operation and path Deno appends
 * ("No space left on device (os error 28)"), since those name a temp file, not the target.
 */
export function oneLineReason(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return message.match(/^.*?\(os error \d+\)/)?.[0] ?? message.split("\n")[0];
}

/**
 * Writes `data` to `path` atomically: the bytes go to a uniquely named temp file in the same directory
 * (a rename is only atomic within one file system), which is flushed to disk and then renamed over the
 * target. Creates the directory if needed. On failure the temp file is removed, the target is untouched
 * and a {@link WriteError} names the target.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const dir = dirname(path);
  const suffix = crypto.getRandomValues(new Uint32Array(1))[0].toString(16).padStart(8, "0");
  const tmp = `${path}.${Deno.pid}.${suffix}.tmp`;
  try {
    await Deno.mkdir(dir, { recursive: true });
    await writeAndSync(tmp, bytes);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw new WriteError(`${path}: cannot write (${oneLineReason(e)})`);
  }
  if (Deno.build.os !== "windows") {
    // Persist the directory entry too, so the new name survives a power loss.
    using d = await Deno.open(dir, { read: true });
    await d.sync();
  }
}

async function writeAndSync(path: string, bytes: Uint8Array): Promise<void> {
  using file = await Deno.open(path, { write: true, createNew: true });
  for (let at = 0; at < bytes.length;) at += await file.write(bytes.subarray(at));
  // Without this the rename can reach the disk before the data, leaving an empty file after a crash.
  await file.sync();
}
