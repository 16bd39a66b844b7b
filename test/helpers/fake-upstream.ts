// A fake upstream hub for the mirror's tests, on 127.0.0.1 (ephemeral port), answering what a test wants
// (broken or hostile answers a real hub would not give). Its branch list names master; the rest is the test's.
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeUpstream {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** `json` answers 200 with that body as JSON. */
export type FakeAnswer = (req: http.IncomingMessage, res: http.ServerResponse, url: URL, json: (body: unknown) => void) => void;

export async function fakeUpstream(answer: FakeAnswer): Promise<FakeUpstream> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url!, "http://x");
    const json = (body: unknown) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (url.pathname.endsWith("/revisions")) return json({ Code: 200, Data: { RevisionMap: { Branches: [{ Revision: "master" }], Tags: [] } } });
    answer(req, res, url, json);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
