// Addresses of the machine's own networks (loopback, private, link-local: a cloud's metadata service, a
// lab's internal services). A mirror of a public hub follows no redirect there: upstream is untrusted and
// must not make the mirror fetch, and hand its clients, what only the mirror's network can reach. Names are
// judged as written (literal addresses and `localhost`), not as they resolve.
import net from "node:net";

const PRIVATE = new net.BlockList();
for (const [prefix, bits] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.168.0.0", 16],
] as const) {
  PRIVATE.addSubnet(prefix, bits, "ipv4");
}
for (const [prefix, bits] of [
  ["::", 128],
  ["::1", 128],
  ["fc00::", 7],
  ["fe80::", 10],
] as const) {
  PRIVATE.addSubnet(prefix, bits, "ipv6");
}

/** Whether a URL's hostname is a loopback, private or link-local address, or `localhost`. */
export function isPrivateHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "").replace(/\.$/, "").toLowerCase();
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  // An IPv4 address written as IPv6 (::ffff:127.0.0.1, which URL writes as ::ffff:7f00:1) is judged as IPv4.
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(host);
  if (mapped) {
    const [hi, lo] = [parseInt(mapped[1]!, 16), parseInt(mapped[2]!, 16)];
    return PRIVATE.check(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`, "ipv4");
  }
  const family = net.isIP(host);
  return family === 4 ? PRIVATE.check(host, "ipv4") : family === 6 ? PRIVATE.check(host, "ipv6") : false;
}
