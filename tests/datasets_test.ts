import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync, gzipSync } from "node:zlib";
import {
  DatasetError,
  fingerprintMembers,
  IMAGENET_NPZ_VARIANT,
  loadBinarizedMnist,
  loadCifar10,
  loadImagenet,
  MNIST_OFFICIAL,
} from "../src/harness/datasets/mod.ts";
import {
  amatText,
  cifarRecord,
  concat,
  npyBytes,
  pngBytes,
  tarBytes,
  zipBytes,
} from "./helpers/dataset_formats.ts";

const FIXTURES = fileURLToPath(new URL("./fixtures/", import.meta.url));
const MNIST_DIR = fileURLToPath(new URL("../data/binarized_mnist/", import.meta.url));
const CIFAR_FIXTURE_DIR = join(FIXTURES, "cifar10");
const CIFAR_FIXTURE = join(CIFAR_FIXTURE_DIR, "data_batch_1.first474.bin.gz");
const CIFAR_FIXTURE_SHA256 = "2edb4d5087b8c297b467fbeec058cd1f547594522e3ce59cf91e9f67a2c784f2";

const sha256 = (bytes: Uint8Array | string) => createHash("sha256").update(bytes).digest("hex");

function mean(pixels: Uint8Array): number {
  let sum = 0;
  for (const p of pixels) sum += p;
  return sum / pixels.length;
}

/** Runs `body` with a fresh temporary folder, removed afterwards. */
async function withTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "datasets_test_" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Asserts that `promise` rejects with a one-line DatasetError naming `file` (and matching `mentions`). */
async function assertDatasetError(promise: Promise<unknown>, file: string, mentions?: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof DatasetError, `expected a DatasetError, got ${err}`);
    assert.ok(err.message.includes(file), `message should name ${file}: ${err.message}`);
    assert.ok(!err.message.includes("\n"), `message should be one line: ${err.message}`);
    if (mentions) assert.match(err.message, mentions);
    return true;
  });
}

/** A deterministic 0/1 image for synthetic .amat files. */
const binaryImage = (i: number) =>
  Uint8Array.from({ length: 784 }, (_, p) => (p * 7 + i * 13) % 5 === 0 ? 1 : 0);

/** The synthetic PNG pattern of image `i`. */
const pattern = (i: number) => (y: number, x: number, c: number) => (i * 40 + y * 3 + x * 5 + c * 60) % 256;

/** Asserts that image `index` of `pixels` (size×size RGB, NHWC) is `value(row, column, channel)`. */
function assertImage(
  pixels: Uint8Array,
  index: number,
  size: number,
  value: (y: number, x: number, c: number) => number,
): void {
  const base = index * size * size * 3;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      for (let c = 0; c < 3; c++) {
        const got = pixels[base + (y * size + x) * 3 + c];
        if (got !== value(y, x, c)) {
          assert.fail(`image ${index} at (${y}, ${x}, ${c}): ${got} != ${value(y, x, c)}`);
        }
      }
    }
  }
}

// ---- real data ----

Deno.test("MNIST test split: bundled file, official checksum, pixel mean", async () => {
  const set = await loadBinarizedMnist("test");
  assert.equal(set.name, "binarized-mnist");
  assert.equal(set.variant, "amat");
  assert.equal(set.split, "test");
  assert.deepEqual([set.count, set.height, set.width, set.channels], [10000, 28, 28, 1]);
  assert.equal(set.pixels.length, 10000 * 784);
  assert.ok(set.pixels.every((p) => p === 0 || p === 1));
  assert.ok(Math.abs(mean(set.pixels) - 0.132512) < 1e-6, `mean ${mean(set.pixels)}`);
  assert.equal(set.fingerprint, MNIST_OFFICIAL.test.sha256);
  assert.equal(set.subset, false);
  assert.equal(set.labels, undefined);
  assert.equal(set.files.length, 1);
  assert.ok(set.files[0].endsWith("binarized_mnist_test.amat.gz"));
});

