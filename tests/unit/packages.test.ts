/**
 * The shared package shell (components/packages.ts), run by /bin/sh against fake `apt-get`, `sleep` and
 * `cloud-init` programs on PATH: nothing is installed and nothing waits for real.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  CLOUD_INIT_WAIT_SECONDS,
  PACKAGE_LOCK_WAIT_SECONDS,
  SH_APT,
  SH_INSTALL_PACKAGES,
} from "../../components/packages";
import { shFunctions } from "../../components/shell";
import { runSh, ShResult, tempDir } from "./helpers/sh";

/** A directory of fake programs; each call of each is logged as one line "<name> <args>" in `log`. */
function fakes(programs: Record<string, string>): { bin: string; log: string; calls: () => string[] } {
  const dir = tempDir("pkg");
  const bin = path.join(dir, "bin");
  const log = path.join(dir, "calls");
  fs.mkdirSync(bin);
  fs.writeFileSync(log, "");
  for (const [name, body] of Object.entries(programs)) {
    fs.writeFileSync(
      path.join(bin, name),
      `#!/bin/sh\necho "${name} $*" >> ${log}\nN=$(grep -c '^${name} ' ${log})\n${body}\n`,
      { mode: 0o755 },
    );
  }
  return { bin, log, calls: () => fs.readFileSync(log, "utf8").trim().split("\n").filter(Boolean) };
}

function run(script: string, bin: string): ShResult {
  return runSh(`set -eu\n${shFunctions("t")}\n${SH_APT}\n${script}`, {
    env: { PATH: `${bin}:/usr/bin:/bin` },
  });
}

const LOCKED = `echo "E: Could not get lock /var/lib/apt/lists/lock. It is held by process 4242 (apt-get)" >&2; echo "E: Unable to lock directory /var/lib/apt/lists/" >&2; exit 100`;

