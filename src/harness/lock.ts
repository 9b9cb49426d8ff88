/**
 * An exclusive lock for files that several processes read, change and write back: a results file that
 * concurrent `repro` runs update, and the table's curve file. Without it, two runs that read the file
 * before either writes would each write back only their own rows.
 */
import { dirname } from "node:path";
import { oneLineReason, WriteError } from "./atomic.ts";

/** The lock file that guards `path`: `<path>.lock`, present only while a process holds the lock. */
export function lockPath(path: string): string {
  return `${path}.lock`;
}

/**
 * Runs `update` while holding the lock on `path`, waiting for another holder to finish first. The lock
 * is flock(2) on `<path>.lock`, so the kernel releases it when a holder dies, even by kill -9; the holder
 * removes the file when done, and a waiter that then finds its lock on a removed file tries again.
 */
export async function withFileLock<T>(path: string, update: () => Promise<T>): Promise<T> {
  const lock = lockPath(path);
  for (;;) {
    let file: Deno.FsFile;
    try {
      await Deno.mkdir(dirname(lock), { recursive: true });
      file = await Deno.open(lock, { read: true, write: true, create: true });
    } catch (e) {
      throw new WriteError(`${lock}: cannot create the lock file (${oneLineReason(e)})`);
    }
    try {
      await file.lock(true);
      const held = await file.stat();
      const named = await Deno.stat(lock).catch(() => null);
      // ino is null on Windows, where an open file cannot be removed anyway.
      if (named && named.ino === held.ino && named.dev === held.dev) {
        try {
          return await update();
        } finally {
          await Deno.remove(lock).catch(() => {});
        }
      }
    } finally {
      file.close();
    }
  }
}