Deno.test("MNIST valid split: official checksum and pixel mean", async () => {
  const set = await loadBinarizedMnist("valid");
  assert.equal(set.count, 10000);
  assert.ok(Math.abs(mean(set.pixels) - 0.131127) < 1e-6, `mean ${mean(set.pixels)}`);
  assert.equal(set.fingerprint, MNIST_OFFICIAL.valid.sha256);
});

Deno.test("CIFAR-10 fixture: 474 real records, labels and pixels match the raw bytes", async () => {
  const raw = gunzipSync(await Deno.readFile(CIFAR_FIXTURE));
  const set = await loadCifar10(CIFAR_FIXTURE_DIR, "train", { allowSubset: true });
  assert.equal(set.name, "cifar10");
  assert.equal(set.variant, "cifar10-binary");
  assert.deepEqual([set.count, set.height, set.width, set.channels], [474, 32, 32, 3]);
  assert.equal(set.subset, true);
  assert.equal(set.fingerprint, CIFAR_FIXTURE_SHA256);
  assert.deepEqual(set.files, [CIFAR_FIXTURE]);
  assert.deepEqual(Array.from(set.labels!.slice(0, 5)), [6, 9, 9, 4, 1]); // frog, truck, truck, deer, automobile
  for (let i = 0; i < 474; i++) assert.equal(set.labels![i], raw[i * 3073]);
  assert.ok(set.labels!.every((l) => l < 10));
  for (const image of [0, 473]) {
    assertImage(set.pixels, image, 32, (y, x, c) => raw[image * 3073 + 1 + c * 1024 + y * 32 + x]);
  }
});

Deno.test("CIFAR-10 fixture: maxRecords keeps the first records and fingerprints only those", async () => {
  const raw = gunzipSync(await Deno.readFile(CIFAR_FIXTURE));
  const set = await loadCifar10(CIFAR_FIXTURE_DIR, "train", { allowSubset: true, maxRecords: 10 });
  assert.equal(set.count, 10);
  assert.equal(set.subset, true);
  assert.equal(set.fingerprint, sha256(raw.subarray(0, 10 * 3073)));
});

Deno.test("CIFAR-10 fixture: missing batches are refused without allowSubset", async () => {
  await assertDatasetError(
    loadCifar10(CIFAR_FIXTURE_DIR, "train"),
    CIFAR_FIXTURE_DIR,
    /missing data_batch_2.* \(--allow-subset loads fewer\)$/,
  );
  await assertDatasetError(loadCifar10(CIFAR_FIXTURE_DIR, "test", { allowSubset: true }), CIFAR_FIXTURE_DIR);
});

Deno.test("npz written by numpy (savez and savez_compressed)", async () => {
  const value = (i: number) => (y: number, x: number, c: number) => (7 * i + 50 * c + 3 * y + x) % 256;
  for (const name of ["numpy_savez.npz", "numpy_savez_compressed.npz"]) {
    const path = join(FIXTURES, "imagenet", name);
    const set = await loadImagenet(path, 32);
    assert.equal(set.variant, IMAGENET_NPZ_VARIANT);
    assert.match(set.variant, /Chrabaszcz/);
    assert.equal(set.count, 2);
    assert.deepEqual(Array.from(set.labels!), [1, 1000]);
    assert.equal(set.fingerprint, sha256(await Deno.readFile(path)));
    for (const i of [0, 1]) assertImage(set.pixels, i, 32, value(i));
  }
});

// ---- synthetic files of every format ----

