/**
 * Pure IP arithmetic shared by LoadBalancer and KeepalivedVip: address families, prefixes, subnets and
 * CIDR blocks, for IPv4 and IPv6. No Pulumi import.
 */
import { isIPv4, isIPv6 } from "../validation";

/** 4 or 6. */
export type IpFamily = 4 | 6;

/** The family of an address, or undefined if it is not an IP address. */
export function ipFamily(address: unknown): IpFamily | undefined {
  if (isIPv4(address)) return 4;
  if (isIPv6(address)) return 6;
  return undefined;
}

/**
 * An address in the form Linux tools print it: IPv6 compressed and lower case (RFC 5952), IPv4 as it
 * is. Host scripts compare addresses with `ip address` output, so they must use this form.
 */
export function canonicalIp(address: string): string {
  if (!isIPv6(address)) return address;
  return new URL(`http://[${address}]/`).hostname.replace(/^\[|\]$/g, "");
}

/** Bits in an address of the family. */
export function addressBits(family: IpFamily): number {
  return family === 4 ? 32 : 128;
}

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

/** An IP address as an unsigned integer. Throws if it is not an IP address. */
export function ipToBigInt(address: string): bigint {
  if (isIPv4(address)) return ipv4ToBigInt(address);
  if (isIPv6(address)) return ipv6ToBigInt(address);
  throw new Error(`not an IP address: ${JSON.stringify(address)}`);
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

function mask(family: IpFamily, prefixLength: number): bigint {
  const bits = BigInt(addressBits(family));
  const host = bits - BigInt(prefixLength);
  return ((1n << bits) - 1n) ^ ((1n << host) - 1n);
}

/** True if `address` lies in `network`/`prefixLength` (same family required). */
export function inSubnet(address: string, network: string, prefixLength: number): boolean {
  const family = ipFamily(address);
  if (!family || family !== ipFamily(network)) return false;
  const m = mask(family, prefixLength);
  return (ipToBigInt(address) & m) === (ipToBigInt(network) & m);
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
  const m = mask(4, p.prefixLength);
  if ((a & m) === a) return "network";
  if ((a | (m ^ 0xffffffffn)) === a) return "broadcast";
  return undefined;
}

function bigIntToIp(n: bigint, family: IpFamily): string {
  if (family === 4) {
    return [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 0xffn)).join(".");
  }
  const groups: string[] = [];
  for (let s = 112n; s >= 0n; s -= 16n) groups.push(((n >> s) & 0xffffn).toString(16));
  return groups.join(":");
}

/**
 * A CIDR block as AWS wants it in security group rules: a network address with no host bits set
 * ("10.0.0.0/16", not "10.0.0.5/16"). Undefined if it is not one.
 */
export function parseCidrBlock(value: unknown): AddressWithPrefix | undefined {
  const p = parseAddressWithPrefix(value);
  if (!p) return undefined;
  const a = ipToBigInt(p.address);
  return (a & mask(p.family, p.prefixLength)) === a ? p : undefined;
}

/** A host:port endpoint; IPv6 addresses in brackets. */
export function hostPort(address: string, port: number): string {
  return isIPv6(address) ? `[${address}]:${port}` : `${address}:${port}`;
}
