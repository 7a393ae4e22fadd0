import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  bindSpec,
  buildHaproxyConfig,
  renderHaproxyConfig,
  renderSysctlFile,
} from "../../components/loadbalancer/render/haproxy";
import { shRequireVersion } from "../../components/packages";
import {
  haproxyCaFiles,
  renderFileBundle,
  renderHaproxyConfigureScript,
  renderHaproxyInstallScript,
  renderHaproxyRemoveScript,
} from "../../components/loadbalancer/render/scripts";
import { HaproxySettings } from "../../components/loadbalancer/settings";
import { InstallMethod } from "../../components/install";
import { shFunctions } from "../../components/shell";
import { assertGolden } from "./helpers/golden";
import { hosts } from "./helpers/hosts";
import { canUseNamespaces, sandboxRc, useSandbox, which } from "./helpers/sandbox";
import { runSh, ShResult, shSyntaxError, tempDir } from "./helpers/sh";
import { haproxySettings } from "./helpers/loadbalancer";

const vip = haproxySettings();
const CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

describe("package helpers", () => {
  const run = (version: string) =>
    runSh(`${shFunctions("t")}\n${shRequireVersion(2, 2)}\nrequire_version '${version}' prog`);
  it("require_version accepts the minimum and later, refuses earlier and unknown versions", () => {
    for (const ok of ["2.2", "2.2.7", "2.10.1", "3.0.0"]) assert.equal(run(ok).code, 0, ok);
    assert.equal(run("2.1.5").code, 1);
    assert.match(run("1.8.27").stderr, /prog is version 1\.8\.27; hakube needs 2\.2 or later/);
    assert.match(run("").stderr, /cannot tell the version of prog \(got ''\); hakube needs 2\.2 or later/);
  });
});