Deno.test("amat: plain and gzipped give the same images and fingerprint", async () => {
  await withTempDir(async (dir) => {
    const images = [0, 1, 2].map(binaryImage);
    const text = amatText(images).replace(/\n$/, ""); // the last line may lack its newline
    await Deno.writeTextFile(join(dir, "mine.amat"), text);
    await Deno.writeFile(join(dir, "mine.amat.gz"), gzipSync(text));
    const plain = await loadBinarizedMnist("test", { file: join(dir, "mine.amat") });
    const gz = await loadBinarizedMnist("test", { file: join(dir, "mine.amat.gz") });
    for (const set of [plain, gz]) {
      assert.equal(set.count, 3);
      assert.equal(set.subset, true);
      assert.deepEqual(set.pixels, concat(images));
      assert.equal(set.fingerprint, sha256(text));
    }
  });
});

Deno.test("amat: an official name with the wrong checksum is refused, and loads with verify: false", async () => {
  await withTempDir(async (dir) => {
    // The real test split with one pixel flipped: right size, wrong checksum.
    const text = gunzipSync(await Deno.readFile(join(MNIST_DIR, "binarized_mnist_test.amat.gz")));
    text[0] = text[0] === 48 ? 49 : 48;
    await Deno.writeFile(join(dir, "binarized_mnist_test.amat"), text);
    const path = join(dir, "binarized_mnist_test.amat");
    await assertDatasetError(loadBinarizedMnist("test", { dir }), path, /SHA-256.*expected the official/);
    const set = await loadBinarizedMnist("test", { dir, verify: false });
    assert.equal(set.count, 10000);
    assert.equal(set.subset, false);
    assert.equal(set.fingerprint, sha256(text));
  });
});

