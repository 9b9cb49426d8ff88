/** File access shared by the loaders: every failure becomes a one-line DatasetError naming the path. */
import { join } from "node:path";
import { compareNames } from "./fingerprint.ts";
import { DatasetError } from "./types.ts";

/** The first line of an error's message, for embedding in a one-line DatasetError. */
export function oneLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split("\n")[0].trim();
}

/** `Deno.stat`, with "not found" turned into a DatasetError that says what was expected at `path`. */
export async function statOrFail(path: string, expected: string): Promise<Deno.FileInfo> {
  try {
    return await Deno.stat(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new DatasetError(`${path}: not found (expected ${expected})`);
    }
    throw new DatasetError(`${path}: cannot access (${oneLine(err)})`);
  }
}

/** Reads a whole file into memory. */
export async function readWhole(path: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (err) {
    throw new DatasetError(`${path}: cannot read (${oneLine(err)})`);
  }
}

/**
 * Streams the content of `path` in chunks, gunzipping on the fly when the name ends in `.gz`.
 * A corrupt or truncated gzip stream raises a DatasetError naming the file.
 */
export async function* readChunks(path: string): AsyncGenerator<Uint8Array> {
  const gzip = path.endsWith(".gz");
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path);
  } catch (err) {
    throw new DatasetError(`${path}: cannot open (${oneLine(err)})`);
  }
  const stream = gzip ? file.readable.pipeThrough(new DecompressionStream("gzip")) : file.readable;
  const reader = stream.getReader();
  try {
    while (true) {
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await reader.read();
      } catch (err) {
        const what = gzip ? "gzip data is corrupt or truncated" : "read failed";
        throw new DatasetError(`${path}: ${what} (${oneLine(err)})`);
      }
      if (result.done) return;
      yield result.value;
    }
  } finally {
    // Closes the file when the consumer stops early; a stream that already failed rejects, which is moot here.
    await reader.cancel().catch(() => {});
  }
}

/**
 * Every regular file under `dir` (following symlinked files, not symlinked folders), as `/`-separated paths
 * relative to `dir`, sorted by name.
 */
export async function listFilesRecursive(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    const full = rel ? join(dir, rel) : dir;
    try {
      for await (const entry of Deno.readDir(full)) {
        const name = rel ? `${rel}/${entry.name}` : entry.name;
        if (entry.isDirectory) await walk(name);
        else if (entry.isFile || (entry.isSymlink && (await Deno.stat(join(dir, name))).isFile)) {
          found.push(name);
        }
      }
    } catch (err) {
      if (err instanceof DatasetError) throw err;
      throw new DatasetError(`${full}: cannot list folder (${oneLine(err)})`);
    }
  };
  await walk("");
  return found.sort(compareNames);
}

/** An append-only byte buffer that grows by doubling; `finish()` trims it to the bytes written. */
export class ByteBuilder {
  #buf: Uint8Array<ArrayBuffer>;
  #length = 0;

  constructor(initialCapacity: number) {
    this.#buf = new Uint8Array(Math.max(1, initialCapacity));
  }

  /** Appends `n` bytes and returns them as a view to be filled in. */
  grow(n: number): Uint8Array {
    const end = this.#length + n;
    if (end > this.#buf.length) {
      // transfer() reallocates in place where it can, avoiding a second full copy of a large set.
      this.#buf = new Uint8Array(this.#buf.buffer.transfer(Math.max(end, 2 * this.#buf.length)));
    }
    const view = this.#buf.subarray(this.#length, end);
    this.#length = end;
    return view;
  }

  /** The bytes written so far; the builder must not be used afterwards. */
  finish(): Uint8Array<ArrayBuffer> {
    return new Uint8Array(this.#buf.buffer.transfer(this.#length));
  }
}
