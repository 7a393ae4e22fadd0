import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { KeepalivedVip } from "../../components/keepalived/keepalivedVip";
import {
  renderKeepalivedConfigureScript,
  renderKeepalivedInstallScript,
  renderKeepalivedRemoveScript,
} from "../../components/keepalived/render/scripts";
import { resolveKeepalivedVip } from "../../components/keepalived/settings";
import {
  KeepalivedVipArgs,
  KnownKeepalivedVipArgs,
  VipHealthCheckKind,
} from "../../components/keepalived/types";
import { InstallMethod } from "../../components/install";
import { hosts } from "./helpers/hosts";
import { CMD, isSecretInput, Recorder, resolve, underMocks, unwrap } from "./helpers/mocks";

const base = (over: Partial<KeepalivedVipArgs> = {}): KeepalivedVipArgs => ({
  address: "10.0.0.10/24",
  interface: "eth0",
  members: hosts(3),
  virtualRouterId: 51,
  ...over,
});

async function deploy(over: Partial<KeepalivedVipArgs> = {}, jitterMs = 0) {
  const { rec, out: vip } = await underMocks(() => new KeepalivedVip("vip", base(over)), { jitterMs });
  return { rec, vip };
}

function inputs(rec: Recorder, name: string): Record<string, unknown> {
  return unwrap(rec.get(name).inputs) as Record<string, unknown>;
}

describe("KeepalivedVip (mocks)", () => {
  for (const n of [2, 3, 5]) {
    it(`creates install, configure and probe per member and one check for ${n} member(s), nothing else`, async () => {
      const { rec } = await deploy({ members: hosts(n) });
      const expected = [
        ...Array.from({ length: n }, (_, i) => [
          `vip-m${i + 1}-install`,
          `vip-m${i + 1}-configure`,
          `vip-m${i + 1}-probe`,
        ]).flat(),
        "vip-check",
      ].sort();
      assert.deepEqual(rec.names(CMD), expected);
      assert.equal(rec.resources.length, 3 * n + 1);
    });
  }

  it("installs in parallel, configures after install and one member after another", async () => {
    const { rec } = await deploy({}, 15);
    const after = (later: string, earlier: string) =>
      assert.ok(
        rec.get(later).registeredAt >= rec.get(earlier).resolvedAt,
        `${later} was registered before ${earlier} was created`,
      );
    for (const m of ["m1", "m2", "m3"]) after(`vip-${m}-configure`, `vip-${m}-install`);
    after("vip-m2-configure", "vip-m1-configure");
    after("vip-m3-configure", "vip-m2-configure");
    const installs = ["m1", "m2", "m3"].map((m) => rec.get(`vip-${m}-install`));
    assert.ok(
      Math.max(...installs.map((r) => r.registeredAt)) < Math.min(...installs.map((r) => r.resolvedAt)) + 15,
      "installs do not wait for each other",
    );
  });

  it("sends exactly the rendered scripts; delete releases the VIP", async () => {
    const { rec } = await deploy();
    const resolved = resolveKeepalivedVip("vip", base() as KnownKeepalivedVipArgs);
    resolved.members.forEach((s, i) => {
      const name = `m${i + 1}`;
      const configure = inputs(rec, `vip-${name}-configure`);
      assert.equal(configure.create, renderKeepalivedConfigureScript(s));
      assert.equal(configure.delete, renderKeepalivedRemoveScript(s));
      assert.equal(configure.update, undefined, "a change re-runs create");
      assert.equal(configure.stdin, undefined, "nothing secret to send");
      const install = inputs(rec, `vip-${name}-install`);
      assert.equal(
        install.create,
        renderKeepalivedInstallScript({
          component: "vip",
          name,
          method: InstallMethod.Package,
          binDir: "/usr/sbin",
          needsCheckTools: true,
          scriptUser: "keepalived_script",
        }),
      );
      assert.equal(install.delete, undefined, "the package stays when the component goes");
    });
    assert.match(inputs(rec, "vip-m2-configure").create as string, /priority 169\n/);
  });

  it("without a health check, installs no curl", async () => {
    const { rec } = await deploy({ healthCheck: { kind: VipHealthCheckKind.None } });
    assert.doesNotMatch(inputs(rec, "vip-m1-install").create as string, /curl/);
    assert.doesNotMatch(inputs(rec, "vip-m1-configure").create as string, /vrrp_script/);
  });

  it("keeps every connection secret and connects as root by default", async () => {
    const { rec } = await deploy();
    for (const r of rec.byType(CMD)) {
      assert.ok(isSecretInput(r.inputs.connection), `${r.name}: connection must be secret`);
      const c = unwrap(r.inputs.connection) as Record<string, unknown>;
      assert.equal(c.user, "root");
      assert.match(String(c.privateKey), /FAKE-PRIVATE-KEY/);
    }
    assert.equal((inputs(rec, "vip-m3-configure").connection as Record<string, unknown>).host, "10.0.0.13");
    for (const r of rec.byType(CMD)) {
      const text = [inputs(rec, r.name).create, inputs(rec, r.name).delete].join("\n");
      assert.doesNotMatch(text, /PRIVATE-KEY|PRIVATE KEY/, `${r.name} carries a key in its command`);
    }
  });

  it("exposes the address and the endpoint", async () => {
    const { vip } = await deploy();
    assert.equal(await resolve(vip.address), "10.0.0.10");
    assert.equal(await resolve(vip.endpoint), "10.0.0.10:6443");
    assert.ok(!(await pulumi.isSecret(vip.endpoint)));
  });

  it("exposes IPv6 endpoints with brackets and the chosen port", async () => {
    const { vip } = await deploy({
      address: "fd00::10/64",
      members: hosts(2).map((h, i) => ({ ...h, address: `fd00::1${i + 1}` })),
      port: 8443,
    });
    assert.equal(await resolve(vip.address), "fd00::10");
    assert.equal(await resolve(vip.endpoint), "[fd00::10]:8443");
  });

  it("refuses bad args before creating anything, naming argument and value", async () => {
    const rec = new Recorder();
    await rec.install();
    assert.throws(
      () => new KeepalivedVip("vip", base({ address: "10.0.0.11/24", virtualRouterId: 300 })),
      (e: Error) =>
        pulumi.InputPropertiesError.isInstance(e) &&
        e.message.startsWith("KeepalivedVip vip has invalid arguments:\n") &&
        e.message.includes('address "10.0.0.11/24" is members[0].address') &&
        e.message.includes(
          "virtualRouterId must be a whole number 1-255, unique among the VRRP groups of the network, got 300",
        ),
    );
    await rec.idle();
    assert.equal(rec.resources.length, 0);
  });

  it("logs a warning for a single member and still deploys it", async () => {
    const seen: string[] = [];
    const original = pulumi.log.warn;
    (pulumi.log as { warn: typeof original }).warn = async (msg: string) => {
      seen.push(msg);
    };
    try {
      const { rec } = await deploy({ members: hosts(1) });
      assert.deepEqual(rec.names(CMD), ["vip-check", "vip-m1-configure", "vip-m1-install", "vip-m1-probe"]);
    } finally {
      (pulumi.log as { warn: typeof original }).warn = original;
    }
    assert.deepEqual(seen, [
      "KeepalivedVip vip: members has 1: the virtual IP has no standby and goes down with that host; use 2 or more",
    ]);
  });
});
