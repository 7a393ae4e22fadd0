/**
 * EtcdCluster's rolling upgrade: the version rules run in sh (exact messages), the install step staging
 * a release on a member with data, the upgrade script (golden, POSIX sh), and the serial order of the
 * upgrade steps before any configure step (mocks).
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { EtcdCluster } from "../../components/etcd/etcdCluster";
import { renderConfigureScript, renderInstallScript } from "../../components/etcd/render/scripts";
import { renderUpgradeScript } from "../../components/etcd/render/upgrade";
import { SH_VERSION_RULES } from "../../components/etcd/render/versions";
import { resolveEtcdCluster, upgradeStageDir } from "../../components/etcd/settings";
import { InstallMethod } from "../../components/install";
import { shFunctions } from "../../components/shell";
import { hosts } from "./helpers/hosts";
import { assertGolden } from "./helpers/golden";
import { CMD, Recorder, unwrap } from "./helpers/mocks";
import { runSh, shSyntaxError, tempDir } from "./helpers/sh";

const SHA = "0123456789abcdef".repeat(4);

/** check_step "m1" HAVE with VERSION=want: the refusal's message, or "" when allowed. */
function step(have: string, want: string): string {
  const r = runSh(
    `${shFunctions("t")}\nNAME=m1\nVERSION='${want}'\n${SH_VERSION_RULES}\ncheck_step m1 '${have}'`,
  );
  return r.code === 0 ? "" : r.stderr.replace(/^t: /, "").trim();
}

describe("etcd upgrade: version rules (sh)", () => {
  it("allows the same version, a later patch and the next minor; nothing to compare with is allowed", () => {
    for (const [have, want] of [
      ["3.4.23", "3.4.23"],
      ["3.4.23", "3.4.30"],
      ["3.4.23", "3.5.16"],
      ["3.4.0", "3.5.16"], // a cluster version
      ["3.9.4", "3.10.0"], // minors compare as numbers
      ["", "3.6.5"],
    ]) {
      assert.equal(step(have, want), "", `${have} -> ${want}`);
    }
  });
  it("refuses a skipped minor, naming version, the member and what to do", () => {
    assert.equal(
      step("3.4.23", "3.6.5"),
      "refusing version 3.6.5: m1 runs etcd 3.4.23, and etcd upgrades one minor at a time; set version to a 3.5 release first. Nothing was changed",
    );
    assert.equal(
      step("3.5.16", "4.0.0"),
      "refusing version 4.0.0: m1 runs etcd 3.5.16, and etcd upgrades one minor at a time; set version to a 3.6 release first. Nothing was changed",
    );
  });
  it("refuses a downgrade, of a minor or of a patch", () => {
    assert.equal(
      step("3.5.16", "3.4.23"),
      "refusing version 3.4.23: m1 runs etcd 3.5.16, and downgrades are refused (etcd cannot go back once the cluster version moved on; restore a snapshot into a new cluster instead); set version to 3.5.16 or later. Nothing was changed",
    );
    assert.match(
      step("3.5.16", "3.5.10"),
      /^refusing version 3\.5\.10: m1 runs etcd 3\.5\.16, and downgrades/,
    );
    assert.match(step("3.10.0", "3.9.9"), /downgrades are refused/);
  });
  it("checks the cluster version for downgrades only (a new cluster says 3.0.0 at first)", () => {
    const noDowngrade = (have: string, want: string) =>
      runSh(
        `${shFunctions("t")}\nVERSION='${want}'\n${SH_VERSION_RULES}\ncheck_no_downgrade 'the cluster' '${have}'`,
      );
    assert.equal(noDowngrade("3.0.0", "3.5.16").code, 0);
    assert.match(
      noDowngrade("3.5.0", "3.4.23").stderr,
      /refusing version 3\.4\.23: the cluster runs etcd 3\.5\.0, and downgrades are refused/,
    );
  });
});

