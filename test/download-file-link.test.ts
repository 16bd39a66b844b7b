// The signed CDN URL a file's requests reuse (file-link.ts): used until near its expiry, only when it is
// off the hub's origin, dropped when refused. Pure logic; the end-to-end reuse is in download-redirect-reuse.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { FileLink, refusedLink } from "../src/download/file-link.js";
import { AccessDeniedError, ConnectionFailedError, RateLimitError } from "../src/errors.js";

const HUB = "http://127.0.0.1:8000";
const now = Date.UTC(2026, 0, 1, 12, 0, 0);

describe("FileLink", () => {
  test("a URL on the hub's own origin is not remembered (the hub is asked each time)", () => {
    const l = new FileLink(HUB);
    l.learn(`${HUB}/api/v1/models/a/b/repo?FilePath=x`);
    assert.equal(l.current(now), undefined);
  });

  test("Expires (epoch seconds): used until 60 s before it", () => {
    const l = new FileLink(HUB);
    const url = `http://cdn.example/o?Expires=${now / 1000 + 120}&Signature=s`;
    l.learn(url);
    assert.equal(l.current(now), url);
    assert.equal(l.current(now + 61_000), undefined);
  });

  test("S3 v4 (X-Amz-Date + X-Amz-Expires) and no expiry at all", () => {
    const l = new FileLink(HUB);
    const url = "http://cdn.example/o?X-Amz-Date=20260101T120000Z&X-Amz-Expires=300&X-Amz-Signature=s";
    l.learn(url);
    assert.equal(l.current(now + 200_000), url);
    assert.equal(l.current(now + 250_000), undefined);
    const forever = "http://cdn.example/o?sig=s";
    l.learn(forever);
    assert.equal(l.current(now + 10 ** 9), forever);
    l.drop(forever);
    assert.equal(l.current(now), undefined);
  });

  test("refused: an answer about the URL, not a network failure or a 429", () => {
    assert.ok(refusedLink(new AccessDeniedError({})));
    assert.ok(!refusedLink(new ConnectionFailedError("http://cdn.example/o", "ECONNRESET")));
    assert.ok(!refusedLink(new RateLimitError(undefined, {})));
    assert.ok(!refusedLink(new Error("other")));
  });
});
