/**
 * Which URLs a webhook may be sent to: `https://` only (`http://` to a
 * loopback address when WEBHOOK_ALLOW_LOOPBACK is set, for local use), and
 * never a private, link-local, loopback (unless allowed) or metadata address.
 * Checked at creation and again on every redirect.
 *
 * Only what the URL itself says is checked: IP literals (in every form the
 * URL parser normalises, such as `http://2130706433/` or `[::ffff:127.0.0.1]`)
 * and well-known internal names. Workers cannot resolve DNS before a fetch,
 * so a public name pointing at a private address is not caught here.
 */

/** Names that always mean the machine itself or a cloud metadata service. */
const REFUSED_NAMES = new Set([
  "metadata",
  "metadata.google.internal",
  "metadata.goog",
  "metadata.azure.com",
  "instance-data",
  "instance-data.ec2.internal",
]);
/** Suffixes of names that are internal by definition (RFC 6761/6762, cloud-internal zones). */
const REFUSED_SUFFIXES = [".internal", ".local", ".localdomain", ".home.arpa"];

type Verdict = { ok: true } | { ok: false; reason: string };

const refused = (reason: string): Verdict => ({ ok: false, reason });

function ipv4Parts(host: string): number[] | undefined {
  const parts = host.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p))) return undefined;
  const numbers = parts.map(Number);
  return numbers.every((n) => n <= 255) ? numbers : undefined;
}

/** What kind of address an IPv4 literal is, when it is not public. */
function ipv4Kind([a = 0, b = 0]: number[]): "loopback" | "private" | undefined {
  if (a === 127) return "loopback";
  if (
    a === 0 || // "this network"
    a === 10 ||
    (a === 100 && b >= 64 && b <= 127) || // carrier-grade NAT
    (a === 169 && b === 254) || // link-local, 169.254.169.254 metadata
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 192 && b === 0) || // IETF protocol assignments
    (a === 198 && (b === 18 || b === 19)) || // benchmarking
    a >= 224 // multicast, reserved, broadcast
  )
    return "private";
  return undefined;
}

/** The eight 16-bit groups of a normalised IPv6 literal (the URL parser has already compressed it). */
function ipv6Groups(literal: string): number[] | undefined {
  const [head = "", tail] = literal.split("::");
  const parse = (part: string) => (part === "" ? [] : part.split(":").map((g) => Number.parseInt(g, 16)));
  const front = parse(head);
  const back = tail === undefined ? [] : parse(tail);
  const groups =
    tail === undefined ? front : [...front, ...new Array(8 - front.length - back.length).fill(0), ...back];
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff)
    ? groups
    : undefined;
}

function ipv6Kind(groups: number[]): "loopback" | "private" | undefined {
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = groups;
  const zeroPrefix = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0;
  if (zeroPrefix && g5 === 0 && g6 === 0 && g7 === 1) return "loopback";
  if (zeroPrefix && g5 === 0 && g6 === 0 && g7 === 0) return "private"; // unspecified
  // IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d): the embedded IPv4 address decides.
  if ((zeroPrefix && g5 === 0xffff) || (g0 === 0x64 && g1 === 0xff9b)) {
    return ipv4Kind([g6 >> 8, g6 & 0xff, g7 >> 8, g7 & 0xff]) ?? undefined;
  }
  if ((g0 & 0xfe00) === 0xfc00) return "private"; // unique local, fd00:ec2::254 metadata
  if ((g0 & 0xffc0) === 0xfe80) return "private"; // link-local
  if ((g0 & 0xff00) === 0xff00) return "private"; // multicast
  return undefined;
}

function hostKind(hostname: string): "loopback" | "private" | undefined {
  const host = hostname.toLowerCase().replace(/\.$/, "");
  if (host.startsWith("[") && host.endsWith("]")) {
    const groups = ipv6Groups(host.slice(1, -1));
    return groups ? ipv6Kind(groups) : "private";
  }
  const v4 = ipv4Parts(host);
  if (v4) return ipv4Kind(v4);
  if (host === "localhost" || host.endsWith(".localhost")) return "loopback";
  if (REFUSED_NAMES.has(host) || REFUSED_SUFFIXES.some((suffix) => host.endsWith(suffix))) return "private";
  // A name without a dot is resolved by search domains: internal by nature.
  if (!host.includes(".")) return "private";
  return undefined;
}

/** Whether a webhook may be POSTed to `url` (a creation, or a redirect's target). */
export function checkWebhookUrl(url: string, allowLoopback: boolean): Verdict {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return refused("not an absolute URL");
  }
  if (parsed.username !== "" || parsed.password !== "") return refused("credentials in the URL");
  const kind = hostKind(parsed.hostname);
  if (kind === "private") return refused(`${parsed.hostname} is a private, link-local or metadata address`);
  if (kind === "loopback" && !allowLoopback)
    return refused(`${parsed.hostname} is a loopback address (allowed only with WEBHOOK_ALLOW_LOOPBACK)`);
  if (parsed.protocol === "https:") return { ok: true };
  if (parsed.protocol === "http:" && kind === "loopback") return { ok: true };
  return refused(
    parsed.protocol === "http:"
      ? "only https:// URLs (http:// only to loopback, for local use)"
      : "only https:// URLs",
  );
}

export const loopbackAllowed = (env: Env): boolean =>
  ["true", "1", "yes"].includes((env.WEBHOOK_ALLOW_LOOPBACK || "").trim().toLowerCase());