describe("etcd upgrade: install and upgrade scripts", () => {
  const resolved = resolveEtcdCluster(
    "etcd",
    { members: hosts(3), version: "3.5.16", install: { sha256: SHA } },
    "proj-dev-etcd",
  );
  const upgrade = (i: number) =>
    renderUpgradeScript(resolved.members[i], {
      version: "3.5.16",
      stageDir: upgradeStageDir("3.5.16"),
      order: ["m1", "m2", "m3"],
    });

  it("renders the same env file, unit and configure script for every version: an upgrade restarts nothing there", () => {
    const other = resolveEtcdCluster(
      "etcd",
      { members: hosts(3), version: "3.4.23", install: { sha256: SHA } },
      "proj-dev-etcd",
    );
    assert.equal(renderConfigureScript(other.members[0]), renderConfigureScript(resolved.members[0]));
    assert.notEqual(
      renderInstallScript({ ...other.install, name: "m1" }),
      renderInstallScript({ ...resolved.install, name: "m1" }),
    );
  });

  it("renders the upgrade script (golden, POSIX sh)", () => {
    assertGolden("etcd/upgrade-m1.sh", upgrade(0));
    for (const i of [0, 1, 2]) assert.equal(shSyntaxError(upgrade(i)), undefined);
    assert.equal(resolved.install.stageDir, "/var/lib/hakube/etcd-upgrade/v3.5.16");
  });

  /** The release install script with a fake etcd in BIN_DIR, a data dir or not, and a local "download". */
  function install(opts: { have?: string; data: boolean; version: string }) {
    const dir = tempDir("upgrade-install");
    const bin = path.join(dir, "bin");
    const fakeEtcd = (v: string) => `#!/bin/sh\necho "etcd Version: ${v}"\n`;
    if (opts.have) {
      fs.mkdirSync(bin);
      fs.writeFileSync(path.join(bin, "etcd"), fakeEtcd(opts.have), { mode: 0o755 });
      fs.writeFileSync(path.join(bin, "etcdctl"), "#!/bin/sh\n", { mode: 0o755 });
    }
    if (opts.data) fs.mkdirSync(path.join(dir, "data", "member"), { recursive: true });
    // The release tarball, served as a file:// URL through a curl stand-in.
    const top = `etcd-v${opts.version}-linux-amd64`;
    fs.mkdirSync(path.join(dir, "rel", top), { recursive: true });
    fs.writeFileSync(path.join(dir, "rel", top, "etcd"), fakeEtcd(opts.version), { mode: 0o755 });
    fs.writeFileSync(path.join(dir, "rel", top, "etcdctl"), "#!/bin/sh\n", { mode: 0o755 });
    const tgz = path.join(dir, `${top}.tar.gz`);
    runSh(`tar -czf '${tgz}' -C '${dir}/rel' '${top}'`);
    const sha = runSh(`sha256sum '${tgz}'`).stdout.split(" ")[0];
    const tools = path.join(dir, "tools");
    fs.mkdirSync(tools);
    fs.writeFileSync(
      path.join(tools, "curl"),
      `#!/bin/sh\nwhile [ "$1" != -o ]; do shift; done\ncp '${tgz}' "$2"\n`,
      {
        mode: 0o755,
      },
    );
    const script = renderInstallScript({
      cluster: "etcd",
      name: "m1",
      method: InstallMethod.Release,
      binDir: bin,
      dataDir: path.join(dir, "data"),
      version: opts.version,
      url: `https://example.invalid/v${opts.version}/${top}.tar.gz`,
      sha256: sha,
      stageDir: path.join(dir, "stage"),
    });
    // Only the release part: user and directories need root.
    const body = script.slice(0, script.indexOf('[ -x "$BIN_DIR/etcd" ] && [ -x "$BIN_DIR/etcdctl" ]'));
    const r = runSh(body, { env: { PATH: `${tools}:${process.env.PATH}` } });
    const version = (d: string) =>
      runSh(`'${path.join(dir, d, "etcd")}' --version 2>/dev/null`).stdout.trim();
    return { ...r, installed: version("bin"), staged: version("stage") };
  }

  it("installs in place on a member without data", () => {
    const r = install({ have: "3.4.23", data: false, version: "3.5.16" });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.installed, "etcd Version: 3.5.16");
    assert.equal(r.staged, "");
  });
  it("only stages on a member with data: the running etcd is left alone", () => {
    const r = install({ have: "3.4.23", data: true, version: "3.5.16" });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.installed, "etcd Version: 3.4.23");
    assert.equal(r.staged, "etcd Version: 3.5.16");
    assert.match(r.stdout, /staged etcd 3\.5\.16 in .*\/stage \(sha256 verified; etcd 3\.4\.23 runs\)/);
  });
  it("refuses a skipped minor or a downgrade on a member with data before downloading anything", () => {
    const skip = install({ have: "3.4.23", data: true, version: "3.6.5" });
    assert.notEqual(skip.code, 0);
    assert.match(
      skip.stderr,
      /refusing version 3\.6\.5: m1 runs etcd 3\.4\.23, and etcd upgrades one minor at a time/,
    );
    assert.equal(skip.staged, "");
    const down = install({ have: "3.5.16", data: true, version: "3.4.23" });
    assert.match(down.stderr, /refusing version 3\.4\.23: m1 runs etcd 3\.5\.16, and downgrades are refused/);
    assert.equal(down.installed, "etcd Version: 3.5.16");
  });
});

describe("EtcdCluster upgrade steps (mocks)", () => {
  it("runs the upgrade steps one member after another, in member order, before any configure step", async () => {
    const rec = new Recorder();
    await rec.install(10);
    new EtcdCluster("etcd", { members: hosts(3), version: "3.5.16", install: { sha256: SHA } });
    await rec.idle();
    const deps = (name: string) => [...(rec.dependencies.get(name) ?? [])].sort();
    assert.deepEqual(deps("etcd-m1-upgrade"), ["etcd-m1-install"]);
    assert.deepEqual(deps("etcd-m2-upgrade"), ["etcd-m1-upgrade", "etcd-m2-install"]);
    assert.deepEqual(deps("etcd-m3-upgrade"), ["etcd-m2-upgrade", "etcd-m3-install"]);
    // Every configure step (the restarts for configuration) waits for the last upgrade.
    for (const m of ["m1", "m2", "m3"]) assert.ok(rec.dependsOn(`etcd-${m}-configure`, "etcd-m3-upgrade"));
    const inputs = unwrap(rec.get("etcd-m2-upgrade").inputs) as Record<string, string>;
    assert.equal(inputs.update, inputs.create, "a new version updates the step (no replacement)");
    assert.match(inputs.create, /^ORDER='m1 m2 m3'$/m);
    assert.match(inputs.create, /^VERSION='3\.5\.16'$/m);
    assert.equal(inputs.delete, undefined);
  });
  it("has no upgrade step for package installs (the package manager's version)", async () => {
    const rec = new Recorder();
    await rec.install();
    new EtcdCluster("etcd", { members: hosts(3), install: { method: InstallMethod.Package } });
    await rec.idle();
    assert.deepEqual(
      rec.names(CMD).filter((n) => n.endsWith("-upgrade")),
      [],
    );
    assert.ok(rec.dependsOn("etcd-m1-configure", "etcd-m1-install"));
    assert.ok(!rec.dependsOn("etcd-m1-configure", "etcd-m3-install"));
  });
});