Deno.test("CIFAR-10: a full-size synthetic test batch, NHWC conversion", async () => {
  await withTempDir(async (dir) => {
    const value = (i: number) => (y: number, x: number, c: number) => (i + y * 7 + x * 3 + c * 85) % 256;
    const records = Array.from(
      { length: 10000 },
      (_, i) => cifarRecord(i % 10, (c, y, x) => value(i)(y, x, c)),
    );
    const bytes = concat(records);
    await Deno.writeFile(join(dir, "test_batch.bin"), bytes);
    const set = await loadCifar10(dir, "test");
    assert.equal(set.count, 10000);
    assert.equal(set.subset, false);
    assert.equal(set.fingerprint, sha256(bytes));
    assert.deepEqual(Array.from(set.labels!.slice(0, 12)), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
    for (const i of [0, 1234, 9999]) assertImage(set.pixels, i, 32, value(i));
  });
});

Deno.test("CIFAR-10: partial train batches, .bin and .bin.gz, archive folder, multi-file fingerprint", async () => {
  await withTempDir(async (dir) => {
    const root = join(dir, "cifar-10-batches-bin"); // where the official archive extracts to
    await Deno.mkdir(root);
    const one = concat([cifarRecord(3, () => 10), cifarRecord(4, () => 20)]);
    const three = concat([cifarRecord(7, (c) => c), cifarRecord(8, () => 1), cifarRecord(9, () => 2)]);
    await Deno.writeFile(join(root, "data_batch_1.bin"), one);
    await Deno.writeFile(join(root, "data_batch_3.bin.gz"), gzipSync(three));
    const set = await loadCifar10(dir, "train", { allowSubset: true });
    assert.equal(set.count, 5);
    assert.equal(set.subset, true);
    assert.deepEqual(Array.from(set.labels!), [3, 4, 7, 8, 9]);
    assert.deepEqual(set.files, [join(root, "data_batch_1.bin"), join(root, "data_batch_3.bin.gz")]);
    assert.deepEqual(Array.from(set.pixels.subarray(2 * 3072, 2 * 3072 + 6)), [0, 1, 2, 0, 1, 2]);
    const lines = `${sha256(one)}  data_batch_1.bin\n${sha256(three)}  data_batch_3.bin\n`;
    assert.equal(set.fingerprint, sha256(lines));
    assert.equal(
      set.fingerprint,
      fingerprintMembers([
        { name: "data_batch_3.bin", sha256: sha256(three) },
        { name: "data_batch_1.bin", sha256: sha256(one) },
      ]),
    );
  });
});

/** Writes three 32×32 PNGs (RGB, RGBA, RGB) under `dir` in nested folders, plus a file that is not a PNG. */
async function writePngFolder(dir: string): Promise<Record<string, Uint8Array>> {
  const files: Record<string, Uint8Array> = {
    "b.png": pngBytes(32, 32, pattern(2), 2),
    "a/c.png": pngBytes(32, 32, pattern(1), 6),
    "a.png": pngBytes(32, 32, pattern(0), 2),
  };
  await Deno.mkdir(join(dir, "a"), { recursive: true });
  for (const [name, bytes] of Object.entries(files)) await Deno.writeFile(join(dir, name), bytes);
  await Deno.writeTextFile(join(dir, "a", "notes.txt"), "not an image");
  return files;
}

Deno.test("ImageNet PNG folder: sorted by name, RGB and RGBA, limit marks a subset", async () => {
  await withTempDir(async (tmp) => {
    const dir = join(tmp, "valid_32x32");
    const files = await writePngFolder(dir);
    const set = await loadImagenet(dir, 32);
    assert.equal(set.name, "imagenet32");
    assert.equal(set.variant, "imagenet-png-dir");
    assert.equal(set.split, "valid");
    assert.deepEqual([set.count, set.height, set.width, set.channels], [3, 32, 32, 3]);
    assert.equal(set.subset, false);
    assert.equal(set.labels, undefined);
    // "a.png" < "a/c.png" < "b.png" in code-unit order ('.' is 46, '/' is 47).
    for (const i of [0, 1, 2]) assertImage(set.pixels, i, 32, pattern(i));
    const lines = ["a.png", "a/c.png", "b.png"].map((n) => `${sha256(files[n])}  ${n}\n`).join("");
    assert.equal(set.fingerprint, sha256(lines));

    const two = await loadImagenet(dir, 32, { limit: 2, split: "train" });
    assert.equal(two.count, 2);
    assert.equal(two.subset, true);
    assert.equal(two.split, "train");
    assert.deepEqual(two.pixels, set.pixels.subarray(0, 2 * 3072));
  });
});

Deno.test("ImageNet tar of PNGs: same images and fingerprint as the folder, in any archive order", async () => {
  await withTempDir(async (tmp) => {
    const dir = join(tmp, "pngs");
    const files = await writePngFolder(dir);
    const fromDir = await loadImagenet(dir, 32);
    const tar = tarBytes([
      { name: "a/" },
      { name: "b.png", data: files["b.png"] },
      { name: "a/notes.txt", data: new TextEncoder().encode("not an image") },
      { name: "a/c.png", data: files["a/c.png"] },
      { name: "a.png", data: files["a.png"] },
    ]);
    const tarPath = join(tmp, "train_32x32.tar");
    await Deno.writeFile(tarPath, tar);
    const set = await loadImagenet(tarPath, 32);
    assert.equal(set.variant, "imagenet-png-tar");
    assert.equal(set.split, "train");
    assert.equal(set.count, 3);
    assert.deepEqual(set.pixels, fromDir.pixels);
    assert.equal(set.fingerprint, fromDir.fingerprint);
    assert.deepEqual(set.files, [tarPath]);
  });
});

Deno.test("ImageNet tar: GNU long names and 64x64 images", async () => {
  await withTempDir(async (tmp) => {
    const long = `${"deep/".repeat(30)}image.png`;
    const tarPath = join(tmp, "images.tar");
    await Deno.writeFile(
      tarPath,
      tarBytes([{ name: long, data: pngBytes(64, 64, pattern(5)) }, {
        name: "z.png",
        data: pngBytes(64, 64, pattern(6)),
      }]),
    );
    const set = await loadImagenet(tarPath, 64);
    assert.equal(set.name, "imagenet64");
    assert.equal(set.split, "unspecified");
    assert.equal(set.count, 2);
    assertImage(set.pixels, 0, 64, pattern(5)); // "deep/..." sorts before "z.png"
    assertImage(set.pixels, 1, 64, pattern(6));
  });
});

/** A Chrabaszcz et al. npz: `n` images of `pattern(first + i)` in channel-plane order, labels 1..n. */
function npz(n: number, first: number, deflate: boolean, withLabels = true): Uint8Array {
  const data = new Uint8Array(n * 3072);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) {
      for (let p = 0; p < 1024; p++) data[i * 3072 + c * 1024 + p] = pattern(first + i)(p >> 5, p & 31, c);
    }
  }
  const labels = new Uint8Array(
    new BigInt64Array(Array.from({ length: n }, (_, i) => BigInt(first + i + 1))).buffer,
  );
  const entries = [{ name: "data.npy", data: npyBytes("|u1", [n, 3072], data), deflate }];
  if (withLabels) entries.push({ name: "labels.npy", data: npyBytes("<i8", [n], labels), deflate });
  return zipBytes(entries);
}

