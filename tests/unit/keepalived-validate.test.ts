import { strict as assert } from "node:assert";
import {
  KeepalivedMemberArgs,
  KeepalivedVipArgs,
  VipHealthCheckKind,
  VrrpTimingProfile,
  VrrpTransport,
} from "../../components/keepalived/types";
import { derivedPriority } from "../../components/keepalived/defaults";
import { isInterfaceName, validateKeepalivedVipArgs } from "../../components/keepalived/validate";
import { InstallMethod } from "../../components/install";
import { hosts } from "./helpers/hosts";

function args(over: Partial<KeepalivedVipArgs> = {}): KeepalivedVipArgs {
  return { address: "10.0.0.10/24", interface: "eth0", members: hosts(3), virtualRouterId: 51, ...over };
}
function errors(a: KeepalivedVipArgs | undefined) {
  return validateKeepalivedVipArgs(a).errors.map((e) => `${e.path}: ${e.message}`);
}
function warnings(a: KeepalivedVipArgs) {
  return validateKeepalivedVipArgs(a).warnings.map((e) => `${e.path}: ${e.message}`);
}
function withPriorities(...p: Array<number | undefined>): KeepalivedMemberArgs[] {
  return hosts(p.length).map((h, i) => (p[i] === undefined ? h : { ...h, priority: p[i] }));
}

