/**
 * Dataset fingerprints.
 *
 * A dataset is read from one or more members: files, tar members, or the uncompressed content of a `.gz`
 * file (so `x.amat` and `x.amat.gz` fingerprint alike). Each member gets the SHA-256 of the bytes that went
 * into the set. The set's fingerprint is:
 *
 * - one member: that member's SHA-256;
 * - several: the SHA-256 of the `sha256sum`-style text `<hex>  <name>\n`, one line per member, sorted by name
 *   (plain code-unit order, never locale order), as UTF-8.
 *
 * @module
 */
import { createHash } from "node:crypto";

/** The SHA-256 of one member of a dataset. */
export interface MemberDigest {
  /** Name of the member relative to the dataset root (without a `.gz` suffix when the content was gunzipped). */
  name: string;
  /** Lower-case hex SHA-256 of the member's bytes. */
  sha256: string;
}

/** Compares names by UTF-16 code units, the locale-independent order used for every "sorted by name". */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Lower-case hex SHA-256 of a byte array. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** The fingerprint of a dataset made of `members` (see the module doc for the exact rule). */
export function fingerprintMembers(members: MemberDigest[]): string {
  if (members.length === 1) return members[0].sha256;
  const lines = [...members].sort((a, b) => compareNames(a.name, b.name))
    .map((m) => `${m.sha256}  ${m.name}\n`);
  return createHash("sha256").update(lines.join(""), "utf8").digest("hex");
}
