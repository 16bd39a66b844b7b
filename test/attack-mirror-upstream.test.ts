// A hostile upstream redirecting the mirror's fill into the mirror's own network (a cloud's metadata
// service, an internal web server): a mirror of a public hub follows no redirect there, so what only the
// mirror can reach is never fetched and handed to its clients.
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { isPrivateHost } from "../src/http/private-address.js";
import { startHubServer, type RunningHub } from "../src/server/index.js";
import { fakeUpstream, type FakeUpstream } from "./helpers/fake-upstream.js";
import { rawRequest, tempDir } from "./helpers/hub.js";

const INTERNAL = "INTERNAL-ONLY-DATA:0123456789abc";
let internal: http.Server;
let internalHits = 0;
let upstream: FakeUpstream;
let mirror: RunningHub;

const listen = async (s: http.Server) => {
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  return (s.address() as AddressInfo).port;
};

before(async () => {
  internal = http.createServer((_req, res) => {
    internalHits++;
    res.writeHead(200, { "content-length": INTERNAL.length });
    res.end(INTERNAL);
  });
  const internalPort = await listen(internal);
  upstream = await fakeUpstream((req, res, url, json) => {
    // No sha256 listed (the real hub leaves it out for some files): nothing would catch the bytes afterwards.
    if (url.pathname.endsWith("/repo/files")) return json({ Code: 200, Data: { Files: [{ Path: "w.bin", Name: "w.bin", Type: "blob", Size: INTERNAL.length, Sha256: "" }] } });
    if (url.pathname.endsWith("/repo")) {
      if (req.method === "HEAD") return void res.writeHead(200).end();
      res.writeHead(302, { location: `http://127.0.0.1:${internalPort}/latest/meta-data` });
      return void res.end();
    }
    json({ Code: 200, Data: { Id: 1 } });
  });
  // Upstream is on 127.0.0.1 only because the test runs on one machine: it stands for a public hub.
  mirror = await startHubServer({ root: tempDir("dc-attack-upstream-"), mirror: { upstream: upstream.url, privateRedirects: false } });
});

after(async () => {
  await mirror?.close();
  await upstream?.close();
  internal?.closeAllConnections();
  await new Promise((r) => internal?.close(r));
});

test("a public upstream's redirect into the mirror's own network is refused: nothing fetched there, nothing served", async () => {
  for (const range of ["", "bytes=0-9"]) {
    const r = await rawRequest(`${mirror.url}/api/v1/models/evil/ssrf/repo?Revision=master&FilePath=w.bin`, { headers: range ? { range } : {} });
    assert.equal(r.status, 502, r.text);
    assert.ok(!r.text.includes("INTERNAL"), r.text);
    assert.match(r.text, /Refused a redirect to a private address \(127\.0\.0\.1:\d+\)/);
  }
  assert.equal(internalHits, 0, "the mirror fetched from its own network");
});

test("which addresses are the mirror's own networks", () => {
  for (const h of ["127.0.0.1", "10.1.2.3", "172.20.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "localhost", "LOCALHOST.", "cdn.localhost", "[::1]", "[::]", "[fe80::1]", "[fd00::1]", "[::ffff:7f00:1]", "[::ffff:a9fe:a9fe]"]) {
    assert.equal(isPrivateHost(h), true, h);
  }
  for (const h of ["modelscope.cn", "8.8.8.8", "172.32.0.1", "[2001:db8::1]", "[::ffff:808:808]", "localhost.example.com"]) {
    assert.equal(isPrivateHost(h), false, h);
  }
});
