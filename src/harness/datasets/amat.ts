/** Parser for binarized `.amat` text: one image a line, tokens "0"/"1" separated by blanks. */
import { createHash } from "node:crypto";
import { ByteBuilder, readChunks } from "./io.ts";
import { DatasetError } from "./types.ts";

/** What a binarized `.amat` file holds. */
export interface AmatContent {
  /** Number of lines (images). */
  count: number;
  /** count × tokensPerLine bytes, each 0 or 1. */
  pixels: Uint8Array;
  /** Hex SHA-256 of the uncompressed text. */
  sha256: string;
}

const ZERO = 48, ONE = 49, SPACE = 32, TAB = 9, CR = 13, LF = 10;

/**
 * Reads a binarized `.amat` file (plain, or gzipped when the name ends in `.gz`), streaming: every line must
 * hold exactly `tokensPerLine` tokens, each a single "0" or "1". `expectedLines` only sizes the first buffer.
 * Any violation raises a DatasetError naming the file, the line and what was found.
 */
export async function readBinaryAmat(
  path: string,
  tokensPerLine: number,
  expectedLines: number,
): Promise<AmatContent> {
  const fail = (msg: string): never => {
    throw new DatasetError(`${path}: ${msg}`);
  };
  const hash = createHash("sha256");
  const out = new ByteBuilder(expectedLines * tokensPerLine);
  const line = new Uint8Array(tokensPerLine);
  let tokens = 0, inToken = false, lineNo = 1;
  const endLine = () => {
    if (tokens !== tokensPerLine) fail(`line ${lineNo}: expected ${tokensPerLine} tokens, found ${tokens}`);
    out.grow(tokensPerLine).set(line);
    tokens = 0;
    lineNo++;
  };
  for await (const chunk of readChunks(path)) {
    hash.update(chunk);
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i];
      if (c === ZERO || c === ONE) {
        if (inToken) {
          fail(`line ${lineNo}, token ${tokens}: expected a single "0" or "1", found a longer token`);
        }
        if (tokens === tokensPerLine) fail(`line ${lineNo}: expected ${tokensPerLine} tokens, found more`);
        line[tokens++] = c - ZERO;
        inToken = true;
      } else if (c === SPACE || c === TAB || c === CR) {
        inToken = false;
      } else if (c === LF) {
        endLine();
        inToken = false;
      } else {
        const index = inToken ? tokens : tokens + 1;
        fail(
          `line ${lineNo}, token ${index}: expected "0" or "1", found ${
            JSON.stringify(String.fromCharCode(c))
          }`,
        );
      }
    }
  }
  if (tokens > 0) endLine(); // last line without a trailing newline
  return { count: lineNo - 1, pixels: out.finish(), sha256: hash.digest("hex") };
}
