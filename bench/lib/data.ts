// Benchmark model data: real bytes on disk (never sparse, so disk reads are not flattered), generated
// fast and deterministically. One random 64 MiB block (AES-256-CTR over zeros, fixed key) is reused, but
// every MiB of every file is stamped with its file id and offset, so no two MiB of the model are equal:
// a range written at the wrong offset, or the wrong file, always changes the sha256.
import { createCipheriv, createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

const BLOCK = 64 * MiB;
const STAMP_EVERY = MiB;

export interface ModelFile {
  path: string;
  size: number;
  sha256: string;
}

export interface GeneratedModel {
  modelId: string;
  /** The snapshot folder inside the hub root. */
  dir: string;
  files: ModelFile[];
  totalBytes: number;
  /** The biggest file (the one whose throughput matters). */
  big: ModelFile;
}

let randomBlock: Buffer | undefined;

function block(): Buffer {
  randomBlock ??= createCipheriv("aes-256-ctr", Buffer.alloc(32, 7), Buffer.alloc(16, 0)).update(Buffer.alloc(BLOCK));
  return randomBlock;
}

/** Writes `size` deterministic bytes for file number `fileId` and returns their sha256. */
async function writeFile(abs: string, size: number, fileId: number): Promise<string> {
  fs.mkdirSync(path.dirname(abs), { recursive: true });
  const src = block();
  const work = Buffer.allocUnsafe(Math.min(BLOCK, Math.max(size, 1)));
  const hash = createHash("sha256");
  const fd = fs.openSync(abs, "w");
  try {
    // Each file starts somewhere else in the random block, so small files differ beyond their stamp too.
    const shift = (fileId * 4_099_877) % (BLOCK - MiB);
    for (let off = 0; off < size; off += BLOCK) {
      const n = Math.min(BLOCK, size - off);
      const from = (shift + off) % BLOCK;
      const first = Math.min(n, BLOCK - from);
      src.copy(work, 0, from, from + first);
      if (first < n) src.copy(work, first, 0, n - first);
      for (let s = 0; s + 16 <= n; s += STAMP_EVERY) {
        work.writeBigUInt64LE(BigInt(fileId), s);
        work.writeBigUInt64LE(BigInt(off + s), s + 8);
      }
      const chunk = work.subarray(0, n);
      hash.update(chunk);
      let written = 0;
      while (written < n) written += fs.writeSync(fd, chunk, written, n - written);
      // Let the event loop breathe (signals) between 64 MiB blocks.
      await new Promise<void>((r) => setImmediate(r));
    }
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest("hex");
}

export interface ModelSpec {
  modelId: string;
  totalBytes: number;
  /** How many small files besides the big one. */
  smallFiles: number;
}

/** Sizes of the small files: 4 KiB .. 512 KiB (all under the hub's 8 MiB redirect threshold). */
function smallSizes(count: number): number[] {
  return Array.from({ length: count }, (_, i) => 4096 * (1 + ((i * 37) % 128)) + ((i * 131) % 4096));
}

/** Writes the model into `hubRoot` in the hub's layout (models/<owner>--<name>/snapshots/master/...). */
export async function generateModel(hubRoot: string, spec: ModelSpec): Promise<GeneratedModel> {
  const dir = path.join(hubRoot, "models", spec.modelId.replace("/", "--"), "snapshots", "master");
  const small = smallSizes(spec.smallFiles);
  const smallTotal = small.reduce((a, b) => a + b, 0);
  const bigSize = spec.totalBytes - smallTotal;
  if (bigSize < MiB) throw new Error(`model ${spec.modelId}: ${spec.totalBytes} bytes is too small for ${spec.smallFiles} small files`);
  const files: ModelFile[] = [];
  const bigPath = "model.safetensors";
  files.push({ path: bigPath, size: bigSize, sha256: await writeFile(path.join(dir, bigPath), bigSize, 0) });
  for (let i = 0; i < small.length; i++) {
    // Half at the top level, half in a sub-folder, like configs next to tokenizer/ or shards/.
    const rel = i % 2 === 0 ? `extra/part-${String(i).padStart(3, "0")}.bin` : `small-${String(i).padStart(3, "0")}.bin`;
    const size = small[i]!;
    files.push({ path: rel, size, sha256: await writeFile(path.join(dir, ...rel.split("/")), size, i + 1) });
  }
  return { modelId: spec.modelId, dir, files, totalBytes: spec.totalBytes, big: files[0]! };
}

/** sha256 of a file on disk (streamed, flat memory). */
export async function sha256File(abs: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of fs.createReadStream(abs, { highWaterMark: 4 * MiB })) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** Checks every file of `model` under `folder`: size and sha256. Returns the problems (empty when all match). */
export async function verifyFolder(folder: string, model: GeneratedModel): Promise<string[]> {
  const problems: string[] = [];
  for (const f of model.files) {
    const abs = path.join(folder, ...f.path.split("/"));
    const st = fs.statSync(abs, { throwIfNoEntry: false });
    if (!st?.isFile()) {
      problems.push(`${f.path}: missing`);
      continue;
    }
    if (st.size !== f.size) {
      problems.push(`${f.path}: ${st.size} bytes, expected ${f.size}`);
      continue;
    }
    const got = await sha256File(abs);
    if (got !== f.sha256) problems.push(`${f.path}: sha256 ${got.slice(0, 12)}…, expected ${f.sha256.slice(0, 12)}…`);
  }
  return problems;
}
