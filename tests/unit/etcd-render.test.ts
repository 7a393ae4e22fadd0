import { strict as assert } from "node:assert";
import { InstallMethod } from "../../components/install";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  buildEnv,
  envName,
  memberUrls,
  renderEnvFile,
  renderRoster,
  renderUnit,
} from "../../components/etcd/render/config";
import { releaseUrl } from "../../components/etcd/settings";
import {
  memberPkiFiles,
  renderConfigureScript,
  renderHealthGateScript,
  renderInstallScript,
  renderMemberScript,
  renderRemoveScript,
} from "../../components/etcd/render/scripts";
import { resolveEtcdCluster } from "../../components/etcd/settings";
import { SH_ETCD_FUNCTIONS } from "../../components/etcd/render/memberScripts";
import { quorumSize } from "../../components/quorum";
import {
  renderFileBundle,
  shFunctions,
  SH_PUT_BUNDLE_FROM_STDIN,
  heredoc,
  shQuote,
} from "../../components/shell";
import { hosts } from "./helpers/hosts";
import { assertGolden } from "./helpers/golden";
import { runSh, shSyntaxError, tempDir } from "./helpers/sh";

const SHA = "0123456789abcdef".repeat(4);
const resolved = resolveEtcdCluster("etcd", { members: hosts(3), install: { sha256: SHA } }, "proj-dev-etcd");
const m1 = resolved.members[0];

