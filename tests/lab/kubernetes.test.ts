/**
 * HaControlPlane on real Kubernetes (v1.20.2, the one release that can be built here) on four lab hosts,
 * deployed by the main job as a user runs it (`npm run lab`, on a lab of its own): kubeadm init through
 * the VIP, control-plane joins one at a time, a worker, the lab's pod network; the status; then faults:
 * the VIP holder powered off, its link cut, keepalived killed, kube-apiserver stopped and killed, the
 * dead master's return. One cluster with external etcd (EtcdCluster on the masters) for most of it, then
 * one with kubeadm's stacked etcd (`--etcd stacked`). Clients use the kubeconfig HaControlPlane output.
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { deploy, DeployResult } from "../../lab/deploy";
import {
  apiServerReady,
  leaseHolders,
  moveLeasesTo,
  parkStaticPods,
  settledVipHolder,
  steadyVipHolder,
  unparkStaticPods,
  waitAllNodesReady,
} from "../../lab/cluster";
import { addressHolders, destroyLab, exec, Lab, linkDown, linkUp, powerOff, powerOn } from "../../lab/hosts";
import { apiRequest, KubeCredentials, leaseHolderVia, readKubeconfig } from "../../lab/kubeapi";
import { kubectl } from "../../lab/kubectl";
import { Prober, ProbeSummary } from "../../lab/probe";
import { VipWatch } from "../../lab/bench/vip/monitor";
import { sleep, waitFor } from "./helpers";
import { LAB_NAMES, LAB_SUBNETS } from "../../lab/hosts/subnets";

const LAB = LAB_NAMES.kubernetesTest;
const SUBNET = LAB_SUBNETS.kubernetesTest;
const repo = path.resolve(__dirname, "..", "..");

/** A run of the lab runner that created, updated, replaced and deleted nothing, and ran no command. */
function assertNoChanges(s: DeployResult["summary"], message: string): void {
  const changed = { created: s.created, updated: s.updated, replaced: s.replaced, deleted: s.deleted };
  assert.deepEqual(
    { ...changed, commands: s.commandsRun },
    { created: [], updated: [], replaced: [], deleted: [], commands: 0 },
    message,
  );
}

