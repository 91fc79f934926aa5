import ipaddr from 'ipaddr.js';

/**
 * Which addresses a webhook may reach. Pure checks on IP addresses; the sender applies them to
 * every address a host name resolves to, right before connecting to that very address.
 */

/**
 * Which private address ranges webhooks may reach besides the public internet
 * (`TRIGGERS_SSRF_ALLOW`, parsed by config.ts): none, loopback, every private range, or these CIDRs.
 */
export type SsrfAllow =
  | { kind: 'none' }
  | { kind: 'loopback' }
  | { kind: 'private' }
  | { kind: 'cidrs'; cidrs: string[] };

type IPv4 = ipaddr.IPv4;
type IPv6 = ipaddr.IPv6;
type IP = IPv4 | IPv6;

export const ADDRESS_CATEGORIES = [
  'public',
  'loopback',
  'private',
  'linkLocal',
  'metadata',
  'unspecified',
  'multicast',
  'broadcast',
  'reserved',
] as const;
export type AddressCategory = (typeof ADDRESS_CATEGORIES)[number];

/** IPv6 forms that carry an IPv4 address; the IPv4 address decides (mapped) or vouches (tunnels). */
export type EmbeddingKind = 'ipv4-mapped' | '6to4' | 'teredo' | 'nat64';

export interface AddressAssessment {
  /** Canonical form: dotted-quad IPv4, compressed lower-case IPv6 without brackets or zone. */
  address: string;
  category: AddressCategory;
  /** For IPv6 forms that embed IPv4: how, and which IPv4 address was judged. */
  embedded?: { kind: EmbeddingKind; ipv4: string };
  allowed: boolean;
}

// Cloud instance metadata services: AWS/GCP/Azure/OpenStack, AWS over IPv6, Alibaba Cloud.
const METADATA_ADDRESSES: readonly IP[] = ['169.254.169.254', 'fd00:ec2::254', '100.100.100.200'].map((a) => ipaddr.parse(a));

// ---------------------------------------------------------------------------------------------
// Parsing host literals

/**
 * The canonical IP address a host string denotes, or `undefined` when it is not an IP literal.
 * Accepts every IPv4 form the WHATWG URL parser and `inet_aton` accept — decimal (`2130706433`),
 * octal (`0177.0.0.1`), hexadecimal (`0x7f.1`), short forms (`127.1`), a trailing dot — and IPv6
 * with or without brackets (a zone id is dropped). IPv4-mapped IPv6 stays IPv6 here; the policy
 * judges it as its IPv4 address.
 */
export function parseHostLiteral(host: string): string | undefined {
  return parseIp(host)?.toString();
}

function parseIp(host: string): IP | undefined {
  let text = host.trim().toLowerCase();
  if (text.startsWith('[') && text.endsWith(']')) text = text.slice(1, -1);
  if (text.includes(':')) return parseIPv6(text);
  const octets = parseIPv4Literal(text);
  return octets ? new ipaddr.IPv4(octets) : undefined;
}

const DOTTED_DECIMAL = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

