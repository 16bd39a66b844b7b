// Files in a hub's root that a crash left half-made: the hub does not start on a guess, and says what to do
// in one line rather than calling it a bug.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { modelscope, tempDir } from "./helpers/hub.js";

/** A root whose shared secret is `bytes`, with `mode`. */
function rootWithSecret(bytes: Buffer, mode = 0o600): string {
  const root = tempDir("dc-attack-root-");
  fs.mkdirSync(path.join(root, ".dc-hub"), { mode: 0o700 });
  fs.writeFileSync(path.join(root, ".dc-hub", "secret"), bytes, { mode });
  fs.chmodSync(path.join(root, ".dc-hub", "secret"), mode);
  return root;
}

test("an empty, cut or open shared secret stops the start with one line and its fix (exit 2), never a new key on a guess", async () => {
  for (const [what, root] of [
    ["empty", rootWithSecret(Buffer.alloc(0))],
    ["cut", rootWithSecret(Buffer.alloc(10, 1))],
    ["readable by others", rootWithSecret(Buffer.alloc(32, 1), 0o644)],
  ] as const) {
    const file = path.join(root, ".dc-hub", "secret");
    const before = fs.readFileSync(file);
    const r = await modelscope(["serve", "--root", root, "--port", "0"], { timeoutMs: 20_000 });
    assert.equal(r.code, 2, `${what}: ${r.stderr}`);
    assert.ok(r.stderr.includes(file), `${what}: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /bug/, what);
    assert.match(r.stderr, /Fix: .*(remove|chmod 600)/, what);
    assert.ok(fs.readFileSync(file).equals(before), `${what}: the secret was changed`);
  }
});