Deno.test("ImageNet npz: stored and deflated entries, planes to NHWC, labels", async () => {
  await withTempDir(async (dir) => {
    for (const deflate of [false, true]) {
      const path = join(dir, `val_data_${deflate}.npz`);
      await Deno.writeFile(path, npz(3, 0, deflate));
      const set = await loadImagenet(path, 32);
      assert.equal(set.variant, IMAGENET_NPZ_VARIANT);
      assert.equal(set.split, "valid");
      assert.equal(set.count, 3);
      assert.equal(set.subset, false);
      assert.deepEqual(Array.from(set.labels!), [1, 2, 3]);
      for (const i of [0, 1, 2]) assertImage(set.pixels, i, 32, pattern(i));
    }
  });
});

Deno.test("ImageNet npz folder: batches in name order, limit across batches, labels only when all have them", async () => {
  await withTempDir(async (tmp) => {
    const dir = join(tmp, "Imagenet32_train_npz");
    await Deno.mkdir(dir);
    const batch1 = npz(2, 0, true), batch2 = npz(3, 2, false);
    await Deno.writeFile(join(dir, "train_data_batch_2.npz"), batch2);
    await Deno.writeFile(join(dir, "train_data_batch_1.npz"), batch1);
    const set = await loadImagenet(dir, 32);
    assert.equal(set.split, "train");
    assert.equal(set.count, 5);
    assert.deepEqual(Array.from(set.labels!), [1, 2, 3, 4, 5]);
    for (let i = 0; i < 5; i++) assertImage(set.pixels, i, 32, pattern(i));
    const lines = `${sha256(batch1)}  train_data_batch_1.npz\n${sha256(batch2)}  train_data_batch_2.npz\n`;
    assert.equal(set.fingerprint, sha256(lines));

    const three = await loadImagenet(dir, 32, { limit: 3 });
    assert.equal(three.count, 3);
    assert.equal(three.subset, true);
    assert.deepEqual(Array.from(three.labels!), [1, 2, 3]);
    assert.deepEqual(three.pixels, set.pixels.subarray(0, 3 * 3072));

    await Deno.writeFile(join(dir, "train_data_batch_3.npz"), npz(1, 5, true, false));
    const unlabelled = await loadImagenet(dir, 32);
    assert.equal(unlabelled.count, 6);
    assert.equal(unlabelled.labels, undefined);
  });
});

// ---- error paths ----

