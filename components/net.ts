/**
 * Pure address arithmetic shared by every component: IP families and their textual forms, addresses as
 * numbers, prefixes and CIDR blocks (parsing, containment, overlap, network and broadcast addresses),
 * "host:port" endpoints with IPv6 in brackets, ports and DNS names. IPv4 and IPv6 throughout. No Pulumi
 * import, and no import at all: components/validation.ts builds on this module and re-exports part of it.
 */
import { show } from "./show";

// ---------------------------------------------------------------------------------------------------
// Addresses and their families

/** 4 or 6. */
export type IpFamily = 4 | 6;

/** True for a dotted-quad IPv4 address without leading zeros. */
export function isIPv4(s: unknown): boolean {
  if (typeof s !== "string") return false;
  const parts = s.split(".");
  return parts.length === 4 && parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255);
}

/** True for an IPv6 address in any of its textual forms (without zone or prefix). */
export function isIPv6(s: unknown): boolean {
  if (typeof s !== "string" || !s.includes(":")) return false;
  // Delegate to the URL parser, which implements RFC 4291's textual forms exactly.
  try {
    return new URL(`http://[${s}]/`).hostname.length > 2;
  } catch {
    return false;
  }
}

/** True for an IPv4 or IPv6 address. */
export function isIP(s: unknown): boolean {
  return isIPv4(s) || isIPv6(s);
}

/** The family of an address, or undefined if it is not an IP address. */
export function ipFamily(address: unknown): IpFamily | undefined {
  if (isIPv4(address)) return 4;
  if (isIPv6(address)) return 6;
  return undefined;
}

/**
 * What tells two addresses apart: the canonical form of an IP address ("fd00:0::1" and "fd00::1" are one
 * address), any other value as it is. For duplicate checks.
 */
export function addressKey(address: unknown): unknown {
  return typeof address === "string" && isIP(address) ? canonicalIp(address) : address;
}

/** Bits in an address of the family. */
export function addressBits(family: IpFamily): number {
  return family === 4 ? 32 : 128;
}

/**
 * An address in the form Linux tools print it: IPv6 compressed and lower case (RFC 5952), IPv4 as it
 * is. Host scripts compare addresses with `ip address` output, so they must use this form.
 */
export function canonicalIp(address: string): string {
  if (!isIPv6(address)) return address;
  return new URL(`http://[${address}]/`).hostname.replace(/^\[|\]$/g, "");
}

// ---------------------------------------------------------------------------------------------------
// Addresses as numbers

function ipv4ToBigInt(address: string): bigint {
  return address.split(".").reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

function ipv6Groups(part: string): number[] {
  if (part === "") return [];
  return part.split(":").flatMap((g) => {
    if (g.includes(".")) {
      const v4 = ipv4ToBigInt(g);
      return [Number(v4 >> 16n), Number(v4 & 0xffffn)];
    }
    return [parseInt(g, 16)];
  });
}

function ipv6ToBigInt(address: string): bigint {
  const [head, tail] = address.includes("::") ? address.split("::") : [address, undefined];
  const h = ipv6Groups(head);
  const t = tail === undefined ? [] : ipv6Groups(tail);
  const zeros = tail === undefined ? [] : new Array<number>(8 - h.length - t.length).fill(0);
  return [...h, ...zeros, ...t].reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

/** An IP address as a number and its family; undefined if it is not one. */
export function ipValue(address: unknown): { family: IpFamily; value: bigint } | undefined {
  if (isIPv4(address)) return { family: 4, value: ipv4ToBigInt(address as string) };
  if (isIPv6(address)) return { family: 6, value: ipv6ToBigInt(address as string) };
  return undefined;
}

/** An IP address as an unsigned integer. Throws if it is not an IP address. */
export function ipToBigInt(address: string): bigint {
  const ip = ipValue(address);
  if (!ip) throw new Error(`not an IP address: ${show(address)}`);
  return ip.value;
}

function bigIntToIp(n: bigint, family: IpFamily): string {
  if (family === 4) {
    return [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 0xffn)).join(".");
  }
  const groups: string[] = [];
  for (let s = 112n; s >= 0n; s -= 16n) groups.push(((n >> s) & 0xffffn).toString(16));
  return groups.join(":");
}

// ---------------------------------------------------------------------------------------------------
// Prefixes and CIDR blocks

/** The network bits of a prefix length, as a number of the family's width. */
function mask(family: IpFamily, prefixLength: number): bigint {
  const bits = BigInt(addressBits(family));
  const host = bits - BigInt(prefixLength);
  return ((1n << bits) - 1n) ^ ((1n << host) - 1n);
}

/** True if no host bits are set in `value` under the prefix length. */
function isNetworkValue(family: IpFamily, value: bigint, prefixLength: number): boolean {
  return (value & mask(family, prefixLength)) === value;
}

/** True if `a` and `b` agree in their first `prefixLength` bits. */
function sameNetwork(family: IpFamily, a: bigint, b: bigint, prefixLength: number): boolean {
  const m = mask(family, prefixLength);
  return (a & m) === (b & m);
}

/** "10.0.0.10/24" split and checked; undefined unless the address and the prefix length are valid. */
export interface AddressWithPrefix {
  address: string;
  prefixLength: number;
  family: IpFamily;
}

export function parseAddressWithPrefix(value: unknown): AddressWithPrefix | undefined {
  if (typeof value !== "string") return undefined;
  const m = /^([^/\s]+)\/(0|[1-9][0-9]{0,2})$/.exec(value);
  if (!m) return undefined;
  const family = ipFamily(m[1]);
  const prefixLength = Number(m[2]);
  if (!family || prefixLength > addressBits(family)) return undefined;
  return { address: m[1], prefixLength, family };
}

/**
 * A CIDR block as AWS wants it in security group rules: a network address with no host bits set
 * ("10.0.0.0/16", not "10.0.0.5/16"). Undefined if it is not one.
 */
export function parseCidrBlock(value: unknown): AddressWithPrefix | undefined {
  const p = parseAddressWithPrefix(value);
  if (!p) return undefined;
  return isNetworkValue(p.family, ipToBigInt(p.address), p.prefixLength) ? p : undefined;
}

/** A CIDR block with no host bits set ("10.96.0.0/12"). */
export interface Cidr {
  text: string;
  family: IpFamily;
  prefixLength: number;
  network: bigint;
}

/** Parse a CIDR block; undefined unless the address, the prefix and "no host bits set" all hold. */
export function parseCidr(value: unknown): Cidr | undefined {
  const p = parseCidrBlock(value);
  if (!p) return undefined;
  return {
    text: value as string,
    family: p.family,
    prefixLength: p.prefixLength,
    network: ipToBigInt(p.address),
  };
}

/** Host bits of a block: 32 or 128 minus the prefix length. */
export function hostBits(c: Cidr): number {
  return addressBits(c.family) - c.prefixLength;
}

/** The address `offset` places after the start of the block ("10.0.0.0/24", 10 -> "10.0.0.10"). */
export function addressInBlock(c: Cidr, offset: number): string {
  return canonicalIp(bigIntToIp(c.network + BigInt(offset), c.family));
}

/** The `index`-th block of `newBits` more prefix bits inside the block ("10.0.0.0/16", 3, 1 -> "10.0.32.0/19"). */
export function childBlock(c: Cidr, newBits: number, index: number): string {
  const prefixLength = c.prefixLength + newBits;
  const network = c.network + (BigInt(index) << BigInt(addressBits(c.family) - prefixLength));
  return `${canonicalIp(bigIntToIp(network, c.family))}/${prefixLength}`;
}

/** True if `address` lies in `network`/`prefixLength` (same family required). */
export function inSubnet(address: string, network: string, prefixLength: number): boolean {
  const a = ipValue(address);
  const n = ipValue(network);
  if (!a || !n || a.family !== n.family) return false;
  return sameNetwork(a.family, a.value, n.value, prefixLength);
}

/** True if the address lies in the block. */
export function cidrContains(c: Cidr, address: string): boolean {
  const ip = ipValue(address);
  if (!ip || ip.family !== c.family) return false;
  return (ip.value & mask(c.family, c.prefixLength)) === c.network;
}

/** True if two blocks share any address. */
export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  if (a.family !== b.family) return false;
  return sameNetwork(a.family, a.network, b.network, Math.min(a.prefixLength, b.prefixLength));
}

