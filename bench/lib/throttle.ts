// Scenario 2's CDN-like cap, and what the hub saw: the local hub's test-only switches (`serve --test-faults`;
// see src/server/faults.ts). The throttle caps each response body, i.e. each connection, hub and CDN host.

export async function setThrottle(hubUrl: string, bytesPerSecond: number): Promise<void> {
  const res = await fetch(`${hubUrl}/__test__/faults`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ kind: "throttle", bytesPerSecond }),
  });
  const text = await res.text();
  if (res.status === 404) throw new Error("the local hub has no /__test__/faults switches (start it with `serve --test-faults`)");
  if (!res.ok) throw new Error(`setting the hub's bandwidth cap failed: HTTP ${res.status} ${text.slice(0, 300)}`);
}

export interface SeenRequest {
  method: string;
  path: string;
  filePath?: string;
  range?: string;
  host: string;
}

/** Every request the hub has seen so far (needs `serve --test-faults`). */
export async function seenRequests(hubUrl: string): Promise<SeenRequest[]> {
  const res = await fetch(`${hubUrl}/__test__/stats`);
  if (!res.ok) throw new Error(`GET /__test__/stats: HTTP ${res.status}`);
  return ((await res.json()) as { requests: SeenRequest[] }).requests;
}

/** How a file was fetched: requests for its bytes (redirects not counted), how many ranged, typical range size. */
export function describeFetch(requests: SeenRequest[], filePath: string): string {
  const body = requests.filter((r) => r.method === "GET" && r.path.startsWith("/__cdn__/") && r.filePath === filePath);
  const sizes = body
    .map((r) => /^bytes=(\d+)-(\d+)$/.exec(r.range ?? ""))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[2]) - Number(m[1]) + 1)
    .sort((a, b) => a - b);
  const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
  const typical = sizes.length ? `, ranges ${mib(sizes[0]!)}..${mib(sizes[sizes.length - 1]!)} (median ${mib(sizes[Math.floor(sizes.length / 2)]!)})` : "";
  return `${body.length} CDN GET(s) for ${filePath}, ${sizes.length} ranged${typical}`;
}