describe("HAProxy renderers", () => {
  describe("haproxy.cfg", () => {
    it("matches the golden file: VIP bind, fast checks, redispatch, verify none", () => {
      assertGolden("haproxy/haproxy-vip.cfg", renderHaproxyConfig(vip));
    });
    it("matches the golden file with a CA and custom ports and checks", () => {
      const s = haproxySettings(
        { caCertPem: CA, check: { intervalMs: 250, fall: 3, rise: 1 }, healthPort: 9404 },
        { port: 8443, backendPort: 6443 },
      );
      assertGolden("haproxy/haproxy-ca-8443.cfg", renderHaproxyConfig(s));
    });
    it("TCP pass-through with retries 3 and redispatch on every retry", () => {
      const d = buildHaproxyConfig(vip).sections.find((s) => s.header === "defaults")?.directives ?? [];
      for (const l of ["mode tcp", "retries 3", "option redispatch 1", "timeout connect 300ms"]) {
        assert.ok(d.includes(l), l);
      }
    });
    it("checks /readyz over TLS every 500 ms, fall 2, rise 2, and marks a server DOWN at its first failed connect", () => {
      const cfg = renderHaproxyConfig(vip);
      assert.match(cfg, /^ {4}option httpchk GET \/readyz$/m);
      assert.match(cfg, /^ {4}http-check expect status 200$/m);
      assert.match(
        cfg,
        /^ {4}default-server check check-ssl verify none inter 500ms fall 2 rise 2 observe layer4 error-limit 1 on-error mark-down$/m,
      );
      assert.match(cfg, /^ {4}balance leastconn$/m);
    });
    it("verifies the backends against the CA when one is given", () => {
      const s = haproxySettings({ caCertPem: CA });
      assert.equal(s.caFile, "/etc/haproxy/hakube-backend-ca.crt");
      assert.match(
        renderHaproxyConfig(s),
        /check-ssl verify required ca-file \/etc\/haproxy\/hakube-backend-ca\.crt inter/,
      );
      assert.doesNotMatch(renderHaproxyConfig(s), /verify none/);
    });
    it("lists every backend on backendPort, in order, then again unchecked as backups (fail open)", () => {
      const cfg = renderHaproxyConfig(haproxySettings({}, { backendPort: 16443 }));
      const servers = cfg.split("\n").filter((l) => l.trim().startsWith("server "));
      assert.deepEqual(
        servers.map((l) => l.trim()),
        [
          "server m1 10.0.0.11:16443",
          "server m2 10.0.0.12:16443",
          "server m3 10.0.0.13:16443",
          "server m1-failopen 10.0.0.11:16443 backup no-check",
          "server m2-failopen 10.0.0.12:16443 backup no-check",
          "server m3-failopen 10.0.0.13:16443 backup no-check",
        ],
      );
      assert.match(cfg, /\n {4}option allbackups\n/);
    });
    it("binds the VIP, every IPv4 address, or every address for IPv6 hosts", () => {
      assert.equal(bindSpec(vip), "10.0.0.10:6443");
      assert.equal(bindSpec(haproxySettings({ bindAddress: undefined })), "*:6443");
      assert.equal(bindSpec({ bindAddress: "::", port: 6443 }), ":::6443 v4v6");
      assert.equal(bindSpec(haproxySettings({ bindAddress: "fd00::10" })), "[fd00::10]:6443");
      const v6hosts = haproxySettings({
        bindAddress: undefined,
        hosts: hosts(1).map((x) => ({ ...x, address: "fd00::21" })),
      });
      assert.equal(v6hosts.bindAddress, "::");
    });
    it("answers /healthz and the read-only stats page on loopback only", () => {
      const h = buildHaproxyConfig(haproxySettings({ healthPort: 9000 })).sections.find(
        (s) => s.header === "frontend healthz",
      );
      assert.deepEqual(h?.directives, [
        "bind 127.0.0.1:9000",
        "mode http",
        "monitor-uri /healthz",
        "stats enable",
        "stats uri /stats",
      ]);
    });
    it("runs in the foreground under the distribution's master-worker unit, with seamless reloads", () => {
      const cfg = renderHaproxyConfig(vip);
      assert.doesNotMatch(cfg, /^\s*daemon\s*$/m);
      assert.match(
        cfg,
        /stats socket \/var\/lib\/haproxy\/admin\.sock mode 600 level admin expose-fd listeners/,
      );
      assert.match(cfg, /log stdout format short local0 notice/);
    });
  });

  describe("sysctl file", () => {
    it("turns on non-local binds for the bind address's family (golden)", () => {
      assertGolden("haproxy/90-hakube-haproxy.conf", renderSysctlFile(vip));
      assert.match(
        renderSysctlFile(haproxySettings({ bindAddress: "fd00::10" })),
        /^net\.ipv6\.ip_nonlocal_bind = 1$/m,
      );
    });
    it("is not needed without a bind address", () => {
      const s = haproxySettings({ bindAddress: undefined });
      assert.equal(s.nonlocalBind, undefined);
      assert.throws(() => renderSysctlFile(s), /needs a bindAddress/);
    });
  });

  describe("scripts", () => {
    const scripts: Record<string, string> = {
      "install-package": renderHaproxyInstallScript(vip, "lb1"),
      "install-preinstalled": renderHaproxyInstallScript(
        haproxySettings({ install: { method: InstallMethod.Preinstalled, binDir: "/usr/local/sbin" } }),
        "lb1",
      ),
      "configure-vip": renderHaproxyConfigureScript(vip, "lb1"),
      remove: renderHaproxyRemoveScript(vip, "lb1"),
    };
    for (const [name, script] of Object.entries(scripts)) {
      it(`${name} (golden)`, () => assertGolden(`haproxy/${name}.sh`, script));
    }
    it("every script parses as POSIX sh and stops on errors", () => {
      const all = {
        ...scripts,
        "configure-wildcard-ca": renderHaproxyConfigureScript(
          haproxySettings({ bindAddress: undefined, caCertPem: CA }),
          "lb2",
        ),
      };
      for (const [name, s] of Object.entries(all)) {
        assert.equal(shSyntaxError(s), undefined, `${name} has a syntax error`);
        assert.match(s, /\nset -eu\n/, `${name} must stop on errors`);
        assert.ok(s.startsWith("# hakube LoadBalancer lb: "), name);
      }
    });
    it("configure checks haproxy.cfg with haproxy -c before it replaces the old one, then reloads", () => {
      const s = scripts["configure-vip"];
      const check = s.indexOf('"$HAPROXY" -c -f "$tmp"');
      const put = s.indexOf('put "$CONFIG" 0644 root:root < "$tmp"');
      assert.ok(check > 0 && put > check);
      assert.ok(s.indexOf("systemctl reload haproxy") > put);
    });
    it("configure without a bind address removes an old sysctl file instead of writing one", () => {
      const s = renderHaproxyConfigureScript(haproxySettings({ bindAddress: undefined }), "lb1");
      assert.doesNotMatch(s, /ip_nonlocal_bind = 1/);
      assert.match(s, /rm -f \/etc\/sysctl\.d\/90-hakube-haproxy\.conf/);
    });
    it("the CA travels on stdin as a file bundle, not in the script", () => {
      const s = renderHaproxyConfigureScript(haproxySettings({ caCertPem: CA }), "lb1");
      assert.doesNotMatch(s, /BEGIN CERTIFICATE/);
      assert.deepEqual(haproxyCaFiles(undefined), []);
      assert.deepEqual(haproxyCaFiles(CA), [
        { path: "/etc/haproxy/hakube-backend-ca.crt", mode: "0644", owner: "root:root", content: CA },
      ]);
    });
    it("install: the package, version 2.0 or later, the distribution's unit, the chroot directory", () => {
      const s = scripts["install-package"];
      assert.match(s, /install_packages haproxy/);
      assert.match(s, /hakube needs 2\.0 or later/);
      assert.match(s, /systemctl cat haproxy\.service/);
      assert.match(s, /install -d -m 0755 -o root -g root \/var\/lib\/haproxy/);
      assert.doesNotMatch(scripts["install-preinstalled"], /install_packages/);
      assert.match(scripts["install-preinstalled"], /^HAPROXY='\/usr\/local\/sbin\/haproxy'$/m);
    });
  });
});