/** The network address of a prefix as text: "10.0.0.10/24" -> "10.0.0.0/24", "fd00::10/64" -> "fd00::/64". */
export function networkOf(p: AddressWithPrefix): string {
  const n = ipToBigInt(p.address) & mask(p.family, p.prefixLength);
  return `${canonicalIp(bigIntToIp(n, p.family))}/${p.prefixLength}`;
}

/** For IPv4 prefixes up to /30: is the address the network or the broadcast address? */
export function isIpv4NetworkOrBroadcast(p: AddressWithPrefix): "network" | "broadcast" | undefined {
  if (p.family !== 4 || p.prefixLength > 30) return undefined;
  const a = ipToBigInt(p.address);
  if (isNetworkValue(4, a, p.prefixLength)) return "network";
  if ((a | (mask(4, p.prefixLength) ^ 0xffffffffn)) === a) return "broadcast";
  return undefined;
}

// ---------------------------------------------------------------------------------------------------
// DNS names

const dnsLabel = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const dnsName = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** True for a DNS label (RFC 1123): lower-case letters, digits and '-', 1-63 characters. */
export function isDnsLabel(name: unknown): boolean {
  return typeof name === "string" && dnsLabel.test(name);
}

/** True for a DNS name (RFC 1123 subdomain, lower case). */
export function isDnsName(s: unknown): boolean {
  return typeof s === "string" && dnsName.test(s);
}

/** True for a DNS name with an optional leading "*." (what certificate SANs accept). */
export function isSanDnsName(s: unknown): boolean {
  return typeof s === "string" && isDnsName(s.startsWith("*.") ? s.slice(2) : s);
}

// ---------------------------------------------------------------------------------------------------
// Ports and endpoints

/** True for a TCP/UDP port number 1-65535. */
export function isPort(p: unknown): boolean {
  return typeof p === "number" && Number.isInteger(p) && p >= 1 && p <= 65535;
}

/** An address as it stands in a URL or an endpoint: IPv6 in brackets. */
export function urlHost(address: string): string {
  return isIPv6(address) ? `[${address}]` : address;
}

/** "host:port" with IPv6 in brackets. */
export function joinHostPort(host: string, port: number): string {
  return `${urlHost(host)}:${port}`;
}

/**
 * Parse "host:port": an IPv4 address, a DNS name, or an IPv6 address in brackets, and a port 1-65535.
 * Undefined if it is not one.
 */
export function parseHostPort(value: unknown): { host: string; port: number } | undefined {
  if (typeof value !== "string") return undefined;
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):([1-9][0-9]{0,4})$/.exec(value);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (!isPort(port)) return undefined;
  if (m[1] !== undefined) return isIPv6(m[1]) ? { host: m[1], port } : undefined;
  return isIPv4(m[2]) || isDnsName(m[2]) ? { host: m[2], port } : undefined;
}