describe("KeepalivedVip validation", () => {
  it("accepts 3 members with the defaults", () => {
    assert.deepEqual(validateKeepalivedVipArgs(args()), { errors: [], warnings: [] });
  });
  it("refuses missing args", () => {
    assert.deepEqual(errors(undefined), [
      ": args must be an object with address, interface, members and virtualRouterId, got undefined",
    ]);
  });

  describe("members", () => {
    it("refuses an empty list", () => {
      assert.deepEqual(errors(args({ members: [] })), [
        "members: members must list at least one host, got []",
      ]);
    });
    it("warns about a single member", () => {
      assert.deepEqual(warnings(args({ members: hosts(1) })), [
        "members: members has 1: the virtual IP has no standby and goes down with that host; use 2 or more",
      ]);
      assert.deepEqual(errors(args({ members: hosts(1) })), []);
    });
    it("refuses duplicate names and addresses (shared host rules)", () => {
      const m = hosts(2);
      m[1] = { ...m[1], name: "m1" };
      assert.deepEqual(errors(args({ members: m })), [
        'members[1].name: members[1].name "m1" is already used by members[0]',
      ]);
    });
  });

  describe("address", () => {
    it("needs a prefix length", () => {
      assert.deepEqual(errors(args({ address: "10.0.0.10" })), [
        'address: address must be an IP address with the prefix length of its subnet, such as "10.0.0.10/24", got "10.0.0.10"',
      ]);
    });
    it("refuses invalid addresses and prefixes", () => {
      for (const bad of ["10.0.0.300/24", "10.0.0.10/33", "fd00::10/129", "10.0.0.10/024", "vip/24"]) {
        assert.equal(
          errors(args({ address: bad }))[0],
          `address: address must be an IP address with the prefix length of its subnet, such as "10.0.0.10/24", got ${JSON.stringify(bad)}`,
        );
      }
    });
    it("refuses a member's address", () => {
      assert.deepEqual(errors(args({ address: "10.0.0.12/24" })), [
        'address: address "10.0.0.12/24" is members[1].address; the virtual IP must be an address that no host owns',
      ]);
    });
    it("refuses members outside the VIP's subnet, naming each", () => {
      const m = hosts(3);
      m[2] = { ...m[2], address: "10.0.1.13" };
      assert.deepEqual(errors(args({ members: m })), [
        'members[2].address: members[2].address "10.0.1.13" is outside the virtual IP\'s subnet 10.0.0.0/24 (address "10.0.0.10/24"); every member must be on the VIP\'s network',
      ]);
      assert.deepEqual(errors(args({ members: m, address: "10.0.0.10/23" })), []);
    });
    it("refuses a member of the other IP family", () => {
      const m = hosts(2);
      m[1] = { ...m[1], address: "fd00::12" };
      assert.deepEqual(errors(args({ members: m })), [
        'members[1].address: members[1].address "fd00::12" is outside the virtual IP\'s subnet 10.0.0.0/24 (address "10.0.0.10/24"); every member must be on the VIP\'s network',
      ]);
    });
    it("refuses the network and broadcast addresses", () => {
      assert.deepEqual(errors(args({ address: "10.0.0.0/24" })), [
        'address: address "10.0.0.0/24" is the network address of 10.0.0.0/24; use a host address',
      ]);
      assert.deepEqual(errors(args({ address: "10.0.0.255/24" })), [
        'address: address "10.0.0.255/24" is the broadcast address of 10.0.0.0/24; use a host address',
      ]);
    });
    it("accepts IPv6, comparing addresses in any notation", () => {
      const m = hosts(2).map((h, i) => ({ ...h, address: `fd00::1${i + 1}` }));
      assert.deepEqual(errors(args({ members: m, address: "fd00::10/64" })), []);
      assert.deepEqual(errors(args({ members: m, address: "fd00:0:0::11/64" })), [
        'address: address "fd00:0:0::11/64" is members[0].address; the virtual IP must be an address that no host owns',
      ]);
      assert.match(
        errors(args({ members: m, address: "fd01::10/64" }))[0],
        /outside the virtual IP's subnet fd01::\/64/,
      );
    });
  });

  it("checks the interface name", () => {
    for (const good of ["eth0", "ens3", "bond0.100", "br-lab", "enp0s31f6", "a23456789012345"]) {
      assert.ok(isInterfaceName(good), good);
    }
    assert.deepEqual(errors(args({ interface: "eth0; reboot" })), [
      "interface: interface must be a Linux interface name (1-15 letters, digits, '_', '.' or '-'), got \"eth0; reboot\"",
    ]);
    assert.equal(errors(args({ interface: "a234567890123456" })).length, 1, "16 characters is too long");
    assert.equal(errors(args({ interface: "" })).length, 1);
    assert.equal(errors(args({ interface: "eth0:1" })).length, 1, "an alias label is not an interface");
  });

  it("needs virtualRouterId 1-255", () => {
    assert.deepEqual(errors(args({ virtualRouterId: 0 })), [
      "virtualRouterId: virtualRouterId must be a whole number 1-255, unique among the VRRP groups of the network, got 0",
    ]);
    assert.equal(errors(args({ virtualRouterId: 256 })).length, 1);
    assert.equal(errors(args({ virtualRouterId: 1.5 })).length, 1);
    assert.deepEqual(errors(args({ virtualRouterId: 255 })), []);
    assert.deepEqual(errors(args({ virtualRouterId: 1 })), []);
  });

  describe("priorities", () => {
    it("derives 200, 190, 180, ... from the order", () => {
      assert.deepEqual([0, 1, 2, 19].map(derivedPriority), [200, 190, 180, 10]);
    });
    it("refuses out-of-range and fractional priorities", () => {
      assert.deepEqual(errors(args({ members: withPriorities(255, 100, 60) })), [
        "members[0].priority: members[0].priority must be a whole number 1-254 (255 is reserved for the address owner), got 255",
      ]);
      assert.equal(errors(args({ members: withPriorities(0, 100) })).length, 1);
      assert.equal(errors(args({ members: withPriorities(100.5, 100) })).length, 1);
    });
    it("refuses duplicates, also against derived priorities", () => {
      assert.deepEqual(errors(args({ members: withPriorities(150, 150) })), [
        "members[1].priority: members[1].priority 150 is also the priority of members[0]; priorities must be unique",
      ]);
      assert.deepEqual(errors(args({ members: withPriorities(undefined, 200) })), [
        "members[1].priority: members[1].priority 200 is also the priority of members[0] (from its position); priorities must be unique",
      ]);
    });
    it("accepts explicit priorities in any order", () => {
      assert.deepEqual(errors(args({ members: withPriorities(99, 101, 100) })), []);
    });
    it("needs explicit priorities beyond 20 members", () => {
      const many = Array.from({ length: 21 }, (_, i) => ({
        name: `m${i + 1}`,
        address: `10.0.0.${20 + i}`,
        connection: { host: `10.0.0.${20 + i}` },
      }));
      assert.deepEqual(errors(args({ members: many, healthCheck: { kind: VipHealthCheckKind.None } })), [
        "members[20].priority: members[20] gets no priority from its position (200 - 10 x 20 = 0 is below 1); give every member a priority",
      ]);
    });
    it("keeps a member's priority while unproven (priority minus the check's weight) at 1 or more", () => {
      assert.deepEqual(errors(args({ members: withPriorities(10, 1) })), [
        "members[1].priority: members[1].priority 1 is too low for priorities spread from 1 to 10 with a health check: a member advertises its priority minus 10 (the spread plus one) until its check passes, and 1 - 10 = -9 is below 1; narrow the spread or raise the lowest priorities (twice the lowest minus the highest must be at least 2)",
      ]);
      // 2 x 100 - 198 = 2: the lowest advertises 100 - 99 = 1 until its check passes.
      assert.deepEqual(errors(args({ members: withPriorities(198, 100, 150) })), []);
      assert.deepEqual(errors(args({ members: withPriorities(199, 100, 150) })).length, 1);
      assert.deepEqual(
        errors(args({ members: withPriorities(10, 1), healthCheck: { kind: VipHealthCheckKind.None } })),
        [],
      );
      // Derived from positions, up to 10 members fit with a check (200 ... 110, weight 91).
      assert.deepEqual(errors(args({ members: hosts(10) })), []);
      assert.equal(errors(args({ members: hosts(11) })).length, 1);
    });
  });

  it("checks port and the health check", () => {
    assert.deepEqual(errors(args({ port: 70000 })), ["port: port must be a port number 1-65535, got 70000"]);
    assert.deepEqual(errors(args({ healthCheck: { kind: "tcp" as VipHealthCheckKind } })), [
      'healthCheck.kind: healthCheck.kind must be one of apiServer, haproxy, none, got "tcp"',
    ]);
    assert.deepEqual(errors(args({ healthCheck: { kind: VipHealthCheckKind.Haproxy, port: 0 } })), [
      "healthCheck.port: healthCheck.port must be a port number 1-65535, got 0",
    ]);
    assert.deepEqual(errors(args({ healthCheck: { kind: VipHealthCheckKind.None, port: 8404 } })), [
      'healthCheck.port: healthCheck.port has no use with healthCheck.kind "none", got 8404',
    ]);
  });

  describe("timing", () => {
    it("accepts every profile and overrides in range", () => {
      for (const profile of Object.values(VrrpTimingProfile)) {
        assert.deepEqual(errors(args({ timing: { profile } })), [], profile);
      }
      assert.deepEqual(
        errors(
          args({
            timing: {
              advertIntervalSeconds: 0.25,
              checkIntervalSeconds: 3,
              checkTimeoutSeconds: 2,
              checkFall: 3,
              checkRise: 1,
            },
          }),
        ),
        [],
      );
    });
    it("refuses an unknown profile", () => {
      assert.deepEqual(errors(args({ timing: { profile: "turbo" as VrrpTimingProfile } })), [
        'timing.profile: timing.profile must be one of fast, balanced, conservative, got "turbo"',
      ]);
    });
    it("needs VRRPv3 advertisement intervals in centiseconds", () => {
      for (const bad of [0.005, 0.125, 41, 0]) {
        assert.deepEqual(errors(args({ timing: { advertIntervalSeconds: bad } })), [
          `timing.advertIntervalSeconds: timing.advertIntervalSeconds must be 0.01-40.95 seconds in steps of 0.01 (VRRPv3), got ${bad}`,
        ]);
      }
      assert.deepEqual(errors(args({ timing: { advertIntervalSeconds: 40.95 } })), []);
      assert.deepEqual(errors(args({ timing: { advertIntervalSeconds: 0.01 } })), []);
    });
    it("needs whole seconds for the check (keepalived refuses fractions)", () => {
      assert.deepEqual(errors(args({ timing: { checkIntervalSeconds: 0.5 } })), [
        "timing.checkIntervalSeconds: timing.checkIntervalSeconds must be a whole number of seconds 1-4294 (keepalived refuses fractions), got 0.5",
      ]);
      assert.deepEqual(errors(args({ timing: { checkTimeoutSeconds: 0 } })), [
        "timing.checkTimeoutSeconds: timing.checkTimeoutSeconds must be a whole number of seconds 1-4294 (keepalived refuses fractions), got 0",
      ]);
    });
    it("keeps the check timeout within the interval, also the profile's", () => {
      assert.deepEqual(errors(args({ timing: { checkTimeoutSeconds: 2 } })), [
        "timing.checkTimeoutSeconds: timing.checkTimeoutSeconds must not exceed the check interval (1 s), got 2",
      ]);
      assert.deepEqual(
        errors(args({ timing: { profile: VrrpTimingProfile.Conservative, checkTimeoutSeconds: 2 } })),
        [],
      );
    });
    it("needs fall and rise of at least 1", () => {
      assert.deepEqual(errors(args({ timing: { checkFall: 0, checkRise: 1.5 } })), [
        "timing.checkFall: timing.checkFall must be a whole number 1-100, got 0",
        "timing.checkRise: timing.checkRise must be a whole number 1-100, got 1.5",
      ]);
    });
  });

  it("checks transport and install", () => {
    assert.deepEqual(errors(args({ transport: "broadcast" as VrrpTransport })), [
      'transport: transport must be one of unicast, multicast, got "broadcast"',
    ]);
    assert.deepEqual(errors(args({ install: { method: "snap" as InstallMethod } })), [
      'install.method: install.method must be one of package, preinstalled, got "snap"',
    ]);
    assert.deepEqual(errors(args({ install: { binDir: "usr/sbin" } })), [
      "install.binDir: install.binDir must be an absolute path of letters, digits, '.', '_', '-' and '/', got \"usr/sbin\"",
    ]);
    assert.deepEqual(
      errors(args({ install: { method: InstallMethod.Preinstalled, binDir: "/usr/local/sbin" } })),
      [],
    );
  });

  it("reports every problem at once", () => {
    const all = errors({
      address: "10.0.0.10",
      interface: "",
      members: [],
      virtualRouterId: 0,
      port: 0,
    });
    assert.equal(all.length, 5, all.join("\n"));
  });
});