// ---------------------------------------------------------------------------------------------------
// Real HAProxy and real sh: `haproxy -c` on the rendered files, and the configure/remove scripts in a
// private network and mount namespace with a fake systemctl. Nothing is started; skipped without tools.

const haveHaproxy = which("haproxy");
const canNamespace =
  canUseNamespaces("sysctl") && fs.existsSync("/etc/haproxy") && fs.existsSync("/var/lib/haproxy");

function makeCert(dir: string): string {
  const cert = path.join(dir, "ca.crt");
  const r = spawnSync(
    "openssl",
    ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1"].concat([
      "-keyout",
      path.join(dir, "ca.key"),
      "-out",
      cert,
      "-subj",
      "/CN=test-ca",
    ]),
    { encoding: "utf8" },
  );
  assert.equal(r.status, 0, r.stderr);
  return cert;
}

describe("HAProxy renderers with real HAProxy (haproxy -c)", function () {
  let dir = "";
  before(function () {
    if (!haveHaproxy || !which("openssl")) this.skip();
    dir = tempDir("haproxy-c");
  });
  after(() => dir && fs.rmSync(dir, { recursive: true, force: true }));
  function check(cfg: string): ShResult {
    const file = path.join(dir, "haproxy.cfg");
    fs.writeFileSync(file, cfg);
    const r = spawnSync("haproxy", ["-c", "-f", file], { encoding: "utf8" });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  }
  const variants: Record<string, () => HaproxySettings> = {
    "VIP bind, verify none": () => vip,
    "every IPv4 address": () => haproxySettings({ bindAddress: undefined }),
    "IPv6 VIP and backends": () =>
      haproxySettings({
        bindAddress: "fd00::10",
        backends: [
          { name: "m1", address: "fd00::11" },
          { name: "m2", address: "fd00::12" },
        ],
      }),
    "every address (IPv6 hosts)": () =>
      haproxySettings({
        bindAddress: undefined,
        hosts: hosts(1).map((x) => ({ ...x, address: "fd00::21" })),
      }),
    "CA verification, custom ports and checks": () => ({
      ...haproxySettings(
        { caCertPem: CA, check: { intervalMs: 250, fall: 3, rise: 1 }, healthPort: 9404 },
        { port: 8443 },
      ),
      caFile: makeCert(dir),
    }),
  };
  for (const [name, s] of Object.entries(variants)) {
    it(`accepts ${name}`, () => {
      const r = check(renderHaproxyConfig(s()));
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /Configuration file is valid/);
      assert.doesNotMatch(r.stdout + r.stderr, /WARNING/);
    });
  }
  it("refuses what the validators refuse, so the host-side check is real", () => {
    const r = check(renderHaproxyConfig({ ...vip, checkIntervalMs: 0 }));
    assert.equal(r.code, 1);
    assert.match(r.stdout + r.stderr, /invalid value 0 for argument 'inter'/);
  });
});