/** `npm run lab -- <args>` on the test's own lab, in a child process, as a user runs it. */
function cli(...args: string[]) {
  const r = spawnSync(
    process.execPath,
    ["--require", "tsx/cjs", "lab/cli.ts", ...args, "--lab", LAB, "--subnet", String(SUBNET)],
    {
      cwd: repo,
      encoding: "utf8",
      timeout: 1_500_000,
    },
  );
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const log = process.env.LAB_VERBOSE ? (l: string) => console.log(`      ${l}`) : undefined;

/** An authenticated read that reaches etcd (quorum read), as `kubectl get namespace default` makes. */
const READ_PATH = "/api/v1/namespaces/default";

describe("HaControlPlane on real Kubernetes 1.20 (lab)", function () {
  this.timeout(600_000);
  let result: DeployResult;
  let lab: Lab;
  let creds: KubeCredentials;
  let vip: string;
  let nodes: string[];
  const figures: Record<string, number> = {};
  /** A second holder that VRRP's election removed within this is a blip, not a move (timeline.ts). */
  const ELECTION_BLIP_MS = 50;

  const holders = () => addressHolders(lab, vip);
  const settled = (timeoutMs = 30_000, except?: string) => settledVipHolder(lab, vip, timeoutMs, except);
  const probe = () =>
    new Prober(`${creds.server}${READ_PATH}`, creds.ca, 50, 5000, 8000, 240_000, {
      cert: creds.cert,
      key: creds.key,
    }).start();
  /**
   * A fault can break the requests whose connections it catches open (their TCP state dies with the host,
   * or the address leaves the interface under them); no server can save those. So: every request started
   * after the fault was complete succeeded, and every failed one was open while the fault happened.
   */
  const onlyCaughtInFlight = (p: ProbeSummary, fault: { start: number; done: number }) => {
    const late = p.failures.filter((r) => r.at >= fault.done);
    assert.equal(
      late.length,
      0,
      `requests started after the fault failed (ms from the fault's start: started, lasted, error): ${JSON.stringify(
        late.slice(0, 8).map((r) => [r.at - fault.start, r.ms, r.error]),
      )}; the fault was complete at ${fault.done - fault.start} ms`,
    );
    const unrelated = p.failures.filter((r) => r.at + r.ms < fault.start);
    assert.equal(
      unrelated.length,
      0,
      `requests that ended before the fault failed: ${JSON.stringify(unrelated.slice(0, 5))}`,
    );
  };
  /** Every failed request was open while the VIP changed hands (100 ms for the clocks' reads). */
  const onlyCaughtByVipChanges = (p: ProbeSummary, changes: readonly { at: number }[]) => {
    const unexplained = p.failures.filter(
      (r) => !changes.some((e) => e.at >= r.at - 100 && e.at <= r.at + r.ms + 100),
    );
    assert.deepEqual(
      unexplained,
      [],
      `requests failed that no VIP change caught open; changes: ${JSON.stringify(changes)}`,
    );
  };
  /** The masters' keepalived state changes and check results since `since` (for a failure's message). */
  const vrrpJournal = async (since: number) => {
    const parts = await Promise.all(
      result.masters
        .filter((m) => lab.hosts.some((h) => h.name === m && h.running))
        .map(async (m) => {
          const r = await exec(
            lab,
            m,
            `journalctl -u keepalived -o short-precise --no-pager --since @${Math.floor(since / 1000) - 1} | grep -E 'STATE|Script|priority|advertisement timeout' | tail -40`,
          );
          return `\n--- keepalived on ${m}:\n${r.stdout.trim()}`;
        }),
    );
    return parts.join("");
  };
  const kc = (args: string[], input?: string) =>
    kubectl(result.api!.kubeconfigPath, args, { input, timeoutMs: 60_000 });

  /** Brings every host back up, linked, with its static pods and daemons, and waits for a healthy cluster. */
  const heal = async () => {
    for (const h of lab.hosts) {
      if (!h.running) await powerOn(lab, h.name);
      if (h.linkDown) await linkUp(lab, h.name);
    }
    for (const m of result.masters) {
      await unparkStaticPods(lab, m);
      await exec(lab, m, "systemctl start keepalived haproxy");
    }
    await settled(60_000);
    await waitFor(
      "every API server to be ready",
      120_000,
      async () => {
        for (const m of result.masters) if (!(await apiServerReady(lab, m))) return false;
        return true;
      },
      1000,
    );
    await waitAllNodesReady(creds, nodes);
  };

  /**
   * The main job on a fresh lab; then the same deployment once more through deploy() (what the tests use),
   * which must change nothing.
   */
  const up = async (etcd: "external" | "stacked") => {
    await destroyLab(LAB);
    const t0 = Date.now();
    const first = cli(...(etcd === "stacked" ? ["--etcd", "stacked"] : []));
    figures[`deploy_${etcd}`] = Date.now() - t0;
    assert.equal(first.code, 0, first.stderr.slice(-3000));
    assert.match(first.stdout, /Applied in .* created/);
    assert.match(first.stdout, /kubernetes: 4 node\(s\), 4 Ready/, first.stdout);
    assert.match(
      first.stderr,
      new RegExp(`deploying the lab stack: 3 master\\(s\\), 1 worker\\(s\\), ${etcd} etcd`),
    );
    result = await deploy({ lab: LAB, subnetIndex: SUBNET, etcd, log });
    const s = result.summary;
    assertNoChanges(s, "a second run of the unchanged program changes nothing");
    lab = result.lab;
    creds = readKubeconfig(result.api!.kubeconfig);
    vip = result.api!.vip;
    nodes = [...result.masters, ...result.workers];
  };

  /** Powers off the VIP holder (which first takes both leases) under load; returns what was measured. */
  const holderPowerOff = async (label: string) => {
    const holder = await settled();
    await moveLeasesTo(lab, creds, holder, result.masters);
    const p = probe();
    const writes: Array<{ at: number; ok: boolean }> = [];
    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        const at = Date.now();
        const r = await apiRequest(creds, "POST", "/api/v1/namespaces/default/configmaps", {
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { name: `w-${label}-${i}` },
          data: { at: String(at) },
        });
        writes.push({ at, ok: r.status === 201 });
        await sleep(200);
      }
    })();
    await sleep(1000);
    const t0 = Date.now();
    await powerOff(lab, holder);
    const dead = Date.now();
    const next = await settled(30_000, holder);
    const vipMoved = Date.now() - t0;
    const leaderMoved = await waitFor(
      "both leases on a survivor",
      60_000,
      async () => {
        const h = await leaseHolders(creds);
        return Object.values(h).every((x) => x !== null && x !== holder) ? Date.now() - t0 : undefined;
      },
      250,
    );
    await sleep(2000);
    writing = false;
    await writer;
    const summary = await p.stop();
    const firstWriteAfter = writes.find((w) => w.at >= dead && w.ok);
    return {
      holder,
      next,
      vipMoved,
      leaderMoved,
      summary,
      fault: { start: t0, done: dead },
      writes,
      firstWriteMs: firstWriteAfter ? firstWriteAfter.at - t0 : -1,
    };
  };

  before(async function () {
    this.timeout(1_200_000);
    await up("external");
  });
  after(async function () {
    this.timeout(120_000);
    await destroyLab(LAB);
    if (Object.keys(figures).length > 0) console.log(`      lab figures (ms): ${JSON.stringify(figures)}`);
  });

  describe("with external etcd (EtcdCluster)", () => {
    afterEach(async function () {
      this.timeout(600_000);
      await heal();
    });

    it("init through the VIP, joins one at a time, every node Ready, /readyz through the VIP verified against the cluster CA", async () => {
      assert.equal(result.api!.endpoint, `${vip}:8443`);
      assert.equal(creds.server, `https://${vip}:8443`, "the kubeconfig's server is the VIP");
      await waitAllNodesReady(creds, nodes);
      const readyz = await kc(["get", "--raw", "/readyz"]);
      assert.equal(readyz.stdout.trim(), "ok", readyz.stderr);
      // The order kubeadm ran in: init, then each join after the previous one (node registration times).
      const json = JSON.parse((await kc(["get", "nodes", "-o", "json"])).stdout) as {
        items: Array<{ metadata: { name: string; creationTimestamp: string } }>;
      };
      const created = new Map(
        json.items.map((n) => [n.metadata.name, Date.parse(n.metadata.creationTimestamp)]),
      );
      for (let i = 1; i < result.masters.length; i++) {
        assert.ok(
          created.get(result.masters[i])! >= created.get(result.masters[i - 1])!,
          `${result.masters[i]} registered before ${result.masters[i - 1]}`,
        );
      }
      for (const w of result.workers)
        assert.ok(created.get(w)! >= created.get(result.masters[result.masters.length - 1])!);
      // Every node talks to the API through the VIP: kubeadm wrote the endpoint into its kubelet's kubeconfig.
      for (const n of nodes) {
        const conf = await exec(lab, n, "grep 'server:' /etc/kubernetes/kubelet.conf");
        assert.equal(conf.stdout.trim(), `server: https://${vip}:8443`, `${n}'s kubelet`);
      }
      // A client trusting another CA is refused.
      const wrong = await apiRequest({ ...creds, ca: result.etcd!.pem.ca }, "GET", "/readyz");
      assert.ok(wrong.error, "the etcd CA must not verify the API server");
    });

    it("uses hakube's PKI: the same cluster CA on every master, API certificates naming the endpoint", async () => {
      const want = crypto.createHash("sha256").update(result.api!.caCertPem).digest("hex");
      for (const m of result.masters) {
        const r = await exec(
          lab,
          m,
          "sha256sum /etc/kubernetes/pki/ca.crt | cut -d' ' -f1; openssl verify -CAfile /etc/kubernetes/pki/ca.crt /etc/kubernetes/pki/apiserver.crt; openssl x509 -in /etc/kubernetes/pki/apiserver.crt -noout -ext subjectAltName",
        );
        const [sum] = r.stdout.split("\n");
        assert.equal(sum, want, `${m}'s CA is not the one HaControlPlane made`);
        assert.match(r.stdout, /apiserver\.crt: OK/, `${m}: ${r.stdout}${r.stderr}`);
        assert.match(
          r.stdout,
          new RegExp(`IP Address:${vip.replace(/\./g, "\\.")}(,|$)`, "m"),
          `${m}'s API certificate lacks the VIP`,
        );
        for (const other of result.masters) assert.match(r.stdout, new RegExp(`DNS:${other}(,|$)`, "m"));
      }
    });

    it("prints the status as JSON: nodes, API endpoint, VIP holder, HAProxy backends, leaders, etcd, paths", () => {
      const r = cli("status", "--json");
      assert.equal(r.code, 0, r.stderr);
      const st = JSON.parse(r.stdout);
      assert.equal(st.exists, true);
      assert.deepEqual(
        st.kubernetes.nodes.map((n: { name: string; ready: boolean }) => [n.name, n.ready]),
        nodes.map((n) => [n, true]),
      );
      assert.equal(st.api.endpoint, `${vip}:8443`);
      assert.equal(st.api.holders.length, 1);
      for (const m of result.masters) assert.deepEqual(st.api.haproxy[m], { m1: "UP", m2: "UP", m3: "UP" });
      assert.ok(result.masters.includes(st.kubernetes.leaders.controllerManager));
      assert.ok(result.masters.includes(st.kubernetes.leaders.scheduler));
      assert.equal(st.etcd.topology, "external");
      assert.equal(st.etcd.healthy, true);
      assert.equal(st.etcd.members.length, 3);
      for (const f of [st.sshKey, st.kubernetes.kubeconfig, st.kubernetes.kubectl, st.etcd.key])
        assert.ok(fs.existsSync(f), f);
      assert.equal(fs.statSync(st.kubernetes.kubeconfig).mode & 0o777, 0o600);
      assert.equal(fs.statSync(st.etcd.key).mode & 0o777, 0o600);
    });

    it("refuses bad arguments with a usage line, and a change of etcd topology in place", () => {
      const bad = cli("--masters", "zero");
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /--masters must be a whole number from 1 to 7, got "zero"/);
      assert.match(bad.stderr, /usage: npm run lab/);
      const switched = cli("--etcd", "stacked");
      assert.equal(switched.code, 1);
      assert.match(switched.stderr, /runs external etcd; a cluster cannot change its etcd topology in place/);
    });

    it("schedules a Deployment's pods, and a Service reaches them through kube-proxy from every node", async () => {
      const image = `${result.lab.kubernetes!.imageRepository}/hakube-lab/echo:1`;
      const manifest = JSON.stringify({
        apiVersion: "v1",
        kind: "List",
        items: [
          {
            apiVersion: "apps/v1",
            kind: "Deployment",
            metadata: { name: "echo", namespace: "default" },
            spec: {
              replicas: 2,
              selector: { matchLabels: { app: "echo" } },
              template: {
                metadata: { labels: { app: "echo" } },
                spec: { containers: [{ name: "echo", image, ports: [{ containerPort: 8080 }] }] },
              },
            },
          },
          {
            apiVersion: "v1",
            kind: "Service",
            metadata: { name: "echo", namespace: "default" },
            spec: { selector: { app: "echo" }, ports: [{ port: 80, targetPort: 8080 }] },
          },
        ],
      });
      const applied = await kc(["apply", "-f", "-"], manifest);
      assert.equal(applied.code, 0, applied.stderr);
      const rollout = await kc(["rollout", "status", "deployment/echo", "--timeout=180s"]);
      assert.equal(rollout.code, 0, rollout.stderr);
      const pods = JSON.parse((await kc(["get", "pods", "-l", "app=echo", "-o", "json"])).stdout) as {
        items: Array<{ metadata: { name: string }; spec: { nodeName: string }; status: { phase: string } }>;
      };
      assert.equal(pods.items.filter((p) => p.status.phase === "Running").length, 2);
      const names = new Set(pods.items.map((p) => p.metadata.name));
      const clusterIp = (
        await kc(["get", "service", "echo", "-o", "jsonpath={.spec.clusterIP}"])
      ).stdout.trim();
      for (const n of nodes) {
        const answers = new Set<string>();
        for (let i = 0; i < 12; i++) {
          const r = await exec(lab, n, `curl -fsS --max-time 3 http://${clusterIp}/`);
          assert.equal(r.code, 0, `${n} -> ${clusterIp}: ${r.stderr}`);
          answers.add(r.stdout.trim());
        }
        for (const a of answers) assert.ok(names.has(a), `${n} got ${a}, not a pod of the Deployment`);
      }
    });

    it("survives the VIP holder's power-off: new requests succeed, both leases move to a survivor, writes go on", async () => {
      const r = await holderPowerOff("external");
      onlyCaughtInFlight(r.summary, r.fault);
      assert.notEqual(r.next, r.holder);
      assert.ok(r.firstWriteMs >= 0, "no write succeeded after the power-off");
      Object.assign(figures, {
        external_vipMoved: r.vipMoved,
        external_leasesMoved: r.leaderMoved,
        external_firstWriteAfter: r.firstWriteMs,
        external_failedRequests: r.summary.failed,
      });
      // kubeadm's leases: 15 s duration; a survivor takes over within that plus its retry period.
      assert.ok(r.leaderMoved < 45_000, `the leases moved after ${r.leaderMoved} ms`);
    });

    it("comes back after the power-off without a re-run, and a re-run then changes nothing", async () => {
      const holder = await settled();
      await powerOff(lab, holder);
      await settled(30_000, holder);
      await powerOn(lab, holder);
      await waitFor(`${holder}'s API server`, 180_000, () => apiServerReady(lab, holder), 1000);
      await waitAllNodesReady(creds, nodes);
      const again = await deploy({ lab: LAB, subnetIndex: SUBNET, etcd: "external", log });
      const s = again.summary;
      assertNoChanges(s, "a run of the unchanged program changes nothing");
    });

    it("keeps clients served when kube-apiserver stops on the VIP holder (HAProxy sends them elsewhere)", async () => {
      const holder = await settled();
      const p = probe();
      await sleep(1000);
      await parkStaticPods(lab, holder, ["kube-apiserver"]);
      await waitFor(
        `${holder}'s API server to stop`,
        60_000,
        async () => !(await apiServerReady(lab, holder)),
        500,
      );
      await sleep(3000);
      const summary = await p.stop();
      assert.equal(
        summary.failed,
        0,
        `${summary.failed} of ${summary.total} requests failed: ${summary.errors}`,
      );
      assert.deepEqual(await holders(), [holder], "the VIP stays where HAProxy is alive");
    });

    it("loses only requests in flight when kube-apiserver is killed behind HAProxy", async () => {
      const holder = await settled();
      const other = result.masters.find((m) => m !== holder)!;
      const p = probe();
      await sleep(1000);
      const start = Date.now();
      // The fault is complete when the process is gone (its listening socket closed), not when the signal
      // was sent: a connection accepted into the dying process's backlog is reset after HAProxy connected,
      // which no TCP proxy can retry (seen once: a request started 35 ms after pkill returned).
      await exec(
        lab,
        other,
        "pid=$(pgrep -x kube-apiserver); kill -KILL $pid; " +
          "for i in $(seq 500); do kill -0 $pid 2>/dev/null || break; sleep 0.01; done",
      );
      const killed = Date.now();
      await sleep(3000);
      const summary = await p.stop();
      onlyCaughtInFlight(summary, { start, done: killed });
    });

    it("moves the VIP when the holder's link is cut, and settles on one holder when it returns", async () => {
      const holder = await settled();
      const watch = await VipWatch.start(
        lab,
        vip,
        "linkcut",
        result.masters.filter((m) => m !== holder),
      );
      const p = probe();
      await sleep(1000);
      const start = Date.now();
      await linkDown(lab, holder);
      await waitFor("another host to take the VIP", 30_000, async () =>
        (await holders()).some((h) => h !== holder),
      );
      await sleep(2000);
      const summary = await p.stop();
      const timeline = await watch.stop();
      // Until another host holds the VIP, the address is on a host nobody reaches: a request started then
      // waits for its SYN retransmits (1 s, 3 s) and may fail. Every request started once the new holder
      // took the VIP (its gratuitous ARPs go out at once; 200 ms for them) must succeed.
      const moved = timeline.firstAcquired(start, holder);
      assert.ok(moved !== undefined, `no other master took the VIP: ${JSON.stringify(timeline.changes)}`);
      assert.ok(moved - start < 5000, `the VIP moved ${moved - start} ms after the link cut`);
      onlyCaughtInFlight(summary, { start, done: moved + 200 });
      await linkUp(lab, holder);
      // Settles: one holder, the same for 5 s (the returning master may take the VIP back first).
      const after = await steadyVipHolder(lab, vip);
      assert.deepEqual(await holders(), [after]);
    });

    it("leaves one holder, not two, when keepalived on the holder is killed with SIGKILL", async () => {
      const holder = await settled();
      // Every add and delete of the VIP, timed on the hosts: a SIGKILLed keepalived is released by systemd
      // (ExecStopPost), restarted, and takes the VIP back once its check passes if it has the highest
      // priority (preemption, by design), so the VIP may move twice; either move resets what is open.
      const watch = await VipWatch.start(lab, vip, "sigkill", result.masters);
      const p = probe();
      await sleep(1000);
      const start = Date.now();
      await exec(lab, holder, "systemctl kill -s KILL keepalived");
      await waitFor(
        "the killed keepalived's VIP to be released",
        5000,
        async () => (await holders()).every((h) => h !== holder),
        50,
      );
      // Restart (1 s) + init_fail until `rise` checks pass + the take-back: well within 8 s.
      await sleep(8000);
      const summary = await p.stop();
      const timeline = await watch.stop();
      assert.equal((await holders()).length, 1, `VIP holders after SIGKILL: ${await holders()}`);
      const changes = timeline.changes.filter((e) => e.at >= start - 100);
      assert.ok(changes.length > 0, "the VIP never left the killed keepalived's host");
      // Two backups whose master-down timers expire together both take the VIP, and the lower priority
      // yields at the other's first advert (seen once: held 2 ms): VRRP's election, not a move (a blip,
      // timeline.ts); every change still counts for the failed requests.
      const lasting = timeline.lastingMoves(start - 100, Date.now(), ELECTION_BLIP_MS);
      assert.ok(lasting.length <= 2, `the VIP moved more than away and back: ${JSON.stringify(changes)}`);
      onlyCaughtByVipChanges(summary, changes);
    });

    it("keeps a restarted keepalived off the VIP until its check has passed once", async () => {
      const holder = await settled();
      // A check that hangs instead of failing fast: HAProxy stopped and its monitor port held by a listener
      // that never answers, so the first check result comes only at curl's timeout (0.8 s), after VRRP's
      // master-down timer (~0.35 s). keepalived 2.2.7 applies a negative check weight only from the first
      // result on; with one, the restarted holder took the VIP back with a broken check (measured: 0.83 s).
      await exec(
        lab,
        holder,
        `systemctl stop haproxy && { nohup timeout 120 perl -MIO::Socket::INET -e '$s = IO::Socket::INET->new(LocalAddr => "127.0.0.1:8404", Listen => 64, ReuseAddr => 1) or die "listen: $!"; sleep 120' >/dev/null 2>&1 </dev/null & echo $! >/run/hakube-test-hang.pid; }`,
      );
      try {
        await waitFor("the hanging listener", 5000, async () =>
          (await exec(lab, holder, "ss -Hltn 'sport = :8404'")).stdout.includes("127.0.0.1:8404"),
        );
        const other = await settled(30_000, holder);
        const watch = await VipWatch.start(lab, vip, "unproven", result.masters);
        const start = Date.now();
        await exec(lab, holder, "systemctl restart keepalived");
        // Restart, master-down timer, and a few failing checks.
        await sleep(4000);
        const timeline = await watch.stop();
        const took = timeline.changes.filter((e) => e.at >= start && e.host === holder && e.held);
        assert.deepEqual(
          took,
          [],
          `the restarted keepalived took the VIP before its check passed: ${JSON.stringify(timeline.changes)}${await vrrpJournal(start)}`,
        );
        assert.deepEqual(await holders(), [other]);
      } finally {
        await exec(lab, holder, "kill $(cat /run/hakube-test-hang.pid) 2>/dev/null; systemctl start haproxy");
      }
      // Once its check passes it takes the VIP back: it has the highest priority (preemption).
      await waitFor(
        "the VIP back on the recovered master",
        20_000,
        async () => (await holders()).join() === holder,
      );
    });

    it("does not flap when the dead master comes back: the VIP moves at most once more, only when healthy", async () => {
      const holder = await settled();
      await powerOff(lab, holder);
      const interim = await settled(30_000, holder);
      const survivors = result.masters.filter((m) => m !== holder);
      const watch = await VipWatch.start(lab, vip, "flap", survivors);
      const p = probe();
      const seen: string[] = [interim];
      const start = Date.now();
      await powerOn(lab, holder);
      // Booted: its monitor starts before keepalived can take the VIP back (init_fail until checks pass).
      await watch.add(holder);
      const t0 = Date.now();
      while (Date.now() - t0 < 20_000) {
        const h = await holders();
        if (h.length === 1 && h[0] !== seen[seen.length - 1]) {
          seen.push(h[0]);
          if (h[0] === holder) {
            const healthy = await exec(
              lab,
              holder,
              "curl -sf http://127.0.0.1:8404/healthz >/dev/null && echo up",
            );
            assert.match(healthy.stdout, /up/, "the VIP moved back before HAProxy was up");
          }
        }
        await sleep(100);
      }
      const summary = await p.stop();
      const timeline = await watch.stop();
      assert.ok(
        seen.length <= 2,
        `the VIP moved ${seen.length - 1} times after the master returned: ${seen.join(" -> ")}`,
      );
      // A backup that misses three of the holder's advertisements (its keepalived not scheduled for ~0.33 s
      // on a loaded machine; seen once in CI, 13 s after the boot: held 0 ms) takes the VIP beside the
      // holder until the holder's next advert: a blip, not a move. It must stay rare: at most 2 in the 20 s.
      const blips = timeline.blips(start, Date.now(), ELECTION_BLIP_MS);
      if (timeline.lastingMoves(start, Date.now(), ELECTION_BLIP_MS).length > 1 || blips.length > 2)
        assert.fail(
          `the VIP moved more than once (${blips.length} blips): ${JSON.stringify(timeline.changes)}${await vrrpJournal(start)}`,
        );
      if (blips.length > 0)
        console.log(
          `      blip (a second holder removed by VRRP's election): ${JSON.stringify(blips)}${await vrrpJournal(start)}`,
        );
      // Moving back (preemption) resets the connections open through the VIP at that instant; any other
      // failure is the cluster's.
      onlyCaughtByVipChanges(
        summary,
        timeline.changes.filter((e) => e.at >= start),
      );
    });
  });

  describe("with kubeadm's stacked etcd", () => {
    before(async function () {
      this.timeout(1_200_000);
      await up("stacked");
    });

    it("is Ready on every node, with a 3-member etcd inside the control plane", async () => {
      await waitAllNodesReady(creds, nodes);
      const pods = await kc([
        "-n",
        "kube-system",
        "get",
        "pods",
        "-l",
        "component=etcd",
        "-o",
        "jsonpath={.items[*].spec.nodeName}",
      ]);
      assert.deepEqual(pods.stdout.trim().split(/\s+/).sort(), [...result.masters].sort());
    });

    it("survives the VIP holder's power-off: new requests succeed, both leases move, writes go on", async () => {
      const r = await holderPowerOff("stacked");
      onlyCaughtInFlight(r.summary, r.fault);
      assert.ok(r.firstWriteMs >= 0, "no write succeeded after the power-off");
      Object.assign(figures, {
        stacked_vipMoved: r.vipMoved,
        stacked_leasesMoved: r.leaderMoved,
        stacked_firstWriteAfter: r.firstWriteMs,
        stacked_failedRequests: r.summary.failed,
      });
      assert.ok(r.leaderMoved < 45_000, `the leases moved after ${r.leaderMoved} ms`);
      assert.ok(await leaseHolderVia(creds, "kube-scheduler"));
    });

    it("npm run lab -- down removes every host, link and process it made", async () => {
      await heal();
      const r = cli("down");
      assert.equal(r.code, 0, r.stderr);
      assert.equal(JSON.parse(cli("status", "--json").stdout).exists, false);
      const links = spawnSync("ip", ["-o", "link"], { encoding: "utf8" }).stdout;
      assert.doesNotMatch(links, new RegExp(`hk-${LAB}|vb-hk${SUBNET}-`));
      const procs = spawnSync("ps", ["-eo", "args"], { encoding: "utf8" }).stdout;
      assert.doesNotMatch(procs, new RegExp(`hk${SUBNET}-m[0-9]|lab/${LAB}/registry`));
    });
  });
});
