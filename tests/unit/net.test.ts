/**
 * components/net.ts: the address arithmetic every component shares. The first two groups are the tests the
 * separate HaControlPlane and LoadBalancer helpers had; the last pins the helpers that tie them together.
 */
import { strict as assert } from "node:assert";
import {
  addressInBlock,
  canonicalIp,
  childBlock,
  cidrContains,
  cidrsOverlap,
  hostBits,
  inSubnet,
  ipFamily,
  ipToBigInt,
  ipValue,
  isDnsLabel,
  isDnsName,
  isIpv4NetworkOrBroadcast,
  isSanDnsName,
  joinHostPort,
  networkOf,
  parseAddressWithPrefix,
  parseCidr,
  parseCidrBlock,
  parseHostPort,
  urlHost,
} from "../../components/net";

describe("net: address helpers", () => {
  describe("endpoints and CIDR blocks (HaControlPlane)", () => {
    it("parses host:port endpoints", () => {
      assert.deepEqual(parseHostPort("10.0.0.10:6443"), { host: "10.0.0.10", port: 6443 });
      assert.deepEqual(parseHostPort("[fd00::10]:443"), { host: "fd00::10", port: 443 });
      assert.deepEqual(parseHostPort("api.example.com:8443"), { host: "api.example.com", port: 8443 });
      for (const bad of [
        "10.0.0.10",
        "fd00::10:6443",
        "https://a:1",
        "a:0",
        "a:65536",
        "Api.example.com:1",
        "[10.0.0.1]:1",
      ]) {
        assert.equal(parseHostPort(bad), undefined, bad);
      }
    });
    it("parses CIDR blocks and finds overlaps and members", () => {
      assert.equal(parseCidr("10.0.0.1/24"), undefined, "host bits set");
      assert.equal(parseCidr("10.0.0.0/33"), undefined);
      const a = parseCidr("10.96.0.0/12")!;
      const b = parseCidr("10.100.0.0/16")!;
      assert.ok(cidrsOverlap(a, b) && cidrsOverlap(b, a));
      assert.ok(!cidrsOverlap(a, parseCidr("10.244.0.0/16")!));
      assert.ok(cidrContains(a, "10.111.255.255") && !cidrContains(a, "10.112.0.0"));
      assert.ok(cidrContains(parseCidr("fd00:10:96::/112")!, "fd00:10:96::1"));
      assert.ok(!cidrContains(a, "fd00::1"));
    });
  });

  describe("addresses and prefixes (LoadBalancer, KeepalivedVip)", () => {
    it("parses an address with its prefix", () => {
      assert.deepEqual(parseAddressWithPrefix("10.0.0.10/24"), {
        address: "10.0.0.10",
        prefixLength: 24,
        family: 4,
      });
      assert.deepEqual(parseAddressWithPrefix("fd00::10/64"), {
        address: "fd00::10",
        prefixLength: 64,
        family: 6,
      });
      for (const bad of [
        "10.0.0.10",
        "10.0.0.10/33",
        "10.0.0.10/-1",
        "10.0.0.10/ 24",
        "::1/129",
        24,
        undefined,
      ]) {
        assert.equal(parseAddressWithPrefix(bad), undefined, String(bad));
      }
    });
    it("tests subnet membership for both families", () => {
      assert.ok(inSubnet("10.0.0.200", "10.0.0.10", 24));
      assert.ok(!inSubnet("10.0.1.1", "10.0.0.10", 24));
      assert.ok(inSubnet("10.0.1.1", "10.0.0.10", 23));
      assert.ok(inSubnet("fd00::ffff", "fd00::10", 64));
      assert.ok(inSubnet("fd00:0:0:0:1::1", "fd00::10", 64));
      assert.ok(!inSubnet("fd00:0:0:1::1", "fd00::10", 64));
      assert.ok(inSubnet("::ffff:10.0.0.1", "::ffff:10.0.0.2", 120), "embedded IPv4");
      assert.ok(!inSubnet("10.0.0.1", "fd00::10", 0), "families never match");
    });
    it("names networks and special IPv4 addresses", () => {
      assert.equal(networkOf(parseAddressWithPrefix("10.0.0.10/24")!), "10.0.0.0/24");
      assert.equal(networkOf(parseAddressWithPrefix("fd00::10/64")!), "fd00::/64");
      assert.equal(isIpv4NetworkOrBroadcast(parseAddressWithPrefix("10.0.0.0/24")!), "network");
      assert.equal(isIpv4NetworkOrBroadcast(parseAddressWithPrefix("10.0.0.255/24")!), "broadcast");
      assert.equal(isIpv4NetworkOrBroadcast(parseAddressWithPrefix("10.0.0.1/24")!), undefined);
      assert.equal(
        isIpv4NetworkOrBroadcast(parseAddressWithPrefix("10.0.0.0/31")!),
        undefined,
        "point-to-point",
      );
    });
    it("prints addresses the way ip(8) does, and endpoints with IPv6 in brackets", () => {
      assert.equal(canonicalIp("FD00:0:0::0010"), "fd00::10");
      assert.equal(canonicalIp("10.0.0.1"), "10.0.0.1");
      assert.equal(joinHostPort("10.0.0.10", 6443), "10.0.0.10:6443");
      assert.equal(joinHostPort("fd00::10", 6443), "[fd00::10]:6443");
      assert.equal(ipFamily("fd00::1"), 6);
      assert.equal(ipFamily("host"), undefined);
    });
    it("accepts CIDR blocks only without host bits (as AWS security group rules)", () => {
      assert.ok(parseCidrBlock("10.0.0.0/16"));
      assert.ok(parseCidrBlock("0.0.0.0/0"));
      assert.ok(parseCidrBlock("fd00::/8"));
      assert.equal(parseCidrBlock("10.0.0.5/16"), undefined);
      assert.equal(parseCidrBlock("10.0.0.0"), undefined);
    });
  });

  describe("one implementation for every component", () => {
    it("gives addresses as numbers with their family, and throws only where asked to", () => {
      assert.deepEqual(ipValue("10.0.0.1"), { family: 4, value: 0x0a000001n });
      assert.deepEqual(ipValue("::ffff:10.0.0.1"), { family: 6, value: 0xffff0a000001n });
      assert.deepEqual(ipValue("fd00::1"), { family: 6, value: (0xfd00n << 112n) | 1n });
      assert.equal(ipValue("host"), undefined);
      assert.equal(ipValue(7), undefined);
      assert.equal(ipToBigInt("fd00::1"), ipValue("fd00::1")!.value);
      assert.throws(() => ipToBigInt("10.0.0.256"), /^Error: not an IP address: "10\.0\.0\.256"$/);
    });
    it("parses a CIDR block the same way for every component", () => {
      assert.deepEqual(parseCidr("10.96.0.0/12"), {
        text: "10.96.0.0/12",
        family: 4,
        prefixLength: 12,
        network: 0x0a600000n,
      });
      for (const v of [
        "10.96.0.0/12",
        "fd00:10:96::/112",
        "0.0.0.0/0",
        "10.0.0.5/16",
        "10.0.0.0/33",
        "x/8",
        8,
      ]) {
        assert.equal(parseCidr(v) === undefined, parseCidrBlock(v) === undefined, String(v));
      }
      assert.equal(hostBits(parseCidr("10.96.0.0/12")!), 20);
      assert.equal(hostBits(parseCidr("fd00:10:96::/112")!), 16);
      assert.ok(
        cidrContains(parseCidr("10.0.0.0/24")!, "10.0.0.200") && inSubnet("10.0.0.200", "10.0.0.0", 24),
      );
      assert.ok(!cidrsOverlap(parseCidr("10.0.0.0/24")!, parseCidr("fd00::/8")!), "families never overlap");
    });
    it("counts addresses and child blocks inside a block, IPv4 and IPv6 (the AWS stack's layout)", () => {
      assert.equal(addressInBlock(parseCidr("10.0.32.0/19")!, 10), "10.0.32.10");
      assert.equal(addressInBlock(parseCidr("10.0.0.0/24")!, 256), "10.0.1.0", "carries into the next octet");
      assert.equal(addressInBlock(parseCidr("fd00:0::/64")!, 17), "fd00::11", "canonical IPv6");
      assert.equal(childBlock(parseCidr("10.0.0.0/16")!, 3, 0), "10.0.0.0/19");
      assert.equal(childBlock(parseCidr("10.0.0.0/16")!, 3, 2), "10.0.64.0/19");
      assert.equal(childBlock(parseCidr("10.0.0.0/16")!, 6, 56), "10.0.224.0/22");
      assert.equal(childBlock(parseCidr("fd00::/48")!, 16, 3), "fd00:0:0:3::/64");
    });
    it("joins host and port, and brackets IPv6 in URLs", () => {
      for (const [host, port] of [
        ["10.0.0.10", 6443],
        ["fd00::10", 443],
        ["api.example.com", 8443],
      ] as const) {
        assert.equal(joinHostPort(host, port), `${urlHost(host)}:${port}`);
        assert.deepEqual(parseHostPort(joinHostPort(host, port)), { host, port });
      }
      assert.equal(joinHostPort("fd00::10", 6443), "[fd00::10]:6443");
      assert.equal(parseHostPort("a:65535")?.port, 65535);
    });
    it("checks DNS names and certificate SAN names", () => {
      for (const ok of ["a", "api.example.com", "x".repeat(63) + ".b", "a-1.b-2"])
        assert.ok(isDnsName(ok), ok);
      for (const bad of [
        "",
        "A.b",
        "-a.b",
        "a-.b",
        "a..b",
        "a.",
        ".a",
        "a_b",
        "x".repeat(64),
        "a".repeat(254),
        3,
      ])
        assert.ok(!isDnsName(bad), String(bad));
      assert.ok(isDnsName(Array(127).fill("a").join(".")), "253 characters");
      assert.ok(isSanDnsName("*.example.com") && !isDnsName("*.example.com"));
      assert.ok(!isSanDnsName("*") && !isSanDnsName("a.*.b") && !isSanDnsName(undefined));
      assert.ok(isDnsLabel("m1") && !isDnsLabel("a.b"));
      assert.equal(ipFamily("10.0.0.1"), 4);
      assert.equal(canonicalIp("::FFFF:10.0.0.1"), "::ffff:a00:1");
      assert.equal(networkOf(parseAddressWithPrefix("::ffff:10.0.0.1/120")!), "::ffff:a00:0/120");
      assert.equal(isIpv4NetworkOrBroadcast(parseAddressWithPrefix("fd00::/64")!), undefined);
    });
  });
});
