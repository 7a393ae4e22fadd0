import { strict as assert } from "node:assert";
import { execFile, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import { AddressInfo } from "node:net";
import * as path from "node:path";
import { TIMING_PROFILES } from "../../components/keepalived/defaults";
import {
  buildKeepalivedConfig,
  renderCheckScript,
  renderKeepalivedConfig,
  renderUnit,
} from "../../components/keepalived/render/config";
import {
  renderKeepalivedConfigureScript,
  renderKeepalivedInstallScript,
  renderKeepalivedRemoveScript,
} from "../../components/keepalived/render/scripts";
import { checkWeight, resolveKeepalivedVip } from "../../components/keepalived/settings";
import {
  KeepalivedMemberSettings,
  VipHealthCheckKind,
  VrrpTimingProfile,
  VrrpTransport,
  KnownKeepalivedVipArgs,
} from "../../components/keepalived/types";
import { InstallMethod } from "../../components/install";
import { assertGolden } from "./helpers/golden";
import { hosts } from "./helpers/hosts";
import { canUseNamespaces, inNamespaces, sandboxRc, useSandbox, which } from "./helpers/sandbox";
import { ShResult, shSyntaxError, tempDir } from "./helpers/sh";

function resolve(over: Partial<KnownKeepalivedVipArgs> = {}) {
  return resolveKeepalivedVip("vip", {
    address: "10.0.0.10/24",
    interface: "eth0",
    members: hosts(3),
    virtualRouterId: 51,
    ...over,
  });
}
const m1 = resolve().members[0];
const ipv6 = resolve({
  address: "fd00::10/64",
  members: hosts(3).map((h, i) => ({ ...h, address: `fd00:0::1${i + 1}` })),
});
const installArgs = {
  component: "vip",
  name: "m1",
  method: InstallMethod.Package,
  binDir: "/usr/sbin",
  needsCheckTools: true,
  scriptUser: "keepalived_script",
};

/** A keepalived.conf line (trimmed) list, for flag tests. */
function lines(conf: string): string[] {
  return conf.split("\n").map((l) => l.trim());
}

describe("KeepalivedVip renderers", () => {
  describe("keepalived.conf", () => {
    it("matches the golden file for the defaults (unicast, API server check, fast)", () => {
      assertGolden("keepalived/keepalived-m1.conf", renderKeepalivedConfig(m1));
    });
    it("matches the golden file for IPv6", () => {
      assertGolden("keepalived/keepalived-ipv6-m2.conf", renderKeepalivedConfig(ipv6.members[1]));
    });
    it("unicast: advertises from the member's address to every other member, in order", () => {
      const conf = lines(renderKeepalivedConfig(resolve().members[1]));
      assert.ok(conf.includes("unicast_src_ip 10.0.0.12"));
      const peers = conf.indexOf("unicast_peer {");
      assert.deepEqual(conf.slice(peers + 1, peers + 3), ["10.0.0.11", "10.0.0.13"]);
    });
    it("multicast: no unicast lines", () => {
      const conf = renderKeepalivedConfig(resolve({ transport: VrrpTransport.Multicast }).members[0]);
      assert.doesNotMatch(conf, /unicast/);
      assert.match(conf, /VRRPv3 multicast/);
    });
    it("a single member has no peer, so no unicast lines (keepalived -t refuses a source without peers)", () => {
      const conf = renderKeepalivedConfig(resolve({ members: hosts(1) }).members[0]);
      assert.doesNotMatch(conf, /unicast_/);
    });
    it("VRRPv3, every member starts as BACKUP, the VIP with its prefix on the interface", () => {
      const conf = lines(renderKeepalivedConfig(m1));
      for (const l of [
        "vrrp_version 3",
        "state BACKUP",
        "interface eth0",
        "virtual_router_id 51",
        "10.0.0.10/24 dev eth0",
      ]) {
        assert.ok(conf.includes(l), l);
      }
      assert.ok(!conf.includes("nopreempt"), "preemption stays on (see render/config.ts)");
    });
    it("has no VRRP authentication (VRRPv2-only, clear text)", () => {
      const conf = renderKeepalivedConfig(m1);
      assert.doesNotMatch(conf, /^\s*authentication\s*\{/m);
      assert.doesNotMatch(conf, /auth_pass|auth_type/);
      assert.match(conf, /# No authentication block: VRRP authentication is VRRPv2-only/);
    });
    it("derives priorities from the order, or takes the given ones", () => {
      assert.deepEqual(
        resolve().members.map((m) => m.priority),
        [200, 190, 180],
      );
      const given = resolve({ members: hosts(3).map((h, i) => ({ ...h, priority: [101, 100, 99][i] })) });
      assert.deepEqual(
        given.members.map((m) => m.priority),
        [101, 100, 99],
      );
      // Advertised until its check passes: 99 minus the weight (the spread plus one).
      assert.ok(lines(renderKeepalivedConfig(given.members[2])).includes("priority 96"));
    });
    it("raises a member by more than the priority spread once its check passes, and starts it failed (init_fail)", () => {
      assert.equal(checkWeight([200, 190, 180]), 21);
      assert.equal(checkWeight([101, 100, 99]), 3);
      assert.equal(checkWeight([150]), 1);
      const conf = lines(renderKeepalivedConfig(m1));
      // keepalived's priority is the base one, advertised until the check passes; never a negative weight
      // (keepalived 2.2.7 applies one only after the first check result).
      assert.ok(conf.includes("priority 179"), conf.join("\n"));
      assert.ok(conf.includes("weight 21"));
      assert.ok(!conf.some((l) => /weight -/.test(l)));
      assert.ok(conf.includes("init_fail"));
      assert.ok(conf.includes("track_script {"));
      const members = resolve().members;
      for (const m of members) assert.equal(m.basePriority + m.check!.weight, m.priority);
      // Every failing or unproven member ranks below every healthy one, and keeps its order.
      const healthy = members.map((m) => m.priority);
      const failing = members.map((m) => m.basePriority);
      assert.ok(Math.max(...failing) < Math.min(...healthy));
      assert.deepEqual(
        [...failing].sort((a, b) => b - a),
        failing,
      );
      assert.ok(Math.min(...failing) >= 1);
    });
    it("runs the check script as root with script security on", () => {
      const conf = lines(renderKeepalivedConfig(m1));
      assert.ok(conf.includes("enable_script_security"));
      assert.ok(conf.includes("script_user root"));
      assert.ok(conf.includes('script "/etc/keepalived/hakube-check.sh"'));
    });
    it("without a health check: no vrrp_script and no track_script", () => {
      const s = resolve({ healthCheck: { kind: VipHealthCheckKind.None } }).members[0];
      const conf = renderKeepalivedConfig(s);
      assert.doesNotMatch(conf, /vrrp_script|track_script|init_fail|weight/);
      assert.match(conf, /no health check/);
      assert.throws(() => renderCheckScript(s), /needs a health check/);
    });
    for (const profile of Object.values(VrrpTimingProfile)) {
      it(`timing profile ${profile}`, () => {
        const t = TIMING_PROFILES[profile];
        const conf = lines(renderKeepalivedConfig(resolve({ timing: { profile } }).members[0]));
        assert.ok(conf.includes(`advert_int ${t.advertIntervalSeconds}`));
        assert.ok(conf.includes(`interval ${t.checkIntervalSeconds}`));
        assert.ok(conf.includes(`timeout ${t.checkTimeoutSeconds}`));
        assert.ok(conf.includes(`fall ${t.checkFall}`));
        assert.ok(conf.includes(`rise ${t.checkRise}`));
      });
    }
    it("the default profile is fast: advert 0.1 s, check every 1 s, fall 2, rise 2", () => {
      const c = buildKeepalivedConfig(m1);
      const instance = c.blocks.find((b) => b.keyword.startsWith("vrrp_instance"));
      assert.ok(instance?.items.includes("advert_int 0.1"));
      const conf = lines(renderKeepalivedConfig(m1));
      for (const l of ["interval 1", "timeout 1", "fall 2", "rise 2"]) assert.ok(conf.includes(l), l);
    });
    it("explicit timings override the profile", () => {
      const s = resolve({
        timing: { profile: VrrpTimingProfile.Conservative, advertIntervalSeconds: 0.25, checkFall: 5 },
      }).members[0];
      const conf = lines(renderKeepalivedConfig(s));
      assert.ok(conf.includes("advert_int 0.25"));
      assert.ok(conf.includes("fall 5"));
      assert.ok(conf.includes("interval 2"), "the rest comes from the profile");
    });
  });

  describe("systemd unit", () => {
    it("matches the golden file", () => {
      assertGolden("keepalived/keepalived.service", renderUnit(m1));
    });
    it("releases the VIP before start and after any stop, restarts always, keeps pid files in a runtime dir", () => {
      const unit = renderUnit(m1);
      const release = "/bin/sh -c 'ip address del 10.0.0.10/24 dev eth0 2>/dev/null || true'";
      assert.ok(unit.includes(`ExecStartPre=${release}\n`));
      assert.ok(unit.includes(`ExecStopPost=${release}\n`));
      assert.match(unit, /^Restart=always$/m);
      assert.match(unit, /^RuntimeDirectory=keepalived$/m);
      assert.match(unit, /--pid=\/run\/keepalived\/keepalived\.pid --vrrp_pid=\/run\/keepalived\/vrrp\.pid/);
      assert.match(unit, /^ExecStart=\/usr\/sbin\/keepalived --dont-fork --vrrp /m);
    });
    it("uses the binDir", () => {
      const s = resolve({ install: { method: InstallMethod.Preinstalled, binDir: "/opt/ka/sbin" } })
        .members[0];
      assert.match(renderUnit(s), /^ExecStart=\/opt\/ka\/sbin\/keepalived /m);
    });
    it("removes an IPv6 VIP in its canonical form", () => {
      assert.match(renderUnit(ipv6.members[0]), /ip address del fd00::10\/64 dev eth0/);
    });
  });

  describe("health-check script", () => {
    it("API server (golden): HTTPS /readyz on the member's own address, --insecure", () => {
      const script = renderCheckScript(m1);
      assertGolden("keepalived/check-apiserver.sh", script);
      assert.match(script, /^URL='https:\/\/10\.0\.0\.11:6443\/readyz'$/m);
      assert.match(script, / --insecure /);
    });
    it("HAProxy (golden): HTTP /healthz on loopback, no --insecure", () => {
      const s = resolve({ healthCheck: { kind: VipHealthCheckKind.Haproxy } }).members[0];
      const script = renderCheckScript(s);
      assertGolden("keepalived/check-haproxy.sh", script);
      assert.match(script, /^URL='http:\/\/127\.0\.0\.1:8404\/healthz'$/m);
      assert.doesNotMatch(script, /--insecure/);
    });
    it("follows healthCheck.port and the VIP port", () => {
      assert.match(
        renderCheckScript(resolve({ port: 8443 }).members[0]),
        /https:\/\/10\.0\.0\.11:8443\/readyz/,
      );
      assert.match(
        renderCheckScript(resolve({ healthCheck: { port: 6444 } }).members[0]),
        /https:\/\/10\.0\.0\.11:6444\/readyz/,
      );
      assert.match(
        renderCheckScript(
          resolve({ healthCheck: { kind: VipHealthCheckKind.Haproxy, port: 9000 } }).members[0],
        ),
        /http:\/\/127\.0\.0\.1:9000\/healthz/,
      );
    });
    it("puts IPv6 addresses in brackets", () => {
      assert.match(renderCheckScript(ipv6.members[0]), /https:\/\/\[fd00::11\]:6443\/readyz/);
    });
  });

  describe("scripts", () => {
    const scripts: Record<string, string> = {
      "install-package": renderKeepalivedInstallScript(installArgs),
      "install-preinstalled-nocheck": renderKeepalivedInstallScript({
        ...installArgs,
        method: InstallMethod.Preinstalled,
        needsCheckTools: false,
      }),
      "configure-m1": renderKeepalivedConfigureScript(m1),
      "remove-m1": renderKeepalivedRemoveScript(m1),
    };
    for (const [name, script] of Object.entries(scripts)) {
      it(`${name} (golden)`, () => assertGolden(`keepalived/${name}.sh`, script));
    }
    it("every script parses as POSIX sh and stops on errors", () => {
      const all = {
        ...scripts,
        "configure-multicast-nocheck": renderKeepalivedConfigureScript(
          resolve({ transport: VrrpTransport.Multicast, healthCheck: { kind: VipHealthCheckKind.None } })
            .members[0],
        ),
        "configure-ipv6": renderKeepalivedConfigureScript(ipv6.members[2]),
        check: renderCheckScript(m1),
      };
      for (const [name, s] of Object.entries(all)) {
        assert.equal(shSyntaxError(s), undefined, `${name} has a syntax error`);
        assert.match(s, /\nset -eu\n/, `${name} must stop on errors`);
      }
    });
    it("install: keepalived and curl by package, the check user, version 2.0 or later", () => {
      const s = scripts["install-package"];
      assert.match(s, /install_packages \$need/);
      assert.match(s, /need="\$need curl"/);
      assert.match(s, /useradd --system .* "\$SCRIPT_USER"/);
      assert.match(s, /require_version "\$\("\$KEEPALIVED" --version/);
      assert.doesNotMatch(scripts["install-preinstalled-nocheck"], /install_packages \$need|curl|useradd/);
    });
    it("configure: check script first, keepalived -t on a temp file, then the unit, then reload or restart", () => {
      const s = scripts["configure-m1"];
      const at = (needle: string) => {
        const i = s.indexOf(needle);
        assert.ok(i >= 0, `missing ${needle}`);
        return i;
      };
      assert.ok(at("put /etc/keepalived/hakube-check.sh") < at('"$KEEPALIVED" -t -f "$tmp"'));
      assert.ok(at('"$KEEPALIVED" -t -f "$tmp"') < at('put "$CONFIG" 0644 root:root < "$tmp"'));
      assert.ok(
        at('put "$CONFIG" 0644 root:root < "$tmp"') < at("put /etc/systemd/system/keepalived.service"),
      );
      assert.match(s, /systemctl reload keepalived/);
      assert.match(s, /systemctl restart keepalived/);
    });
    it("configure without a check removes an old check script and needs no check user", () => {
      const s = renderKeepalivedConfigureScript(
        resolve({ healthCheck: { kind: VipHealthCheckKind.None } }).members[0],
      );
      assert.match(s, /rm -f \/etc\/keepalived\/hakube-check\.sh/);
      assert.doesNotMatch(s, /getent passwd/);
    });
    it("configure checks that the member's address is on the interface only for unicast", () => {
      assert.match(scripts["configure-m1"], /grep -q " \$ADDRESS\/"/);
      const multicast = renderKeepalivedConfigureScript(
        resolve({ transport: VrrpTransport.Multicast }).members[0],
      );
      assert.doesNotMatch(multicast, /grep -q " \$ADDRESS\/"/);
    });
  });
});

// ---------------------------------------------------------------------------------------------------
// Real keepalived and real sh: `keepalived -t` on the rendered files, the health check against local
// servers, and the configure/remove scripts in a private network and mount namespace (a fake systemctl
// records what they ask of systemd). Nothing is started on this machine; skipped without the tools.

const canNamespace = canUseNamespaces("ip");
const haveKeepalived =
  which("keepalived") && fs.existsSync("/etc/keepalived") && fs.existsSync("/etc/systemd/system");

/** keepalived -t of a config that expects its check script at /etc/keepalived/hakube-check.sh. */
function keepalivedTest(config: string, check: string | undefined, iface = "eth0"): ShResult {
  const dir = tempDir("keepalived-t");
  try {
    fs.chmodSync(dir, 0o755);
    fs.writeFileSync(path.join(dir, "keepalived.conf"), config);
    if (check) fs.writeFileSync(path.join(dir, "hakube-check.sh"), check, { mode: 0o755 });
    return inNamespaces(
      `mount --bind ${dir} /etc/keepalived\nip link add ${iface} type veth peer name hakube-peer\nip link set ${iface} up`,
      "keepalived -t -f /etc/keepalived/keepalived.conf",
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe("KeepalivedVip renderers with real keepalived (keepalived -t)", function () {
  before(function () {
    if (!canNamespace || !haveKeepalived) this.skip();
  });
  const variants: Record<string, KeepalivedMemberSettings> = {
    "defaults (unicast, API server check, fast)": m1,
    "multicast, no check": resolve({
      transport: VrrpTransport.Multicast,
      healthCheck: { kind: VipHealthCheckKind.None },
    }).members[1],
    "HAProxy check, conservative": resolve({
      healthCheck: { kind: VipHealthCheckKind.Haproxy },
      timing: { profile: VrrpTimingProfile.Conservative },
    }).members[2],
    balanced: resolve({ timing: { profile: VrrpTimingProfile.Balanced } }).members[0],
    "explicit priorities 101/100": resolve({
      members: hosts(2).map((h, i) => ({ ...h, priority: 101 - i })),
    }).members[1],
    IPv6: ipv6.members[0],
    "a single member": resolve({ members: hosts(1) }).members[0],
  };
  for (const [name, s] of Object.entries(variants)) {
    it(`accepts ${name}`, () => {
      const r = keepalivedTest(renderKeepalivedConfig(s), s.check ? renderCheckScript(s) : undefined);
      assert.equal(r.code, 0, `keepalived -t: ${r.stdout}${r.stderr}`);
    });
  }
  it("the unit passes systemd-analyze verify without a warning", function () {
    if (!which("systemd-analyze")) this.skip();
    const dir = tempDir("unit");
    try {
      const file = path.join(dir, "keepalived.service");
      fs.writeFileSync(file, renderUnit(m1));
      const r = spawnSync("systemd-analyze", ["verify", file], { encoding: "utf8", timeout: 20000 });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr.trim(), "", "no unknown keys or bad values");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
  it("refuses what the validators refuse, so the host-side check is real", () => {
    const r = keepalivedTest(renderKeepalivedConfig({ ...m1, virtualRouterId: 0 }), renderCheckScript(m1));
    assert.equal(r.code, 5);
    assert.match(r.stderr, /VRID '0' not valid/);
    const wrongIface = keepalivedTest(renderKeepalivedConfig(m1), renderCheckScript(m1), "ens3");
    assert.equal(wrongIface.code, 5);
    assert.match(wrongIface.stderr, /Non-existent interface specified/);
    const noScript = keepalivedTest(renderKeepalivedConfig(m1), undefined);
    assert.equal(noScript.code, 5, "a missing check script is refused");
  });
});

describe("health-check script against local servers", function () {
  this.timeout(20000);
  let dir = "";
  let tlsServer: https.Server;
  let plainServer: http.Server;
  const state = { status: 200, delayMs: 0, paths: [] as string[] };
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    state.paths.push(req.url ?? "");
    setTimeout(() => {
      res.statusCode = state.status;
      res.end(state.status === 200 ? "ok" : "[-]etcd failed");
    }, state.delayMs);
  };
  const listen = (s: http.Server) =>
    new Promise<number>((r) => s.listen(0, "127.0.0.1", () => r((s.address() as AddressInfo).port)));
  let tlsPort = 0;
  let plainPort = 0;

  before(async function () {
    if (!which("curl") || !which("openssl") || !which("setpriv")) this.skip();
    dir = tempDir("check");
    const gen = spawnSync(
      "openssl",
      ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1"].concat(
        ["-keyout", path.join(dir, "key.pem"), "-out", path.join(dir, "cert.pem"), "-subj", "/CN=apiserver"],
      ),
      { encoding: "utf8" },
    );
    assert.equal(gen.status, 0, gen.stderr);
    tlsServer = https.createServer(
      { key: fs.readFileSync(path.join(dir, "key.pem")), cert: fs.readFileSync(path.join(dir, "cert.pem")) },
      handler,
    );
    plainServer = http.createServer(handler);
    tlsPort = await listen(tlsServer);
    plainPort = await listen(plainServer);
  });
  after(() => {
    tlsServer?.close();
    plainServer?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    state.status = 200;
    state.delayMs = 0;
    state.paths = [];
  });

  /** The rendered check for a member at 127.0.0.1; curl runs as `user` when the test runs as root. */
  function check(kind: VipHealthCheckKind, port: number, user = "nobody"): string {
    const s = resolveKeepalivedVip("vip", {
      address: "127.0.0.10/8",
      interface: "lo",
      members: [{ name: "m1", address: "127.0.0.1", connection: { host: "127.0.0.1" } }],
      virtualRouterId: 51,
      healthCheck: { kind, port },
    }).members[0];
    return renderCheckScript({ ...s, scriptUser: user });
  }
  /** Run with sh without blocking the event loop (the servers live in this process). */
  function run(script: string): Promise<number> {
    return new Promise((resolve) => {
      const child = execFile("/bin/sh", ["-c", script], { timeout: 10000 }, () => undefined);
      child.on("exit", (code) => resolve(code ?? -1));
    });
  }

  it("API server: exit 0 when /readyz answers 200 over HTTPS (self-signed: --insecure)", async () => {
    assert.equal(await run(check(VipHealthCheckKind.ApiServer, tlsPort)), 0);
    assert.deepEqual(state.paths, ["/readyz"]);
  });
  it("API server: exit 22 when /readyz answers 500", async () => {
    state.status = 500;
    assert.equal(await run(check(VipHealthCheckKind.ApiServer, tlsPort)), 22);
  });
  it("API server: exit 7 when nothing listens", async () => {
    const s = http.createServer();
    const free = await listen(s);
    await new Promise<void>((r) => s.close(() => r()));
    assert.equal(await run(check(VipHealthCheckKind.ApiServer, free)), 7);
  });
  it("API server: exit 28 when /readyz hangs past the timeout", async () => {
    state.delayMs = 3000;
    const started = Date.now();
    assert.equal(await run(check(VipHealthCheckKind.ApiServer, tlsPort)), 28);
    assert.ok(Date.now() - started < 2000, "curl gives up within the check timeout");
  });
  it("HAProxy: exit 0 when /healthz answers 200 over HTTP, 22 on 503", async () => {
    assert.equal(await run(check(VipHealthCheckKind.Haproxy, plainPort)), 0);
    assert.deepEqual(state.paths, ["/healthz"]);
    state.status = 503;
    assert.equal(await run(check(VipHealthCheckKind.Haproxy, plainPort)), 22);
  });
  it("fails closed without asking when the unprivileged user does not exist", async function () {
    if (process.getuid?.() !== 0) this.skip();
    assert.notEqual(await run(check(VipHealthCheckKind.ApiServer, tlsPort, "hakube-no-such-user")), 0);
    assert.deepEqual(state.paths, [], "curl never ran");
  });
});

describe("configure and remove scripts in a sandbox (fake systemctl)", function () {
  this.timeout(30000);
  const sandbox = useSandbox("keepalived-sandbox", ["etc-keepalived", "etc-systemd"]);
  const { d, systemctl } = sandbox;

  before(function () {
    if (!canNamespace || !haveKeepalived || !which("setpriv")) this.skip();
  });
  beforeEach(() => {
    fs.writeFileSync(
      d("passwd"),
      fs.readFileSync("/etc/passwd", "utf8") +
        "keepalived_script:x:64999:64999::/nonexistent:/usr/sbin/nologin\n",
    );
    fs.writeFileSync(d("group"), fs.readFileSync("/etc/group", "utf8") + "keepalived_script:x:64999:\n");
  });

  function run(script: string, extraSetup = "", after = ""): ShResult {
    const setup = [
      `mount --bind ${d("etc-keepalived")} /etc/keepalived`,
      `mount --bind ${d("etc-systemd")} /etc/systemd/system`,
      `mount --bind ${d("passwd")} /etc/passwd`,
      `mount --bind ${d("group")} /etc/group`,
      "ip link add eth0 type veth peer name hakube-peer",
      "ip link set eth0 up",
      extraSetup,
    ].join("\n");
    return sandbox.run(setup, script, "", after);
  }
  const withAddress = "ip address add 10.0.0.11/24 dev eth0";
  const rc = sandboxRc;

  it("first run writes the files and starts keepalived; a second run changes nothing", () => {
    const first = run(renderKeepalivedConfigureScript(m1), withAddress);
    assert.equal(rc(first), 0, first.stdout + first.stderr);
    assert.match(first.stdout, /wrote \/etc\/keepalived\/hakube-check\.sh/);
    assert.match(first.stdout, /wrote \/etc\/keepalived\/keepalived\.conf/);
    assert.match(first.stdout, /wrote \/etc\/systemd\/system\/keepalived\.service/);
    assert.match(first.stdout, /\(re\)started keepalived/);
    assert.equal(fs.readFileSync(d("etc-keepalived/keepalived.conf"), "utf8"), renderKeepalivedConfig(m1));
    assert.equal(fs.readFileSync(d("etc-systemd/keepalived.service"), "utf8"), renderUnit(m1));
    assert.equal(fs.statSync(d("etc-keepalived/hakube-check.sh")).mode & 0o777, 0o755);
    assert.deepEqual(fs.readdirSync(d("etc-keepalived")).sort(), ["hakube-check.sh", "keepalived.conf"]);
    assert.deepEqual(
      systemctl().filter((l) => !l.startsWith("is-active")),
      ["daemon-reload", "enable --quiet keepalived", "restart keepalived"],
    );
    fs.writeFileSync(d("shim/systemctl.log"), "");
    const second = run(renderKeepalivedConfigureScript(m1), withAddress);
    assert.equal(rc(second), 0, second.stderr);
    assert.match(second.stdout, /configuration is unchanged; keepalived is running/);
    assert.doesNotMatch(second.stdout, /wrote/);
    assert.deepEqual(systemctl(), ["is-active --quiet keepalived"]);
  });

  it("a changed configuration reloads keepalived instead of restarting it", () => {
    assert.equal(rc(run(renderKeepalivedConfigureScript(m1), withAddress)), 0);
    fs.writeFileSync(d("shim/systemctl.log"), "");
    const slower = resolve({ timing: { profile: VrrpTimingProfile.Conservative } }).members[0];
    const r = run(renderKeepalivedConfigureScript(slower), withAddress);
    assert.equal(rc(r), 0, r.stderr);
    assert.match(r.stdout, /reloaded keepalived with the new configuration/);
    assert.ok(systemctl().includes("reload keepalived"));
    assert.ok(!systemctl().includes("restart keepalived"));
  });

  it("a configuration that keepalived -t refuses leaves the running one in place", () => {
    assert.equal(rc(run(renderKeepalivedConfigureScript(m1), withAddress)), 0);
    const before = fs.readFileSync(d("etc-keepalived/keepalived.conf"), "utf8");
    fs.writeFileSync(d("shim/systemctl.log"), "");
    const r = run(renderKeepalivedConfigureScript({ ...m1, virtualRouterId: 0 }), withAddress);
    assert.equal(rc(r), 1);
    assert.match(
      r.stderr,
      /keepalived -t rejected the new configuration; \/etc\/keepalived\/keepalived\.conf is unchanged:/,
    );
    assert.match(r.stderr, /VRID '0' not valid/);
    assert.equal(fs.readFileSync(d("etc-keepalived/keepalived.conf"), "utf8"), before);
    assert.deepEqual(
      fs.readdirSync(d("etc-keepalived")).sort(),
      ["hakube-check.sh", "keepalived.conf"],
      "no temp file left",
    );
    assert.deepEqual(systemctl(), [], "systemd was not touched");
  });

  it("install (preinstalled) accepts this machine's keepalived and finds curl, setpriv and the check user", function () {
    if (!which("curl")) this.skip();
    const r = run(renderKeepalivedInstallScript({ ...installArgs, method: InstallMethod.Preinstalled }));
    assert.equal(rc(r), 0, r.stderr);
    assert.match(r.stdout, /: keepalived 2\.\d+\.\d+\n/);
    assert.doesNotMatch(r.stdout, /created user|installed \S+ with/);
  });

  it("install (preinstalled) refuses a missing binary with a message that says what to do", () => {
    const r = run(
      renderKeepalivedInstallScript({
        ...installArgs,
        method: InstallMethod.Preinstalled,
        binDir: "/opt/none",
      }),
    );
    assert.equal(rc(r), 1);
    assert.match(
      r.stderr,
      /\/opt\/none\/keepalived does not exist: install keepalived 2\.0 or later, or use install\.method package/,
    );
  });

  it("refuses a member whose address is not on the interface", () => {
    const r = run(renderKeepalivedConfigureScript(m1));
    assert.equal(rc(r), 1);
    assert.match(r.stderr, /10\.0\.0\.11 is not an address of eth0 on m1/);
  });

  it("remove stops keepalived, releases the VIP and deletes hakube's files", () => {
    assert.equal(rc(run(renderKeepalivedConfigureScript(m1), withAddress)), 0);
    const r = run(
      renderKeepalivedRemoveScript(m1),
      `${withAddress}\nip address add 10.0.0.10/24 dev eth0`,
      "ip -o address show dev eth0",
    );
    assert.equal(rc(r), 0, r.stderr);
    const addresses = r.stdout.split("\n").filter((l) => l.includes(" inet "));
    assert.equal(addresses.length, 1, `only the host's own address is left: ${r.stdout}`);
    assert.match(addresses[0], / 10\.0\.0\.11\/24 /);
    assert.deepEqual(fs.readdirSync(d("etc-keepalived")), []);
    assert.deepEqual(fs.readdirSync(d("etc-systemd")), []);
    assert.ok(systemctl().includes("disable --now --quiet keepalived"));
  });
});
