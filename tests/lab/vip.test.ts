/**
 * KeepalivedVip + HAProxy (LoadBalancer) on three real lab masters, in front of a kube-apiserver
 * stand-in (openssl s_server serving /readyz with a certificate from the cluster CA: no Kubernetes server
 * binaries exist here, so this proves the VIP and the load balancer, not Kubernetes). A client verifies the
 * server certificate against the CA through the VIP, so the certificates' SANs must include the VIP.
 * Faults are real: hosts powered off, links cut, processes killed.
 */
import { strict as assert } from "node:assert";
import * as tls from "node:tls";
import { deploy, DeployResult } from "../../lab/deploy";
import { addressHolders, destroyLab, exec, Lab, linkDown, linkUp, powerOff, powerOn } from "../../lab/hosts";
import { Prober, ProbeSummary } from "../../lab/probe";
import { httpsGet, sleep, waitFor } from "./helpers";

const LAB = "t-vip";
const SUBNET = 8;
const STANDIN = "hakube-apiserver-standin";

describe("KeepalivedVip and HAProxy on real hosts (lab)", function () {
  this.timeout(300_000);
  let result: DeployResult;
  let lab: Lab;
  let vip: string;
  let url: string;
  let ca: string;
  const figures: Record<string, number> = {};

  /** The running hosts that have the VIP on their interface. */
  const holders = () => addressHolders(lab, vip);
  /** Wait until exactly one reachable host holds the VIP, and return it. */
  const settledHolder = async (timeoutMs = 30_000, except?: string): Promise<string> =>
    waitFor("exactly one VIP holder", timeoutMs, async () => {
      const h = await holders();
      return h.length === 1 && h[0] !== except ? h[0] : undefined;
    });
  const throughVip = async () => (await httpsGet(url, { ca })).status === 200;
  /**
   * A fault can break the requests whose connections it catches open (their TCP state dies with the host,
   * or the address leaves the interface under them); no server can save those. Every request started
   * after the fault must succeed, and at most `inFlight` may have been caught.
   */
  const onlyCaughtInFlight = (p: ProbeSummary, faultDoneAt: number, inFlight: number) => {
    const late = p.failures.filter((r) => r.at >= faultDoneAt);
    assert.equal(late.length, 0, `requests started after the fault failed: ${JSON.stringify(late)}`);
    assert.ok(p.failed <= inFlight, `${p.failed} of ${p.total} requests failed: ${p.errors}`);
  };

  before(async function () {
    this.timeout(600_000);
    await destroyLab(LAB);
    result = await deploy({ lab: LAB, subnetIndex: SUBNET, members: 3 });
    lab = result.lab;
    vip = result.api!.vip;
    ca = result.api!.caCertPem;
    url = `https://${vip}:6443/readyz`;
  });
  after(async function () {
    this.timeout(120_000);
    await destroyLab(LAB);
    if (Object.keys(figures).length > 0) console.log(`      lab figures (ms): ${JSON.stringify(figures)}`);
  });
  afterEach(async function () {
    // Every scenario leaves all hosts up, linked and serving, with one VIP holder.
    this.timeout(120_000);
    for (const h of lab.hosts) {
      if (!h.running) await powerOn(lab, h.name);
      if (h.linkDown) await linkUp(lab, h.name);
    }
    for (const h of lab.hosts) await exec(lab, h.name, `systemctl start ${STANDIN} keepalived haproxy`);
    await settledHolder(60_000);
    await waitFor("the VIP to answer", 30_000, throughVip);
  });

  it("serves the stand-in through the VIP with a certificate that names the VIP; exactly one holder", async () => {
    assert.equal(result.api!.endpoint, `${vip}:6443`);
    const holder = await settledHolder();
    assert.deepEqual(await holders(), [holder]);
    assert.ok(await throughVip(), "HTTPS through the VIP, verified against the cluster CA");
    const wrongCa = await httpsGet(url, { ca: result.pem.ca });
    assert.ok(wrongCa.error, "the etcd CA must not verify the API certificate");
  });

  it("serves, through the VIP, a certificate with every SAN HaControlPlane's configuration names", async () => {
    const sans = await new Promise<string>((resolve, reject) => {
      const socket = tls.connect({ host: vip, port: 6443, ca, servername: undefined }, () => {
        const cert = socket.getPeerCertificate();
        socket.end();
        resolve(cert.subjectaltname ?? "");
      });
      socket.on("error", reject);
    });
    const names = sans.split(", ").map((x) => x.replace(/^(DNS|IP Address):/, ""));
    assert.ok(result.api!.certSans.includes(vip), "the configuration names the VIP");
    for (const want of result.api!.certSans)
      assert.ok(names.includes(want), `SAN ${want} missing from ${sans}`);
  });

  it("moves the VIP when the holder's host dies, and requests keep succeeding", async () => {
    const holder = await settledHolder();
    const probe = new Prober(url, ca).start();
    await sleep(500);
    const t0 = Date.now();
    await powerOff(lab, holder);
    const dead = Date.now();
    const next = await settledHolder(30_000, holder);
    figures.hostDeathVipMove = Date.now() - t0;
    await sleep(1000);
    const p = await probe.stop();
    assert.notEqual(next, holder);
    onlyCaughtInFlight(p, dead, 2);
    figures.hostDeathSlowestRequest = p.slowestMs;
    assert.ok(figures.hostDeathVipMove < 10_000, `the VIP moved after ${figures.hostDeathVipMove} ms`);
  });

  it("moves the VIP when the holder's link is cut, and settles on one holder when it returns", async () => {
    const holder = await settledHolder();
    const probe = new Prober(url, ca).start();
    await sleep(500);
    await linkDown(lab, holder);
    const cut = Date.now();
    // The cut host cannot hear the others and keeps the VIP on its own interface (as real servers do);
    // what matters is that a reachable host takes it and clients are served.
    await waitFor("another host to take the VIP", 30_000, async () =>
      (await holders()).some((h) => h !== holder),
    );
    await sleep(1000);
    const p = await probe.stop();
    onlyCaughtInFlight(p, cut, 2);
    await linkUp(lab, holder);
    const after = await settledHolder(30_000);
    assert.deepEqual(await holders(), [after]);
  });

  it("leaves one holder, not two, when keepalived on the holder is killed with SIGKILL", async () => {
    const holder = await settledHolder();
    const probe = new Prober(url, ca).start();
    await sleep(500);
    await exec(lab, holder, "systemctl kill -s KILL keepalived");
    await waitFor(
      "the killed keepalived's VIP to be released",
      5000,
      async () => (await holders()).every((h) => h !== holder),
      50,
    );
    const released = Date.now();
    await sleep(3000);
    const p = await probe.stop();
    const now = await holders();
    assert.equal(now.length, 1, `VIP holders after SIGKILL: ${now}`);
    // The unit releases the VIP at once (ExecStopPost); a connection open through it at that instant is
    // reset when the next holder answers its packets.
    onlyCaughtInFlight(p, released, 2);
  });

  it("keeps clients served when the API server (stand-in) dies on the holder", async () => {
    const holder = await settledHolder();
    const probe = new Prober(url, ca).start();
    await sleep(500);
    await exec(lab, holder, `systemctl stop ${STANDIN}`);
    await sleep(3000);
    const p = await probe.stop();
    assert.equal(p.failed, 0, `${p.failed} of ${p.total} requests failed: ${p.errors}`);
    assert.equal((await holders()).length, 1);
  });

  it("loses no request when a backend dies behind HAProxy", async () => {
    const holder = await settledHolder();
    const other = lab.hosts.find((h) => h.name !== holder)!.name;
    const probe = new Prober(url, ca).start();
    await sleep(500);
    await exec(lab, other, `systemctl kill -s KILL ${STANDIN}; systemctl stop ${STANDIN}`);
    const killed = Date.now();
    await sleep(3000);
    const p = await probe.stop();
    // TCP mode: HAProxy cannot replay a request already sent to the backend that was killed under it, so
    // only those can fail; every new connection goes to a live backend (redispatch on connect failure).
    onlyCaughtInFlight(p, killed, 1);
  });

  it("does not flap when the dead master comes back: the VIP moves at most once more, only when healthy", async () => {
    const holder = await settledHolder();
    await powerOff(lab, holder);
    const interim = await settledHolder(30_000, holder);
    const probe = new Prober(url, ca).start();
    const seen: string[] = [interim];
    await powerOn(lab, holder);
    const t0 = Date.now();
    while (Date.now() - t0 < 15_000) {
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
    const p = await probe.stop();
    assert.ok(
      seen.length <= 2,
      `the VIP moved ${seen.length - 1} times after the master returned: ${seen.join(" -> ")}`,
    );
    // Moving back (preemption) resets the connections open through the VIP at that instant.
    assert.ok(p.failed <= 2, `${p.failed} of ${p.total} requests failed: ${p.errors}`);
    figures.returnMoves = seen.length - 1;
    figures.returnFailedRequests = p.failed;
  });
});