describe("package shell (components/packages.ts)", () => {
  it("apt_get passes its arguments with a dpkg lock timeout, non-interactive, stdout to the caller", () => {
    const f = fakes({ "apt-get": `echo "front=$DEBIAN_FRONTEND"; exit 0` });
    const r = run("apt_get install -y -q curl", f.bin);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), "front=noninteractive");
    assert.deepEqual(f.calls(), [
      `apt-get -o DPkg::Lock::Timeout=${PACKAGE_LOCK_WAIT_SECONDS} install -y -q curl`,
    ]);
  });

  it("apt_get waits while another apt holds a lock, then succeeds", () => {
    const f = fakes({ "apt-get": `[ "$N" -gt 3 ] || { ${LOCKED}; }; echo done`, sleep: "exit 0" });
    const r = run("apt_get update -q", f.bin);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), "done");
    const calls = f.calls();
    assert.equal(calls.filter((c) => c.startsWith("apt-get ")).length, 4);
    assert.deepEqual(
      calls.filter((c) => c.startsWith("sleep ")),
      ["sleep 5", "sleep 5", "sleep 5"],
    );
    assert.match(r.stderr, /another package manager holds apt's lock; waiting/);
    assert.doesNotMatch(
      r.stderr,
      /Could not get lock/,
      "apt's lock message is not reported when the wait ends well",
    );
  });

  it("apt_get gives up after the bounded wait and reports apt's own message", () => {
    const f = fakes({ "apt-get": LOCKED, sleep: "exit 0" });
    const r = run("apt_get update -q", f.bin);
    assert.equal(r.code, 100);
    assert.match(r.stderr, /Could not get lock \/var\/lib\/apt\/lists\/lock/);
    const sleeps = f.calls().filter((c) => c.startsWith("sleep "));
    assert.equal(sleeps.length * 5, PACKAGE_LOCK_WAIT_SECONDS);
  });

  it("apt_retry waits the same way for other apt tools (apt-mark)", () => {
    const f = fakes({ "apt-mark": `[ "$N" -gt 1 ] || { ${LOCKED}; }; echo held`, sleep: "exit 0" });
    const r = run("apt_retry apt-mark hold kubeadm", f.bin);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), "held");
    assert.deepEqual(f.calls(), ["apt-mark hold kubeadm", "sleep 5", "apt-mark hold kubeadm"]);
  });

  it("apt_get passes apt's warnings on when it succeeds", () => {
    const f = fakes({ "apt-get": `echo "W: an apt warning" >&2; exit 0` });
    assert.match(run("apt_get update", f.bin).stderr, /W: an apt warning/);
  });

  it("apt_get reports any other failure at once, without waiting", () => {
    const f = fakes({ "apt-get": `echo "E: Unable to locate package nope" >&2; exit 100`, sleep: "exit 0" });
    const r = run('apt_get install -y nope || echo "rc=$?"', f.bin);
    assert.equal(r.stdout.trim(), "rc=100");
    assert.match(r.stderr, /Unable to locate package nope/);
    assert.equal(f.calls().length, 1, "one apt-get call, no sleep");
  });

  it("apt_install updates the package lists and tries again when the first install fails", () => {
    const f = fakes({
      "apt-get": `case "$*" in *update*) exit 0 ;; esac; [ "$N" -gt 1 ] || { echo "E: Unable to locate package curl" >&2; exit 100; }`,
    });
    const r = run("apt_install --no-install-recommends curl", f.bin);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      f.calls().map((c) => c.replace(/^apt-get -o \S+ /, "")),
      [
        "install -y -q --no-install-recommends curl",
        "update -q",
        "install -y -q --no-install-recommends curl",
      ],
    );
  });

  it("wait_for_cloud_init waits for cloud-init where it runs (bounded), and is a no-op where it does not", () => {
    const f = fakes({ "cloud-init": "exit 0" });
    assert.equal(run("wait_for_cloud_init", f.bin).code, 0);
    assert.deepEqual(f.calls(), ["cloud-init status --wait"]);
    assert.ok(SH_APT.includes(`timeout ${CLOUD_INIT_WAIT_SECONDS} cloud-init status --wait`));
    const failing = fakes({ "cloud-init": "exit 1" });
    assert.equal(run("wait_for_cloud_init", failing.bin).code, 0, "a degraded cloud-init is not our failure");
    const none = fakes({});
    assert.equal(run("wait_for_cloud_init && echo ok", none.bin).stdout.trim(), "ok");
  });

  it("install_packages removes its policy-rc.d guard in a subshell, leaving the script's own EXIT trap", () => {
    // The guard itself writes /usr/sbin/policy-rc.d, so here only the shape is checked; the lab runs it.
    assert.match(SH_INSTALL_PACKAGES, /\(no_service_start && apt_install --no-install-recommends "\$@"\)/);
    assert.match(SH_APT, /no_service_start\(\) \{[^}]*trap 'rm -f \/usr\/sbin\/policy-rc.d' EXIT/);
  });

  it("no rendered install script calls apt-get except through apt_get (every golden script)", () => {
    // The golden files are the renderers' output (each renderer test compares them byte for byte).
    const root = path.join(__dirname, "..", "golden");
    const files = fs
      .readdirSync(root, { recursive: true, encoding: "utf8" })
      .filter((f) => f.endsWith(".sh"))
      .map((f) => ({ f, text: fs.readFileSync(path.join(root, f), "utf8") }));
    const installing = files.filter((x) => /apt_install|install_packages|apt_get /.test(x.text));
    assert.deepEqual(installing.map((x) => x.f).sort(), [
      "controlplane/prepare-package.sh",
      "controlplane/prepare-release-1.20.sh",
      "etcd/backup/install-s3-m1.sh",
      "etcd/install-package.sh",
      "haproxy/install-package.sh",
      "keepalived/install-package.sh",
    ]);
    for (const { f, text } of files) {
      const direct = text
        .split("\n")
        .filter((l) => /(^|[\s;|&({])apt-get\s/.test(l))
        .filter((l) => !/command -v apt-get|fail "|say "|DPkg::Lock::Timeout/.test(l));
      assert.deepEqual(direct, [], `${f} calls apt-get directly`);
      if (installing.some((x) => x.f === f)) {
        assert.ok(text.includes(SH_APT), `${f} carries the shared apt functions`);
        assert.match(text, /wait_for_cloud_init/, `${f} waits for cloud-init`);
      }
    }
  });
});
