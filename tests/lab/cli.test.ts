/**
 * The main job as a user runs it: `npm run lab`, again (no changes), `status`, `status --json`, `down`.
 * Runs lab/cli.ts in a child process on a lab of its own (never the user's lab "lab").
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { destroyLab } from "../../lab/hosts";

const LAB = "t-cli";
const repo = path.resolve(__dirname, "..", "..");

function cli(...args: string[]) {
  const r = spawnSync(
    process.execPath,
    ["--require", "tsx/cjs", "lab/cli.ts", ...args, "--lab", LAB, "--subnet", "7"],
    {
      cwd: repo,
      encoding: "utf8",
      timeout: 280_000,
    },
  );
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("npm run lab (main job)", function () {
  this.timeout(300_000);
  before(async () => destroyLab(LAB));
  after(async () => destroyLab(LAB));

  it("deploys, and says so; a second run changes nothing and says so", () => {
    const first = cli("--members", "1");
    assert.equal(first.code, 0, first.stderr.slice(-2000));
    assert.match(first.stdout, /Applied in .* created/);
    assert.match(first.stdout, /etcd: 1 member\(s\), leader m1, all healthy/);
    assert.match(
      first.stdout,
      /kubernetes: not deployed: kubeadm, kubelet and the control-plane images cannot be downloaded/,
    );
    assert.match(first.stderr, /deploying the lab stack: etcd on 1 host/, "progress is shown");
    const second = cli();
    assert.equal(second.code, 0, second.stderr.slice(-2000));
    assert.match(
      second.stdout,
      /No changes: the lab already matches the program \(\d+ resources unchanged, no command run\)/,
    );
  });

  it("prints the status as JSON with hosts, endpoints and certificate paths", () => {
    const r = cli("status", "--json");
    assert.equal(r.code, 0, r.stderr);
    const st = JSON.parse(r.stdout);
    assert.equal(st.exists, true);
    assert.deepEqual(
      st.hosts.map((h: { name: string; address: string }) => [h.name, h.address]),
      [["m1", "10.77.7.11"]],
    );
    assert.deepEqual(st.etcd.endpoints, ["https://10.77.7.11:2379"]);
    assert.equal(st.etcd.leader, "m1");
    assert.equal(st.etcd.healthy, true);
    assert.equal(st.api.endpoint, "10.77.7.10:6443");
    assert.deepEqual(st.api.holders, ["m1"], "the only master holds the VIP");
    assert.deepEqual(st.api.haproxy, { m1: { m1: "UP" } });
    for (const f of [st.sshKey, st.etcd.ca, st.etcd.cert, st.etcd.key, st.api.caCert])
      assert.ok(fs.existsSync(f), f);
    assert.equal(fs.statSync(st.etcd.key).mode & 0o777, 0o600);
    assert.equal(fs.statSync(st.sshKey).mode & 0o777, 0o600);
  });

  it("refuses bad arguments with a usage line", () => {
    const r = cli("--members", "zero");
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--members must be a whole number from 1 to 9, got "zero"/);
    assert.match(r.stderr, /usage: npm run lab/);
  });

  it("down removes every host, link and process it made", () => {
    const r = cli("down");
    assert.equal(r.code, 0, r.stderr);
    const st = JSON.parse(cli("status", "--json").stdout);
    assert.equal(st.exists, false);
    const links = spawnSync("ip", ["-o", "link"], { encoding: "utf8" }).stdout;
    assert.doesNotMatch(links, /hk-t-cli/);
    const procs = spawnSync("ps", ["-eo", "args"], { encoding: "utf8" }).stdout;
    assert.doesNotMatch(procs, /hk7-m1/);
  });
});
