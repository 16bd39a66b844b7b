// The access log attacked: a credential a client puts in the query, in whatever spelling the hub itself
// would read it, never reaches the log; one request, one line.
import assert from "node:assert/strict";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { after, before, test } from "node:test";
import { bytes, startTestHub, tempDir, type TestHub } from "./helpers/hub.js";

let hub: TestHub;
let logFile: string;

before(async () => {
  logFile = path.join(tempDir("dc-attack-log-"), "access.log");
  hub = await startTestHub({ models: { "acme/big": { "w.bin": bytes(4096) } }, private: { "acme/big": ["alice"] }, users: ["alice"], redirectThresholdBytes: 1024, accessLog: { file: logFile } });
});

after(() => hub?.close());

/** One raw request line (sent as it is, no client library re-encoding it); the answer's status line. */
function raw(target: string, headers = ""): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(hub.port, "127.0.0.1", () => s.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${hub.port}\r\n${headers}Connection: close\r\n\r\n`));
    let out = "";
    s.on("data", (d) => (out += d));
    s.on("close", () => resolve(out));
    s.on("error", reject);
  });
}

/** The log once every line asked for is in it (lines are written as responses finish). */
async function logLines(count: number): Promise<string[]> {
  for (let i = 0; i < 200; i++) {
    const lines = fs.existsSync(logFile) ? fs.readFileSync(logFile, "utf8").split("\n").filter(Boolean) : [];
    if (lines.length >= count) return lines;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`fewer than ${count} lines in the access log`);
}

test("a CDN signature under a percent-encoded key still works, and is not logged", async () => {
  const answer = await raw("/api/v1/models/acme/big/repo?Revision=master&FilePath=w.bin", `Authorization: Bearer ${hub.tokens.alice}\r\n`);
  const location = /\r\nlocation: (\S+)/i.exec(answer)?.[1];
  assert.ok(location, answer.split("\r\n")[0]);
  const signed = new URL(location);
  const signature = signed.searchParams.get("Signature")!;
  // The same URL with the key spelled `%53ignature`: the hub reads it as Signature.
  const target = `${signed.pathname}${signed.search.replace("Signature=", "%53ignature=")}`;
  assert.match(await raw(target), /^HTTP\/1\.1 200 /);
  const lines = await logLines(2);
  assert.equal(lines.length, 2, "one line per request");
  const text = fs.readFileSync(logFile, "utf8");
  assert.ok(!text.includes(signature), `the signature is in the log: ${lines[1]}`);
  assert.ok(!text.includes(hub.tokens.alice!), "the token is in the log");
});

test("query values under keys naming a credential are blanked, in any spelling", async () => {
  const before = (await logLines(0)).length;
  const targets = ["/x?Sig%6Eature=SECRET-A&y=1", "/x?%61ccess_token=SECRET-B", "/x?t%6Fken%3DSECRET-C", "/x?Authorization=Bearer%20SECRET-D", "/x?password=SECRET-E", "/x?api_key=SECRET-F", "/x?TOKEN=SECRET-G", "/x?session_id=SECRET-H"];
  for (const t of targets) await raw(t);
  const lines = (await logLines(before + targets.length)).slice(before);
  assert.equal(lines.length, targets.length, "one line per request");
  for (const line of lines) assert.ok(!line.includes("SECRET"), line);
  // What is not a credential stays, so the line still says what was asked.
  assert.match(lines[0]!, / GET \/x\?Signature=-&y=1 404 /);
});