describe("HAProxy configure and remove scripts in a sandbox (fake systemctl)", function () {
  this.timeout(30000);
  const sandbox = useSandbox("haproxy-sandbox", ["etc-haproxy", "etc-sysctl", "var-lib-haproxy"]);
  const { d, systemctl } = sandbox;
  const rc = sandboxRc;

  before(function () {
    if (!haveHaproxy || !canNamespace) this.skip();
  });

  function run(script: string, stdin = "", after = ""): ShResult {
    const setup = [
      `mount --bind ${d("etc-haproxy")} /etc/haproxy`,
      `mount --bind ${d("etc-sysctl")} /etc/sysctl.d`,
      `mount --bind ${d("var-lib-haproxy")} /var/lib/haproxy`,
    ].join("\n");
    return sandbox.run(setup, script, stdin, after);
  }

  it("install (preinstalled) accepts this machine's HAProxy", () => {
    const s = haproxySettings({ install: { method: InstallMethod.Preinstalled } });
    const r = run(renderHaproxyInstallScript(s, "lb1"));
    assert.equal(rc(r), 0, r.stderr);
    assert.match(r.stdout, /: haproxy 2\.\d+\.\d+\n/);
  });

  it("first run writes sysctl and haproxy.cfg, turns on non-local binds, starts HAProxy; a second run changes nothing", () => {
    const first = run(renderHaproxyConfigureScript(vip, "lb1"), "", "sysctl -n net.ipv4.ip_nonlocal_bind");
    assert.equal(rc(first), 0, first.stdout + first.stderr);
    assert.match(first.stdout, /wrote \/etc\/sysctl\.d\/90-hakube-haproxy\.conf/);
    assert.match(first.stdout, /wrote \/etc\/haproxy\/haproxy\.cfg/);
    assert.match(first.stdout, /started haproxy/);
    assert.match(first.stdout, /rc=0\n1\n$/, "ip_nonlocal_bind is 1 in the host's network namespace");
    assert.equal(fs.readFileSync(d("etc-haproxy/haproxy.cfg"), "utf8"), renderHaproxyConfig(vip));
    assert.deepEqual(fs.readdirSync(d("etc-haproxy")), ["haproxy.cfg"], "no temp file left");
    assert.deepEqual(
      systemctl().filter((l) => !l.startsWith("is-active")),
      ["enable --quiet haproxy", "restart haproxy"],
    );
    fs.writeFileSync(d("shim/systemctl.log"), "");
    const second = run(renderHaproxyConfigureScript(vip, "lb1"));
    assert.equal(rc(second), 0, second.stderr);
    assert.match(second.stdout, /configuration is unchanged; haproxy is running/);
    assert.doesNotMatch(second.stdout, /wrote/);
    assert.deepEqual(systemctl(), ["is-active --quiet haproxy"]);
  });

  it("takes the CA from stdin and reloads a running HAProxy; dropping the CA removes the file", () => {
    assert.equal(rc(run(renderHaproxyConfigureScript(vip, "lb1"))), 0);
    const pem = fs.readFileSync(makeCert(sandbox.root()), "utf8");
    fs.writeFileSync(d("shim/systemctl.log"), "");
    const withCa = haproxySettings({ caCertPem: pem });
    const r = run(renderHaproxyConfigureScript(withCa, "lb1"), renderFileBundle(haproxyCaFiles(pem)));
    assert.equal(rc(r), 0, r.stdout + r.stderr);
    assert.equal(fs.readFileSync(d("etc-haproxy/hakube-backend-ca.crt"), "utf8"), pem);
    assert.match(fs.readFileSync(d("etc-haproxy/haproxy.cfg"), "utf8"), /verify required ca-file/);
    assert.match(r.stdout, /reloaded haproxy with the new configuration/);
    assert.ok(systemctl().includes("reload haproxy"));
    const back = run(renderHaproxyConfigureScript(vip, "lb1"));
    assert.equal(rc(back), 0, back.stderr);
    assert.match(back.stdout, /removed \/etc\/haproxy\/hakube-backend-ca\.crt/);
    assert.deepEqual(fs.readdirSync(d("etc-haproxy")), ["haproxy.cfg"]);
  });

  it("a configuration that haproxy -c refuses leaves the running one in place", () => {
    assert.equal(rc(run(renderHaproxyConfigureScript(vip, "lb1"))), 0);
    const before = fs.readFileSync(d("etc-haproxy/haproxy.cfg"), "utf8");
    fs.writeFileSync(d("shim/systemctl.log"), "");
    const r = run(renderHaproxyConfigureScript({ ...vip, checkIntervalMs: 0 }, "lb1"));
    assert.equal(rc(r), 1);
    assert.match(
      r.stderr,
      /haproxy -c rejected the new configuration; \/etc\/haproxy\/haproxy\.cfg is unchanged:/,
    );
    assert.match(r.stderr, /invalid value 0 for argument 'inter'/);
    assert.equal(fs.readFileSync(d("etc-haproxy/haproxy.cfg"), "utf8"), before);
    assert.deepEqual(fs.readdirSync(d("etc-haproxy")), ["haproxy.cfg"], "no temp file left");
    assert.deepEqual(systemctl(), [], "systemd was not touched");
  });

  it("remove stops HAProxy and deletes hakube's sysctl and CA files", () => {
    assert.equal(rc(run(renderHaproxyConfigureScript(vip, "lb1"))), 0);
    const r = run(renderHaproxyRemoveScript(vip, "lb1"));
    assert.equal(rc(r), 0, r.stderr);
    assert.deepEqual(fs.readdirSync(d("etc-sysctl")), []);
    assert.ok(systemctl().includes("disable --now --quiet haproxy"));
  });
});
