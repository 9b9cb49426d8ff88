/** Writers for small synthetic dataset files in the exact formats the loaders read (test-only). */
import { Buffer } from "node:buffer";
import { crc32, deflateRawSync } from "node:zlib";
import { PNG } from "pngjs";

const encoder = new TextEncoder();

/** `.amat` text: one line per image of 0/1 tokens separated by single spaces, `\n` line ends. */
export function amatText(images: Uint8Array[]): string {
  return images.map((img) => Array.from(img).join(" ") + "\n").join("");
}

/** A CIFAR-10 binary record: the label byte, then the R, G and B planes of `value(channel, row, column)`. */
export function cifarRecord(label: number, value: (c: number, y: number, x: number) => number): Uint8Array {
  const record = new Uint8Array(3073);
  record[0] = label;
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 32; x++) record[1 + c * 1024 + y * 32 + x] = value(c, y, x);
    }
  }
  return record;
}

/** A PNG of `value(row, column, channel)`, written as 8-bit RGB (colorType 2), RGBA (6) or grey (0). */
export function pngBytes(
  width: number,
  height: number,
  value: (y: number, x: number, c: number) => number,
  colorType: 0 | 2 | 6 = 2,
): Uint8Array {
  const png = new PNG({ width, height });
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) png.data[4 * (y * width + x) + c] = value(y, x, c);
      png.data[4 * (y * width + x) + 3] = 255; // opaque, so RGB output keeps the colours as given
    }
  }
  return new Uint8Array(PNG.sync.write(png, { colorType }));
}

/** A ustar archive; names over 100 bytes get a GNU `L` long-name entry. Directories end in "/". */
export function tarBytes(entries: { name: string; data?: Uint8Array }[]): Uint8Array {
  const blocks: Uint8Array[] = [];
  const header = (name: string, size: number, type: string) => {
    const h = new Uint8Array(512);
    const put = (text: string, at: number) => h.set(encoder.encode(text), at);
    put(name.slice(0, 100), 0);
    put("0000644\0", 100);
    put("0000000\0", 108);
    put("0000000\0", 116);
    put(size.toString(8).padStart(11, "0") + "\0", 124);
    put("00000000000\0", 136);
    put("        ", 148);
    put(type, 156);
    put("ustar\0" + "00", 257);
    const sum = h.reduce((a, b) => a + b, 0);
    put(sum.toString(8).padStart(6, "0") + "\0 ", 148);
    return h;
  };
  const padded = (data: Uint8Array) => {
    const out = new Uint8Array(Math.ceil(data.length / 512) * 512);
    out.set(data);
    return out;
  };
  for (const { name, data } of entries) {
    const nameBytes = encoder.encode(name);
    if (nameBytes.length > 100) {
      blocks.push(header("././@LongLink", nameBytes.length + 1, "L"), padded(encoder.encode(name + "\0")));
    }
    if (name.endsWith("/")) blocks.push(header(name, 0, "5"));
    else blocks.push(header(name, data!.length, "0"), padded(data!));
  }
  blocks.push(new Uint8Array(1024));
  return concat(blocks);
}

/** A version 1.0 `.npy` file. */
export function npyBytes(descr: string, shape: number[], data: Uint8Array): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  dict = dict.padEnd(Math.ceil((10 + dict.length + 1) / 64) * 64 - 10 - 1) + "\n";
  const head = new Uint8Array(10);
  head.set([0x93, ...encoder.encode("NUMPY"), 1, 0]);
  new DataView(head.buffer).setUint16(8, dict.length, true);
  return concat([head, encoder.encode(dict), data]);
}

/** A zip archive of `entries`, each stored or deflated. */
export function zipBytes(entries: { name: string; data: Uint8Array; deflate: boolean }[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const { name, data, deflate } of entries) {
    const nameBytes = encoder.encode(name);
    const body = deflate ? new Uint8Array(deflateRawSync(data)) : data;
    const crc = crc32(data) >>> 0;
    const local = new Uint8Array(30);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint16(8, deflate ? 8 : 0, true);
    lv.setUint16(12, 0x21, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, body.length, true);
    lv.setUint32(22, data.length, true);
    lv.setUint16(26, nameBytes.length, true);
    const cd = new Uint8Array(46);
    const cv = new DataView(cd.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint16(10, deflate ? 8 : 0, true);
    cv.setUint16(14, 0x21, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, body.length, true);
    cv.setUint32(24, data.length, true);
    cv.setUint16(28, nameBytes.length, true);
    cv.setUint32(42, offset, true);
    parts.push(local, nameBytes, body);
    central.push(cd, nameBytes);
    offset += local.length + nameBytes.length + body.length;
  }
  const centralBytes = concat(central);
  const eocd = new Uint8Array(22);
  const ev = new DataView(eocd.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, entries.length, true);
  ev.setUint16(10, entries.length, true);
  ev.setUint32(12, centralBytes.length, true);
  ev.setUint32(16, offset, true);
  return concat([...parts, centralBytes, eocd]);
}

/** The bytes of `parts` one after the other. */
export function concat(parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}
