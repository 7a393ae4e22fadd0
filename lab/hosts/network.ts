import * as crypto from "crypto";
import * as fs from "fs";
import { run } from "./run";

/**
 * The lab network: one Linux bridge per lab on this machine, holding the gateway address (.1) of
 * 10.77.<subnetIndex>.0/24. Hosts join it through the veth pairs that systemd-nspawn --network-bridge
 * creates. Nothing routes the subnet anywhere: no forwarding, no NAT, and hosts get no default route.
 */

export const SUBNET_PREFIX = 24;
const FIRST_HOST_OCTET = 10; // host k (1-based) is .10+k: m1 = .11

export function subnetOf(subnetIndex: number): { subnet: string; gateway: string } {
  if (!Number.isInteger(subnetIndex) || subnetIndex < 0 || subnetIndex > 255) {
    throw new RangeError(`subnetIndex must be an integer 0-255, got ${subnetIndex}`);
  }
  return { subnet: `10.77.${subnetIndex}.0/${SUBNET_PREFIX}`, gateway: `10.77.${subnetIndex}.1` };
}

export function hostAddress(subnetIndex: number, hostNumber: number): string {
  const octet = FIRST_HOST_OCTET + hostNumber;
  if (!Number.isInteger(hostNumber) || hostNumber < 1 || octet > 254) {
    throw new RangeError(`host number must be 1-${254 - FIRST_HOST_OCTET}, got ${hostNumber}`);
  }
  return `10.77.${subnetIndex}.${octet}`;
}

/** Interface names have at most 15 characters: long lab names are shortened with a hash to stay unique. */
export function bridgeName(labName: string): string {
  const plain = `hk-${labName}`;
  if (plain.length <= 15) return plain;
  const hash = crypto.createHash("sha256").update(labName).digest("hex").slice(0, 6);
  return `hk-${labName.slice(0, 5)}-${hash}`;
}

/**
 * The nspawn machine name of a host. nspawn names the host side of the veth "vb-<machine>", which must
 * fit in 15 characters and be unique on this machine, hence the subnet index rather than the lab name.
 */
export function machineName(subnetIndex: number, hostName: string): string {
  return `hk${subnetIndex}-${hostName}`;
}

interface IpLink {
  ifindex: number;
  ifname: string;
  link_index?: number;
  linkinfo?: { info_kind?: string };
}

interface IpAddr {
  ifname: string;
  addr_info: { family: string; local: string; prefixlen: number }[];
}

async function ipJson<T>(args: string[], netnsOfPid?: number): Promise<T> {
  const r =
    netnsOfPid === undefined
      ? await run("ip", ["-j", ...args])
      : await run("nsenter", ["-t", String(netnsOfPid), "-n", "ip", "-j", ...args]);
  return JSON.parse(r.stdout || "[]") as T;
}

export async function linkExists(name: string): Promise<boolean> {
  return (await run("ip", ["link", "show", "dev", name], { allowFail: true })).code === 0;
}

/**
 * Refuses a subnet that this machine already uses on another interface (another lab with the same
 * index, or a real network): two bridges with the same subnet would make the lab unreachable.
 */
async function assertSubnetFree(bridge: string, subnetIndex: number): Promise<void> {
  const prefix = `10.77.${subnetIndex}.`;
  for (const link of await ipJson<IpAddr[]>(["-4", "addr", "show"])) {
    if (link.ifname === bridge) continue;
    const clash = link.addr_info.find((a) => a.local.startsWith(prefix));
    if (clash) {
      throw new Error(
        `subnet 10.77.${subnetIndex}.0/24 is already used by ${link.ifname} (${clash.local}): ` +
          `pick another subnetIndex or destroy the lab that owns it`,
      );
    }
  }
}

/** Creates the lab bridge with the gateway address, or checks the existing one. Idempotent. */
export async function ensureBridge(bridge: string, subnetIndex: number): Promise<void> {
  const { gateway } = subnetOf(subnetIndex);
  await assertSubnetFree(bridge, subnetIndex);
  if (!(await linkExists(bridge))) {
    // No STP and no forward delay: ports forward at once. No multicast snooping: VRRP adverts are
    // multicast and must reach every host.
    await run("ip", [
      "link",
      "add",
      "name",
      bridge,
      "type",
      "bridge",
      "stp_state",
      "0",
      "forward_delay",
      "0",
    ]);
    await run("ip", ["link", "set", "dev", bridge, "type", "bridge", "mcast_snooping", "0"]);
  }
  const [link] = await ipJson<IpLink[]>(["-d", "link", "show", "dev", bridge]);
  if (link?.linkinfo?.info_kind !== "bridge") throw new Error(`${bridge} exists but is not a bridge`);
  // The lab is IPv4 only: keep this machine from speaking IPv6 (router solicitations, MLD) on it.
  fs.writeFileSync(`/proc/sys/net/ipv6/conf/${bridge}/disable_ipv6`, "1");
  const [addrs] = await ipJson<IpAddr[]>(["-4", "addr", "show", "dev", bridge]);
  if (!addrs?.addr_info.some((a) => a.local === gateway)) {
    await run("ip", ["addr", "add", `${gateway}/${SUBNET_PREFIX}`, "dev", bridge]);
  }
  await run("ip", ["link", "set", "dev", bridge, "up"]);
}

export async function deleteLink(name: string): Promise<void> {
  if (await linkExists(name)) await run("ip", ["link", "del", "dev", name]);
}

/**
 * The host-side end of a host's veth, found from inside: host0's peer ifindex in this machine's
 * namespace. (Deriving it from the machine name would copy nspawn's name-shortening rules.)
 */
export async function hostVeth(leaderPid: number): Promise<string> {
  const [inner] = await ipJson<IpLink[]>(["link", "show", "dev", "host0"], leaderPid);
  if (inner?.link_index === undefined) throw new Error(`no host0 veth in the netns of pid ${leaderPid}`);
  const outer = (await ipJson<IpLink[]>(["link", "show"])).find((l) => l.ifindex === inner.link_index);
  if (!outer)
    throw new Error(`the peer of host0 (ifindex ${inner.link_index}) is not in this machine's netns`);
  return outer.ifname;
}

/** Cuts (or restores) the cable: the host sees its carrier drop, like an unplugged NIC. */
export async function setVeth(veth: string, up: boolean): Promise<void> {
  await run("ip", ["link", "set", "dev", veth, up ? "up" : "down"]);
}