function parseIPv6(text: string): IPv6 | undefined {
  let [address] = text.split('%', 1);
  const tailStart = address.lastIndexOf(':') + 1;
  const tail = address.slice(tailStart);
  if (tail.includes('.')) {
    // A dotted tail must be plain decimal (`::ffff:010.0.0.1` is 8.0.0.1 to some parsers, 10.0.0.1 to
    // others), and becomes two hex groups here: ipaddr.js would turn `::a.b.c.d` into `::ffff:a.b.c.d`.
    const m = DOTTED_DECIMAL.exec(tail);
    if (!m) return undefined;
    const [a, b, c, d] = m.slice(1).map(Number);
    address = `${address.slice(0, tailStart)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  if (!ipaddr.IPv6.isValid(address)) return undefined;
  return new ipaddr.IPv6(ipaddr.IPv6.parse(address).parts);
}

/** The WHATWG URL "IPv4 parser", a superset of what `inet_aton` accepts. */
function parseIPv4Literal(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  if (parts.length === 0 || parts.length > 4) return undefined;
  const numbers: number[] = [];
  for (const part of parts) {
    const n = parseIPv4Number(part);
    if (n === undefined) return undefined;
    numbers.push(n);
  }
  const last = numbers.pop()!;
  if (numbers.some((n) => n > 255)) return undefined;
  if (last >= 256 ** (4 - numbers.length)) return undefined;
  let value = last;
  numbers.forEach((n, i) => (value += n * 256 ** (3 - i)));
  return [value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff];
}

function parseIPv4Number(part: string): number | undefined {
  if (part === '') return undefined;
  let radix = 10;
  let digits = part;
  if (part.startsWith('0x')) {
    radix = 16;
    digits = part.slice(2);
  } else if (part.length > 1 && part.startsWith('0')) {
    radix = 8;
    digits = part.slice(1);
  }
  if (digits === '') return 0; // WHATWG reads a bare "0x" as zero
  const valid = radix === 16 ? /^[0-9a-f]+$/ : radix === 8 ? /^[0-7]+$/ : /^[0-9]+$/;
  if (!valid.test(digits)) return undefined;
  // Longer strings are out of range anyway; this keeps parseInt exact.
  if (digits.replace(/^0+/, '').length > 12) return Number.POSITIVE_INFINITY;
  return parseInt(digits, radix);
}

// ---------------------------------------------------------------------------------------------
// Categories

function categorizeIPv4(ip: IPv4): AddressCategory {
  if (METADATA_ADDRESSES.some((m) => m.kind() === 'ipv4' && ip.match(m, 32))) return 'metadata';
  switch (ip.range()) {
    case 'unicast':
    case 'as112': // anycast DNS sinks and AMT relays are ordinary global addresses
    case 'amt':
      return 'public';
    case 'loopback':
      return 'loopback';
    case 'private':
    case 'carrierGradeNat':
      return 'private';
    case 'linkLocal':
      return 'linkLocal';
    case 'unspecified':
      return 'unspecified';
    case 'multicast':
      return 'multicast';
    case 'broadcast':
      return 'broadcast';
    default:
      return 'reserved';
  }
}

interface Judged {
  category: AddressCategory;
  /** The IPv4 address that is reached: the address itself, or the IPv4 behind `::ffff:a.b.c.d`. */
  ipv4?: IPv4;
  embedded?: { kind: EmbeddingKind; ipv4: IPv4 };
}

function ipv4FromWords(high: number, low: number): IPv4 {
  return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
}

/** The worst of several embedded addresses: metadata, then link-local, then anything not public. */
function worstOf(addresses: IPv4[]): { ipv4: IPv4; category: AddressCategory } {
  const judged = addresses.map((ipv4) => ({ ipv4, category: categorizeIPv4(ipv4) }));
  return (
    judged.find((j) => j.category === 'metadata') ??
    judged.find((j) => j.category === 'linkLocal') ??
    judged.find((j) => j.category !== 'public') ??
    judged[0]
  );
}

function judge(ip: IP): Judged {
  if (ip.kind() === 'ipv4') return { category: categorizeIPv4(ip as IPv4), ipv4: ip as IPv4 };
  const v6 = ip as IPv6;
  if (METADATA_ADDRESSES.some((m) => m.kind() === 'ipv6' && v6.match(m, 128))) return { category: 'metadata' };
  const p = v6.parts;
  const tunnelled = (kind: EmbeddingKind, addresses: IPv4[]): Judged => {
    const worst = worstOf(addresses);
    return { category: worst.category, embedded: { kind, ipv4: worst.ipv4 } };
  };
  // `as string`: ipaddr.js's typings list fewer range names than it returns.
  switch (v6.range() as string) {
    case 'ipv4Mapped': // ::ffff:a.b.c.d reaches a.b.c.d
    case 'rfc6145': // ::ffff:0:a.b.c.d (SIIT) likewise
      return { ...tunnelled('ipv4-mapped', [ipv4FromWords(p[6], p[7])]), ipv4: ipv4FromWords(p[6], p[7]) };
    case 'rfc6052':
      // 64:ff9b:1::/48 is for local NAT64 deployments: private by definition.
      if (p[1] === 0xff9b && p[2] === 1) return { category: 'private' };
      return tunnelled('nat64', [ipv4FromWords(p[6], p[7])]);
    case '6to4':
      return tunnelled('6to4', [ipv4FromWords(p[1], p[2])]);
    case 'teredo':
      // Server in bits 32-63, client (obfuscated by inversion) in the last 32 bits.
      return tunnelled('teredo', [ipv4FromWords(p[2], p[3]), ipv4FromWords(~p[6] & 0xffff, ~p[7] & 0xffff)]);
    case 'loopback':
      return { category: 'loopback' };
    case 'uniqueLocal':
    case 'deprecatedSiteLocal':
      return { category: 'private' };
    case 'linkLocal':
      return { category: 'linkLocal' };
    case 'unspecified':
      return { category: 'unspecified' };
    case 'multicast':
      return { category: 'multicast' };
    case 'unicast':
      // ::a.b.c.d (deprecated IPv4-compatible) is not a global unicast address.
      if (p.slice(0, 6).every((w) => w === 0)) return { category: 'reserved' };
      return { category: 'public' };
    case 'amt':
    case 'as112v6':
      return { category: 'public' };
    default:
      return { category: 'reserved' };
  }
}

// ---------------------------------------------------------------------------------------------
// Policy

type Cidr = [IP, number];
const compiledCidrs = new WeakMap<readonly string[], Cidr[]>();

function cidrsOf(list: readonly string[]): Cidr[] {
  let cidrs = compiledCidrs.get(list);
  if (!cidrs) {
    cidrs = list.map((text) => {
      try {
        return ipaddr.parseCIDR(text.trim());
      } catch {
        throw new TypeError(`Invalid CIDR in the SSRF allow-list: ${text}`);
      }
    });
    compiledCidrs.set(list, cidrs);
  }
  return cidrs;
}

function insideAny(candidates: IP[], cidrs: Cidr[]): boolean {
  return candidates.some((ip) => cidrs.some(([range, bits]) => range.kind() === ip.kind() && ip.match(range, bits)));
}

/** Metadata services, and all of IPv4 link-local where they live, are never reachable. */
function isAlwaysRefused(judged: Judged): boolean {
  return judged.category === 'metadata' || (judged.category === 'linkLocal' && (judged.ipv4 !== undefined || judged.embedded !== undefined));
}

function decide(ip: IP, judged: Judged, allow: SsrfAllow): boolean {
  if (isAlwaysRefused(judged)) return false;
  if (judged.category === 'public') return true;
  // A tunnel towards a non-public IPv4 address only opens through an explicit CIDR for the IPv6 address.
  const tunnelled = judged.embedded !== undefined && judged.embedded.kind !== 'ipv4-mapped';
  switch (allow.kind) {
    case 'none':
      return false;
    case 'loopback':
      return !tunnelled && judged.category === 'loopback';
    case 'private':
      return !tunnelled && (judged.category === 'loopback' || judged.category === 'private');
    case 'cidrs':
      return insideAny(tunnelled || !judged.ipv4 ? [ip] : [ip, judged.ipv4], cidrsOf(allow.cidrs));
  }
}

function assess(address: string, allow: SsrfAllow): (AddressAssessment & { alwaysRefused: boolean }) | undefined {
  const ip = parseIp(address);
  if (!ip) return undefined;
  const judged = judge(ip);
  return {
    address: ip.toString(),
    category: judged.category,
    ...(judged.embedded && { embedded: { kind: judged.embedded.kind, ipv4: judged.embedded.ipv4.toString() } }),
    allowed: decide(ip, judged, allow),
    alwaysRefused: isAlwaysRefused(judged),
  };
}

/** Categorises an address and decides it under the policy; `undefined` when it is not an IP address. */
export function assessAddress(address: string, allow: SsrfAllow): AddressAssessment | undefined {
  const a = assess(address, allow);
  if (!a) return undefined;
  const { alwaysRefused: _, ...assessment } = a;
  return assessment;
}

/** Whether a webhook may connect to this IP address. Anything that is not an IP address is refused. */
export function isAddressAllowed(address: string, allow: SsrfAllow): boolean {
  return assessAddress(address, allow)?.allowed ?? false;
}

const CATEGORY_LABELS: Record<AddressCategory, string> = {
  public: 'public',
  loopback: 'loopback',
  private: 'private',
  linkLocal: 'link-local',
  metadata: 'cloud metadata',
  unspecified: 'unspecified',
  multicast: 'multicast',
  broadcast: 'broadcast',
  reserved: 'reserved',
};

export function describeSsrfAllow(allow: SsrfAllow): string {
  return allow.kind === 'cidrs' ? allow.cidrs.join(',') : allow.kind;
}

/** Why the policy refuses an address, for logs and attempt records; `undefined` when it is allowed. */
export function describeBlockedAddress(address: string, allow: SsrfAllow): string | undefined {
  const a = assess(address, allow);
  if (!a) return `${address} is not an IP address`;
  if (a.allowed) return undefined;
  const label = CATEGORY_LABELS[a.category];
  const aLabel = `${/^[aeiou]/.test(label) ? 'an' : 'a'} ${label}`;
  const what = a.embedded
    ? a.embedded.kind === 'ipv4-mapped'
      ? `${a.address} (IPv4 ${a.embedded.ipv4}) is ${aLabel} address`
      : `${a.address} is a ${a.embedded.kind} address towards ${label} IPv4 ${a.embedded.ipv4}`
    : `${a.address} is ${aLabel} address`;
  if (a.alwaysRefused) return `${what}, which is always refused`;
  return `${what}, which TRIGGERS_SSRF_ALLOW=${describeSsrfAllow(allow)} does not allow`;
}

// ---------------------------------------------------------------------------------------------
// Webhook URLs at save time

export type WebhookUrlCheck = { ok: true; url: URL } | { ok: false; reason: string; blocked?: { host: string; address: string } };

/** RFC 6761: `localhost` and names under it are loopback whatever DNS says. */
function isLocalhostName(hostname: string): boolean {
  const name = hostname.replace(/\.$/, '');
  return name === 'localhost' || name.endsWith('.localhost');
}

/**
 * Checks a webhook URL when it is saved (and again on every redirect hop): absolute http(s),
 * no credentials, a host, and — when the host is an IP literal or `localhost` — an address the
 * policy allows. Host names are checked again after DNS resolution, at connect time.
 */
export function checkWebhookUrl(url: string, allow: SsrfAllow): WebhookUrlCheck {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, reason: 'must be an absolute URL' };
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return { ok: false, reason: 'must use http or https' };
  if (parsed.username !== '' || parsed.password !== '') return { ok: false, reason: 'must not contain credentials' };
  if (parsed.hostname === '') return { ok: false, reason: 'must have a host' };

  const literal = parseHostLiteral(parsed.hostname) ?? (isLocalhostName(parsed.hostname) ? '127.0.0.1' : undefined);
  if (literal !== undefined) {
    const blocked = describeBlockedAddress(literal, allow);
    if (blocked !== undefined) return { ok: false, reason: `points to a forbidden address: ${blocked}`, blocked: { host: parsed.hostname, address: literal } };
  }
  return { ok: true, url: parsed };
}