Deno.test("errors: MNIST missing folder, bad tokens, wrong line length, truncated gzip, wrong count", async () => {
  await withTempDir(async (dir) => {
    const missing = join(dir, "nowhere");
    await assertDatasetError(loadBinarizedMnist("test", { dir: missing }), missing, /not found/);
    await assertDatasetError(loadBinarizedMnist("test", { dir }), dir, /binarized_mnist_test\.amat/);

    const lines = amatText([0, 1, 2].map(binaryImage)).split("\n");
    const write = async (name: string, text: string) => {
      await Deno.writeTextFile(join(dir, name), text);
      return join(dir, name);
    };
    const badToken = await write("bad_token.amat", [lines[0], lines[1].replace(/^0 /, "2 ")].join("\n"));
    await assertDatasetError(
      loadBinarizedMnist("test", { file: badToken }),
      badToken,
      /line 2, token 1: .*"2"/,
    );
    const longToken = await write("long_token.amat", "10" + lines[0].slice(1));
    await assertDatasetError(loadBinarizedMnist("test", { file: longToken }), longToken, /longer token/);
    const short = await write("short.amat", lines[0].slice(2));
    await assertDatasetError(
      loadBinarizedMnist("test", { file: short }),
      short,
      /expected 784 tokens, found 783/,
    );
    const long = await write("long.amat", lines[0] + " 1");
    await assertDatasetError(loadBinarizedMnist("test", { file: long }), long, /found more/);

    const gz = gzipSync(amatText([0, 1, 2].map(binaryImage)));
    const truncated = join(dir, "truncated.amat.gz");
    await Deno.writeFile(truncated, gz.subarray(0, gz.length >> 1));
    await assertDatasetError(
      loadBinarizedMnist("test", { file: truncated }),
      truncated,
      /corrupt or truncated/,
    );

    // An official name must hold the official count, and must match the split asked for.
    const valid = await write("binarized_mnist_valid.amat", lines.join("\n"));
    await assertDatasetError(loadBinarizedMnist("valid", { dir }), valid, /expected 10000 lines .* found 3/);
    await assertDatasetError(loadBinarizedMnist("test", { file: valid }), valid, /official valid file/);
  });
});

Deno.test("errors: CIFAR-10 missing folder, wrong size, short batch, bad label, truncated gzip", async () => {
  await withTempDir(async (dir) => {
    const missing = join(dir, "nowhere");
    await assertDatasetError(loadCifar10(missing, "test"), missing, /not found/);

    const batch = join(dir, "test_batch.bin");
    const record = cifarRecord(1, () => 0);
    await Deno.writeFile(batch, concat([record, new Uint8Array(1)]));
    await assertDatasetError(
      loadCifar10(dir, "test", { allowSubset: true }),
      batch,
      /size is 3074 bytes, expected 30730000/,
    );

    await Deno.writeFile(batch, concat([record, record]));
    await assertDatasetError(
      loadCifar10(dir, "test"),
      batch,
      /found 2 records \(--allow-subset loads a partial batch\)/,
    );

    await Deno.writeFile(batch, concat([record, cifarRecord(10, () => 0)]));
    await assertDatasetError(
      loadCifar10(dir, "test", { allowSubset: true }),
      batch,
      /record 2 has label byte 10/,
    );

    await Deno.remove(batch);
    const gzBatch = join(dir, "test_batch.bin.gz");
    await Deno.writeFile(gzBatch, gzipSync(concat([record, new Uint8Array(5)])));
    await assertDatasetError(loadCifar10(dir, "test", { allowSubset: true }), gzBatch, /3078 bytes/);

    const gz = gzipSync(concat([record, record]));
    await Deno.writeFile(gzBatch, gz.subarray(0, gz.length - 12));
    await assertDatasetError(
      loadCifar10(dir, "test", { allowSubset: true }),
      gzBatch,
      /corrupt or truncated/,
    );
  });
});

