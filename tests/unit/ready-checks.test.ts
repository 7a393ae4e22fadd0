/**
 * The final checks that KeepalivedVip's and LoadBalancer's `endpoint` outputs wait for: shell syntax, and
 * their decisions run with stand-ins for ip, systemctl, ss and timeout (no keepalived or HAProxy here; the
 * lab runs them for real).
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  PROBE_MARK,
  renderVipCheckScript,
  renderVipProbeScript,
} from "../../components/keepalived/render/ready";
import { renderHaproxyReadyScript } from "../../components/loadbalancer/render/ready";
import { resolveHaproxy } from "../../components/loadbalancer/settings";
import { KnownHaproxyArgs, LoadBalancerKind } from "../../components/loadbalancer/types";
import { resolveKeepalivedVip } from "../../components/keepalived/settings";
import { VipHealthCheckKind, VipReadySettings } from "../../components/keepalived/types";
import { hosts } from "./helpers/hosts";
import { runSh, shSyntaxError, tempDir } from "./helpers/sh";

const VIP: VipReadySettings = {
  component: "vip",
  vip: "10.0.0.10",
  prefixLength: 24,
  interface: "eth0",
  port: 8443,
  endpoint: "10.0.0.10:8443",
  connect: true,
  timeoutSeconds: 5,
};

/** A directory of stand-in commands, first on PATH. */
function fakes(commands: Record<string, string>, step = 1): { env: NodeJS.ProcessEnv; dir: string } {
  const dir = tempDir("ready");
  // Every `date +%s` is `step` s after the one before: a wait of N s ends after N/step samples, at once.
  commands = {
    sleep: "exec /bin/sleep 0.01",
    date: `n=$(cat ${dir}/now 2>/dev/null || echo 1000); echo $((n + ${step})) > ${dir}/now; echo $n`,
    ...commands,
  };
  for (const [name, body] of Object.entries(commands)) {
    fs.writeFileSync(path.join(dir, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  }
  return { dir, env: { PATH: `${dir}:${process.env.PATH}` } };
}

describe("final checks (VIP probe and check, HAProxy ready)", () => {
  it("parse as POSIX sh", () => {
    const haproxy = (bindAddress?: string) => {
      const h: KnownHaproxyArgs = {
        hosts: hosts(2),
        backends: [{ name: "m1", address: "10.0.0.11" }],
        bindAddress,
      };
      return resolveHaproxy("lb", { kind: LoadBalancerKind.Haproxy, port: 8443, haproxy: h }, h);
    };
    for (const script of [
      renderVipProbeScript(VIP, "m1"),
      renderVipProbeScript({ ...VIP, connect: false }, "m1"),
      renderVipCheckScript(VIP, ["m1", "m2"]),
      renderHaproxyReadyScript(haproxy("10.0.0.10"), "m1"),
      renderHaproxyReadyScript(haproxy(undefined), "m1"),
    ]) {
      assert.equal(shSyntaxError(script), undefined, script);
    }
  });

  it("the check passes with exactly one holder and names it", () => {
    const stdin = [`m1: said something`, `${PROBE_MARK} m1 standby`, `${PROBE_MARK} m2 holder`].join("\n");
    const r = runSh(renderVipCheckScript(VIP, ["m1", "m2"]), { stdin });
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /the virtual IP 10\.0\.0\.10 is held by m2 and 10\.0\.0\.10:8443 accepts connections/,
    );
  });

  it("the check fails with two holders, or none, or a missing report", () => {
    const run = (lines: string[]) =>
      runSh(renderVipCheckScript(VIP, ["m1", "m2"]), { stdin: lines.join("\n") });
    const two = run([`${PROBE_MARK} m1 holder`, `${PROBE_MARK} m2 holder`]);
    assert.equal(two.code, 1);
    assert.match(
      two.stderr,
      /the virtual IP 10\.0\.0\.10 is held by 2 members \(m1 m2 \); it must be held by exactly one/,
    );
    const none = run([`${PROBE_MARK} m1 standby`, `${PROBE_MARK} m2 standby`]);
    assert.match(none.stderr, /is held by 0 members \(none\)/);
    const missing = run([`${PROBE_MARK} m1 holder`]);
    assert.match(missing.stderr, /expected a report from each of the 2 members/);
  });

  it("the probe reports holder or standby once the VIP has settled, without a connection check", () => {
    for (const [holder, state] of [
      ["1", "holder"],
      ["0", "standby"],
    ]) {
      const { env, dir } = fakes({
        systemctl: "exit 0",
        ip: `[ "${holder}" = 1 ] && echo "2: eth0    inet 10.0.0.10/24 scope global secondary eth0"; exit 0`,
      });
      try {
        const r = runSh(renderVipProbeScript({ ...VIP, connect: false }, "m1"), { env });
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout.trim().split("\n").pop(), `${PROBE_MARK} m1 ${state}`);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
  });

  it("the probe fails, naming the endpoint, when nothing accepts connections on the VIP's port", () => {
    const { env, dir } = fakes({ systemctl: "exit 0", ip: "exit 0", timeout: "exit 1" });
    try {
      const r = runSh(renderVipProbeScript(VIP, "m1"), { env });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /nothing accepts connections on 10\.0\.0\.10:8443 .* after 5 s/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("HAProxy's ready check fails, naming the port, when no haproxy listens", () => {
    const h: KnownHaproxyArgs = { hosts: hosts(1), backends: [{ name: "m1", address: "10.0.0.11" }] };
    const s = { ...resolveHaproxy("lb", { kind: LoadBalancerKind.Haproxy, port: 8443, haproxy: h }, h) };
    const { env, dir } = fakes({ systemctl: "exit 0", ss: "exit 0" }, 20);
    try {
      const r = runSh(renderHaproxyReadyScript(s, "m1"), { env });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /no haproxy process listens on port 8443 after 60 s/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("waits for the VIP's port only with the haproxy health check (the API servers come after the VIP)", () => {
    const connect = (kind: VipHealthCheckKind) =>
      resolveKeepalivedVip("vip", {
        address: "10.0.0.10/24",
        interface: "eth0",
        members: hosts(3),
        virtualRouterId: 51,
        healthCheck: { kind },
      }).check.connect;
    assert.deepEqual(
      [VipHealthCheckKind.Haproxy, VipHealthCheckKind.ApiServer, VipHealthCheckKind.None].map(connect),
      [true, false, false],
    );
    assert.doesNotMatch(renderVipProbeScript({ ...VIP, connect: false }, "m1"), /tcp_open/);
  });
});
