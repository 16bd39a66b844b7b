// sha256 of a whole file, streamed with a bounded buffer (memory stays flat whatever the size).
import { createHash } from "node:crypto";
import fs from "node:fs";

export async function hashFile(file: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash("sha256");
  const stream = fs.createReadStream(file, { highWaterMark: 1024 * 1024, signal });
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest("hex");
}