Deno.test("errors: ImageNet missing path, wrong PNG size or colour, bad files, corrupt tar", async () => {
  await withTempDir(async (dir) => {
    const missing = join(dir, "nowhere.tar");
    await assertDatasetError(loadImagenet(missing, 32), missing, /not found/);

    const pngs = join(dir, "pngs");
    await Deno.mkdir(pngs);
    await assertDatasetError(loadImagenet(pngs, 32), pngs, /without \*\.png or \*\.npz/);
    const big = join(pngs, "big.png");
    await Deno.writeFile(big, pngBytes(64, 64, pattern(0)));
    await assertDatasetError(
      loadImagenet(pngs, 32),
      big,
      /expected a 32x32 8-bit RGB or RGBA PNG, found 64x64/,
    );
    await Deno.writeFile(big, pngBytes(32, 32, pattern(0), 0));
    await assertDatasetError(loadImagenet(pngs, 32), big, /found 32x32 8-bit grey/);
    await Deno.writeFile(big, new TextEncoder().encode("not a png"));
    await assertDatasetError(loadImagenet(pngs, 32), big, /cannot decode/);

    const other = join(dir, "images.zip");
    await Deno.writeFile(other, new Uint8Array(10));
    await assertDatasetError(loadImagenet(other, 32), other, /another kind/);

    const tar = tarBytes([{ name: "a.png", data: pngBytes(32, 32, pattern(0)) }]);
    const tarPath = join(dir, "bad.tar");
    const corrupt = tar.slice();
    corrupt[10] ^= 1;
    await Deno.writeFile(tarPath, corrupt);
    await assertDatasetError(loadImagenet(tarPath, 32), tarPath, /bad header checksum/);
    await Deno.writeFile(tarPath, tar.subarray(0, 512 + 64));
    await assertDatasetError(loadImagenet(tarPath, 32), tarPath, /truncated tar, member a\.png/);
    await Deno.writeFile(tarPath, tar.subarray(0, 1024)); // cut between members
    await assertDatasetError(loadImagenet(tarPath, 32), tarPath, /truncated tar, no end-of-archive marker/);
    const big64 = tarBytes([{ name: "x/big.png", data: pngBytes(64, 64, pattern(0)) }]);
    await Deno.writeFile(tarPath, big64);
    await assertDatasetError(loadImagenet(tarPath, 32), `${tarPath} (member x/big.png)`, /found 64x64/);
  });
});

Deno.test("errors: npz of the wrong shape or dtype, missing data, truncated or corrupt", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "batch.npz");
    const write = (entries: { name: string; data: Uint8Array; deflate: boolean }[]) =>
      Deno.writeFile(path, zipBytes(entries));

    await write([{
      name: "data.npy",
      data: npyBytes("|u1", [2, 1024], new Uint8Array(2048)),
      deflate: true,
    }]);
    await assertDatasetError(loadImagenet(path, 32), path, /expected shape \(N, 3072\).*found \(2, 1024\)/);
    await assertDatasetError(loadImagenet(path, 64), path, /expected shape \(N, 12288\)/);
    await write([{
      name: "data.npy",
      data: npyBytes("<i2", [1, 3072], new Uint8Array(6144)),
      deflate: false,
    }]);
    await assertDatasetError(loadImagenet(path, 32), path, /of '<i2'/);
    await write([{
      name: "data.npy",
      data: npyBytes("|u1", [2, 3072], new Uint8Array(3072)),
      deflate: false,
    }]);
    await assertDatasetError(loadImagenet(path, 32), path, /expected 6144 data bytes/);
    await write([
      { name: "data.npy", data: npyBytes("|u1", [1, 3072], new Uint8Array(3072)), deflate: false },
      { name: "labels.npy", data: npyBytes("<i8", [2], new Uint8Array(16)), deflate: false },
    ]);
    await assertDatasetError(loadImagenet(path, 32), path, /labels\.npy.*expected shape \(1,\)/);
    await write([{ name: "x.npy", data: npyBytes("|u1", [1], new Uint8Array(1)), deflate: false }]);
    await assertDatasetError(loadImagenet(path, 32), path, /expected a data\.npy entry/);

    const good = npz(2, 0, false);
    await Deno.writeFile(path, good.subarray(0, good.length >> 1));
    await assertDatasetError(loadImagenet(path, 32), path, /end-of-central-directory/);
    const flipped = good.slice();
    flipped[200] ^= 0xff; // inside data.npy's pixels: only the CRC can tell
    await Deno.writeFile(path, flipped);
    await assertDatasetError(loadImagenet(path, 32), path, /CRC-32 mismatch/);
  });
});