describe("etcd renderers", () => {
  describe("env file", () => {
    it("matches the golden file for the defaults", () => {
      assertGolden("etcd/m1.env", renderEnvFile(m1));
    });
    it("turns flags into ETCD_ variables", () => {
      assert.equal(envName("initial-cluster-token"), "ETCD_INITIAL_CLUSTER_TOKEN");
    });
    it("requires client certificates on both ports and uses https everywhere", () => {
      const env = Object.fromEntries(buildEnv(m1));
      assert.equal(env.ETCD_CLIENT_CERT_AUTH, "true");
      assert.equal(env.ETCD_PEER_CLIENT_CERT_AUTH, "true");
      assert.equal(env.ETCD_LISTEN_CLIENT_URLS, "https://10.0.0.11:2379,https://127.0.0.1:2379");
      assert.equal(env.ETCD_LISTEN_PEER_URLS, "https://10.0.0.11:2380");
      assert.equal(env.ETCD_LISTEN_METRICS_URLS, "http://127.0.0.1:2381");
      assert.equal(
        env.ETCD_INITIAL_CLUSTER,
        undefined,
        "the initial cluster is written at first start, not here",
      );
    });
    it("adds extra flags sorted after the managed ones", () => {
      const env = buildEnv({
        ...m1,
        extraFlags: { "snapshot-count": "5000", "auto-compaction-retention": "8" },
      });
      assert.deepEqual(env.slice(-2), [
        ["ETCD_AUTO_COMPACTION_RETENTION", "8"],
        ["ETCD_SNAPSHOT_COUNT", "5000"],
      ]);
    });
    it("puts IPv6 addresses in brackets", () => {
      assert.deepEqual(memberUrls("fd00::11", 2379, 2380), {
        client: "https://[fd00::11]:2379",
        peer: "https://[fd00::11]:2380",
      });
    });
    it("does not depend on the other members, so adding members leaves it unchanged", () => {
      const five = resolveEtcdCluster(
        "etcd",
        { members: hosts(5), install: { sha256: SHA } },
        "proj-dev-etcd",
      );
      assert.equal(renderEnvFile(five.members[0]), renderEnvFile(m1));
      assert.equal(renderConfigureScript(five.members[0]), renderConfigureScript(m1));
      assert.equal(renderMemberScript(five.members[1]), renderMemberScript(resolved.members[1]));
    });
  });

  it("renders the unit (golden)", () => {
    assertGolden("etcd/etcd.service", renderUnit(m1));
  });

  it("renders the roster in member order", () => {
    assert.equal(
      renderRoster(hosts(2), 2379, 2380),
      "m1 https://10.0.0.11:2380 https://10.0.0.11:2379\nm2 https://10.0.0.12:2380 https://10.0.0.12:2379\n",
    );
  });

  describe("install script", () => {
    it("release: downloads, verifies sha256, installs (golden)", () => {
      assertGolden("etcd/install-release.sh", renderInstallScript({ ...resolved.install, name: "m1" }));
    });
    it("package (golden)", () => {
      const r = resolveEtcdCluster(
        "etcd",
        { members: hosts(1), install: { method: InstallMethod.Package } },
        "t",
      );
      assertGolden("etcd/install-package.sh", renderInstallScript({ ...r.install, name: "m1" }));
      assert.equal(r.members[0].binDir, "/usr/bin");
    });
    it("preinstalled (golden)", () => {
      const r = resolveEtcdCluster(
        "etcd",
        { members: hosts(1), install: { method: InstallMethod.Preinstalled, binDir: "/opt/etcd/bin" } },
        "t",
      );
      assertGolden("etcd/install-preinstalled.sh", renderInstallScript({ ...r.install, name: "m1" }));
    });
    it("builds the upstream release URL", () => {
      assert.equal(
        releaseUrl("https://example.test/rel/", "v3.5.21", "arm64"),
        "https://example.test/rel/v3.5.21/etcd-v3.5.21-linux-arm64.tar.gz",
      );
    });
    it("installs nothing when the checksum differs", function () {
      if (!fs.existsSync("/usr/bin/curl")) this.skip();
      const dir = tempDir("install");
      try {
        fs.writeFileSync(path.join(dir, "etcd.tar.gz"), "not the real tarball");
        const script = renderInstallScript({
          ...resolved.install,
          name: "m1",
          binDir: path.join(dir, "bin"),
          url: `file://${dir}/etcd.tar.gz`,
        });
        const r = runSh(script);
        assert.equal(r.code, 1);
        assert.match(
          r.stderr,
          new RegExp(
            `sha256 mismatch for file://${dir}/etcd.tar.gz: expected ${SHA}, got [0-9a-f]{64}; nothing was installed`,
          ),
        );
        assert.ok(!fs.existsSync(path.join(dir, "bin")), "nothing may be installed");
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe("member scripts", () => {
    it("configure (golden): files from heredocs, keys from stdin", () => {
      assertGolden("etcd/configure-m1.sh", renderConfigureScript(m1));
    });
    it("member, remove and health gate (golden)", () => {
      assertGolden("etcd/member-m1.sh", renderMemberScript(m1));
      assertGolden("etcd/remove-m1.sh", renderRemoveScript(m1));
      assertGolden("etcd/health-m1.sh", renderHealthGateScript(m1));
    });
    it("every script parses as POSIX sh", () => {
      const scripts = {
        install: renderInstallScript({ ...resolved.install, name: "m1" }),
        configure: renderConfigureScript(m1),
        member: renderMemberScript(m1),
        remove: renderRemoveScript(m1),
        health: renderHealthGateScript(m1),
      };
      for (const [name, s] of Object.entries(scripts)) {
        assert.equal(shSyntaxError(s), undefined, `${name} script has a syntax error`);
        assert.ok(s.startsWith("# hakube EtcdCluster etcd: "), name);
        assert.match(s, /\nset -eu\n/, `${name} must stop on errors`);
      }
    });
    it("joins as a learner and refuses quorum-losing steps", () => {
      const member = renderMemberScript(m1);
      assert.match(member, /member add "\$NAME" --peer-urls="\$PEER_URL" --learner/);
      assert.match(member, /member promote/);
      assert.match(member, /write_cluster_env "\$ic" existing/);
      assert.match(member, /write_cluster_env "\$ic" new/);
      const remove = renderRemoveScript(m1);
      assert.ok(
        remove.indexOf("member remove") < remove.indexOf("cleanup\nsay"),
        "member remove comes before stopping etcd",
      );
      assert.match(remove, /require_quorum_without_me/);
      // A leader hands over before its removal; without a healthy voter to take it, it is removed anyway.
      const body = remove.slice(remove.indexOf("line=$(my_line"));
      assert.ok(body.indexOf('hand_leadership_to "$to"') > 0);
      assert.ok(body.indexOf('hand_leadership_to "$to"') < body.indexOf("member remove"));
      assert.match(body, /removing the leader without a handover/);
    });
    it("looks again during an election before refusing for want of a healthy member, within TIMEOUT", () => {
      // healthy_others replaced by a stand-in that finds no healthy member for its first two calls, as
      // during the election after the leader was removed.
      const run = (timeout: number, healthyFrom: number) =>
        runSh(
          `TIMEOUT=${timeout}\nNAME=m1\n${SH_ETCD_FUNCTIONS}
healthy_others() { calls=$(( $(cat "$COUNT" 2>/dev/null || echo 0) + 1 )); echo $calls > "$COUNT"; [ $calls -lt ${healthyFrom} ] || echo https://10.0.0.12:2379; }
start=$(date +%s); eps=$(healthy_others_settled); echo "eps=$eps calls=$(cat "$COUNT") took=$(( $(date +%s) - start ))"`,
          { env: { COUNT: path.join(tempDir("settle"), "count") } },
        );
      const settled = run(30, 3);
      assert.equal(settled.code, 0, settled.stderr);
      assert.match(settled.stdout, /^eps=https:\/\/10\.0\.0\.12:2379 calls=3 took=[2-4]$/m);
      // Never healthy: gives up when the script's TIMEOUT runs out (here before the settle time).
      const never = run(2, 99);
      assert.match(never.stdout, /^eps= calls=[2-4] took=[1-3]$/m);
      const healthyAtOnce = run(30, 1);
      assert.match(healthyAtOnce.stdout, /^eps=https:\/\/10\.0\.0\.12:2379 calls=1 took=[01]$/m);
    });
    it("looks again during an election before refusing a step for want of quorum, within TIMEOUT", () => {
      // healthy_voters_except_me replaced by a stand-in: 0 healthy others, then 2 from call `upFrom` on.
      const run = (timeout: number, upFrom: number) =>
        runSh(
          `TIMEOUT=${timeout}\nNAME=m1\n${shFunctions("t")}\n${SH_ETCD_FUNCTIONS}
healthy_voters_except_me() { calls=$(( $(cat "$COUNT" 2>/dev/null || echo 0) + 1 )); echo $calls > "$COUNT"; if [ $calls -lt ${upFrom} ]; then echo 0; else echo 2; fi; }
start=$(date +%s); require_quorum_without_me https://10.0.0.12:2379 3 "remove m1"; echo "ok calls=$(cat "$COUNT") took=$(( $(date +%s) - start ))"`,
          { env: { COUNT: path.join(tempDir("quorum"), "count") } },
        );
      const settled = run(30, 3);
      assert.equal(settled.code, 0, settled.stderr);
      assert.match(settled.stdout, /^ok calls=3 took=[2-4]$/m);
      const atOnce = run(30, 1);
      assert.match(atOnce.stdout, /^ok calls=1 took=[01]$/m);
      // Never enough: refuses, naming the step and the numbers, once the script's TIMEOUT runs out.
      const never = run(2, 99);
      assert.notEqual(never.code, 0);
      assert.doesNotMatch(never.stdout, /^ok/m);
      assert.match(
        never.stderr,
        /refusing to remove m1: 3 voting members need a quorum of 2, but only 0 of the others are healthy/,
      );
    });
    it("tells a formed cluster without a healthy member from one still bootstrapping", () => {
      // ctl stands in for etcdctl: m2 lists started members (formed, no quorum), m3 does not answer, or
      // every member is listed unstarted (a cluster that never had quorum).
      const run = (m2List: string) => {
        const dir = tempDir("formed");
        fs.writeFileSync(
          path.join(dir, "roster"),
          "m1 https://10.0.0.11:2380 https://10.0.0.11:2379\nm2 https://10.0.0.12:2380 https://10.0.0.12:2379\nm3 https://10.0.0.13:2380 https://10.0.0.13:2379\n",
        );
        return runSh(
          `TIMEOUT=30\nNAME=m1\nROSTER=${dir}/roster\n${SH_ETCD_FUNCTIONS}
ctl() { case "$*" in *10.0.0.12*) printf '%s' "$M2_LIST" ;; *) return 1 ;; esac; }
if formed_cluster_answers; then echo formed; else echo not-formed; fi`,
          { env: { M2_LIST: m2List } },
        );
      };
      const started =
        "a1, started, m1, https://10.0.0.11:2380, https://10.0.0.11:2379, false\nb2, started, m2, https://10.0.0.12:2380, https://10.0.0.12:2379, false\n";
      assert.equal(run(started).stdout.trim(), "formed");
      assert.equal(run("").stdout.trim(), "not-formed");
      const unstarted = "a1, unstarted, , https://10.0.0.11:2380, , false\n";
      assert.equal(run(unstarted).stdout.trim(), "not-formed");
    });
    it("never bootstraps beside a formed cluster: looks again, then joins or refuses", () => {
      const member = renderMemberScript(m1);
      const decide = member.slice(member.lastIndexOf("eps=$(healthy_others | paste -sd, -)"));
      assert.match(decide, /if \[ -z "\$eps" \] && formed_cluster_answers; then/);
      assert.ok(decide.indexOf("healthy_others_settled") < decide.indexOf("else bootstrap"));
      assert.match(decide, /refusing to start \$NAME: the other members already form a cluster/);
    });
    it("never carries a private key", () => {
      for (const s of [renderConfigureScript(m1), renderMemberScript(m1), renderRemoveScript(m1)]) {
        assert.doesNotMatch(s, /PRIVATE KEY/);
      }
    });
  });
});

describe("shell helpers", () => {
  it("quotes for sh", () => {
    assert.equal(runSh(`printf %s ${shQuote("it's $HOME `x`")}`).stdout, "it's $HOME `x`");
  });
  it("refuses heredoc content that contains the delimiter", () => {
    assert.throws(() => heredoc("cat", "a\nHAKUBE_EOF\nb"), /must not contain a line "HAKUBE_EOF"/);
  });
  it("the shell quorum() agrees with quorumSize()", () => {
    const out = runSh(`${shFunctions("t")}\nfor n in 1 2 3 4 5 6 7 8 9; do quorum $n; done`)
      .stdout.trim()
      .split("\n");
    assert.deepEqual(out.map(Number), [1, 2, 3, 4, 5, 6, 7, 8, 9].map(quorumSize));
  });
  it("installs a stdin bundle with modes and owners, and a second run changes nothing", () => {
    const dir = tempDir("bundle");
    try {
      const files = memberPkiFiles({
        ca: "CA\n",
        serverCert: "SC\n",
        serverKey: "SECRET_SK\n",
        peerCert: "PC\n",
        peerKey: "SECRET_PK\n",
      }).map((f) => ({
        ...f,
        path: path.join(dir, path.basename(f.path)),
        owner: "root:root",
      }));
      const bundle = renderFileBundle(files);
      const script = `${shFunctions("t")}\n${SH_PUT_BUNDLE_FROM_STDIN}\necho "changed=$CHANGED"`;
      const first = runSh(script, { stdin: bundle });
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout, /changed=1/);
      assert.equal(fs.readFileSync(path.join(dir, "server.key"), "utf8"), "SECRET_SK\n");
      assert.equal(fs.statSync(path.join(dir, "server.key")).mode & 0o777, 0o600);
      // The markers hold "_", which a temp dir's random suffix (printed in paths) never does.
      assert.doesNotMatch(first.stdout + first.stderr, /SECRET_/, "contents are never printed");
      const second = runSh(script, { stdin: bundle });
      assert.match(second.stdout, /changed=0/);
      assert.deepEqual(fs.readdirSync(dir).sort(), [
        "ca.crt",
        "peer.crt",
        "peer.key",
        "server.crt",
        "server.key",
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
  it("refuses bundle entries that would break the line format", () => {
    assert.throws(
      () => renderFileBundle([{ path: "/a b", mode: "0600", owner: "x:x", content: "" }]),
      /bad file entry/,
    );
    assert.throws(
      () => renderFileBundle([{ path: "/a", mode: "600", owner: "x:x", content: "" }]),
      /bad file entry/,
    );
  });
});
