/**
 * Pure address arithmetic for HaControlPlane: CIDR blocks, overlaps, "host:port" endpoints. No Pulumi
 * import. (components/loadbalancer/net.ts has similar helpers; they can be merged once both are in.)
 */
import { isIPv4, isIPv6 } from "../validation";

/** A CIDR block with no host bits set ("10.96.0.0/12"). */
export interface Cidr {
  text: string;
  family: 4 | 6;
  prefixLength: number;
  network: bigint;
}

function bits(family: 4 | 6): number {
  return family === 4 ? 32 : 128;
}

function ipv4ToBigInt(a: string): bigint {
  return a.split(".").reduce((acc, p) => (acc << 8n) | BigInt(Number(p)), 0n);
}

function ipv6ToBigInt(a: string): bigint {
  const groups = (part: string): number[] =>
    part === ""
      ? []
      : part.split(":").flatMap((g) => {
          if (!g.includes(".")) return [parseInt(g, 16)];
          const v4 = ipv4ToBigInt(g);
          return [Number(v4 >> 16n), Number(v4 & 0xffffn)];
        });
  const [head, tail] = a.includes("::") ? a.split("::") : [a, undefined];
  const h = groups(head);
  const t = tail === undefined ? [] : groups(tail);
  const fill = tail === undefined ? [] : new Array<number>(8 - h.length - t.length).fill(0);
  return [...h, ...fill, ...t].reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

/** An IP address as a number and its family; undefined if it is not one. */
export function ipValue(address: unknown): { family: 4 | 6; value: bigint } | undefined {
  if (isIPv4(address)) return { family: 4, value: ipv4ToBigInt(address as string) };
  if (isIPv6(address)) return { family: 6, value: ipv6ToBigInt(address as string) };
  return undefined;
}

function mask(family: 4 | 6, prefixLength: number): bigint {
  const b = BigInt(bits(family));
  return ((1n << b) - 1n) ^ ((1n << (b - BigInt(prefixLength))) - 1n);
}

/** Parse a CIDR block; undefined unless the address, the prefix and "no host bits set" all hold. */
export function parseCidr(value: unknown): Cidr | undefined {
  if (typeof value !== "string") return undefined;
  const m = /^([^/\s]+)\/(0|[1-9][0-9]{0,2})$/.exec(value);
  const ip = m ? ipValue(m[1]) : undefined;
  if (!m || !ip) return undefined;
  const prefixLength = Number(m[2]);
  if (prefixLength > bits(ip.family)) return undefined;
  if ((ip.value & mask(ip.family, prefixLength)) !== ip.value) return undefined;
  return { text: value, family: ip.family, prefixLength, network: ip.value };
}

/** Host bits of a block: 32 or 128 minus the prefix length. */
export function hostBits(c: Cidr): number {
  return bits(c.family) - c.prefixLength;
}

/** True if two blocks share any address. */
export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  if (a.family !== b.family) return false;
  const shorter = Math.min(a.prefixLength, b.prefixLength);
  const m = mask(a.family, shorter);
  return (a.network & m) === (b.network & m);
}

/** True if the address lies in the block. */
export function cidrContains(c: Cidr, address: string): boolean {
  const ip = ipValue(address);
  if (!ip || ip.family !== c.family) return false;
  return (ip.value & mask(c.family, c.prefixLength)) === c.network;
}

const dnsName = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** True for a DNS name (RFC 1123 subdomain, lower case). */
export function isDnsName(s: unknown): boolean {
  return typeof s === "string" && dnsName.test(s);
}

/** True for a DNS name with an optional leading "*." (what certificate SANs accept). */
export function isSanDnsName(s: unknown): boolean {
  return typeof s === "string" && isDnsName(s.startsWith("*.") ? s.slice(2) : s);
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
  if (port > 65535) return undefined;
  if (m[1] !== undefined) return isIPv6(m[1]) ? { host: m[1], port } : undefined;
  return isIPv4(m[2]) || isDnsName(m[2]) ? { host: m[2], port } : undefined;
}

/** "host:port" with IPv6 in brackets. */
export function joinHostPort(host: string, port: number): string {
  return isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}
