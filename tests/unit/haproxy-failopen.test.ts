/**
 * Fail open, with real HAProxy on loopback: the rendered haproxy.cfg (its global section's chroot, user and
 * admin socket left out, so it runs as a test process) in front of two TLS API servers whose /readyz
 * fails, as every API server's does while etcd has no leader. Every checked server goes DOWN; a client's
 * request still reaches an API server. Skipped without haproxy or openssl.
 */
import { strict as assert } from "node:assert";
import { spawn, ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as https from "node:https";
import * as path from "node:path";
import { renderHaproxyConfig } from "../../components/loadbalancer/render/haproxy";
import { checkedBackendStates } from "../../lab/status";
import { haproxySettings } from "./helpers/loadbalancer";
import { which } from "./helpers/sandbox";
import { opensslCa, tempDir } from "./helpers/sh";

const BACKENDS = ["127.0.0.11", "127.0.0.12"];

/** GET through HAProxy; resolves with the status, or the error's message. */
function get(port: number, urlPath: string): Promise<number | string> {
  return new Promise((resolve) => {
    const req = https.get(
      { host: "127.0.0.10", port, path: urlPath, rejectUnauthorized: false, timeout: 3000 },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (e) => resolve(e.message));
  });
}

/** The checked servers' states, read as the lab status reads them. */
async function checkedStates(healthPort: number): Promise<Record<string, string>> {
  const res = await fetch(`http://127.0.0.1:${healthPort}/stats;csv`);
  return checkedBackendStates(await res.text());
}

describe("HAProxy fails open (real HAProxy on loopback)", function () {
  this.timeout(30000);
  let dir = "";
  let haproxy: ChildProcess | undefined;
  const servers: https.Server[] = [];
  const port = 20000 + Math.floor(Math.random() * 20000);
  const backendPort = port + 1;
  const healthPort = port + 2;

  before(async function () {
    if (!which("haproxy") || !which("openssl")) this.skip();
    dir = tempDir("failopen");
    const ca = opensslCa("failopen-server");
    const tls = { key: ca.privateKeyPem, cert: ca.certPem };
    for (const address of BACKENDS) {
      // An API server whose etcd has no leader: it takes connections, /readyz fails, the rest answers.
      const server = https.createServer(tls, (req, res) => {
        res.writeHead(req.url === "/readyz" ? 500 : 200).end();
      });
      await new Promise<void>((resolve) => server.listen(backendPort, address, resolve));
      servers.push(server);
    }
    const cfg = renderHaproxyConfig(
      haproxySettings(
        {
          bindAddress: "127.0.0.10",
          backends: BACKENDS.map((address, i) => ({ name: `m${i + 1}`, address })),
          healthPort,
          check: { intervalMs: 100, fall: 2, rise: 1 },
        },
        { port, backendPort },
      ),
    )
      .split("\n")
      .filter((l) => !/^\s*(chroot|user|group|stats socket|log stdout) /.test(l))
      .join("\n");
    fs.writeFileSync(path.join(dir, "haproxy.cfg"), cfg);
    haproxy = spawn("haproxy", ["-db", "-f", path.join(dir, "haproxy.cfg")], { stdio: "ignore" });
  });
  after(async () => {
    haproxy?.kill("SIGKILL");
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("marks every checked server DOWN, and still forwards a request to an API server", async () => {
    let states: Record<string, string> = {};
    for (let i = 0; i < 100; i++) {
      states = await checkedStates(healthPort).catch(() => ({}));
      if (Object.keys(states).length === 2 && Object.values(states).every((s) => s.startsWith("DOWN"))) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(Object.keys(states).sort(), ["m1", "m2"]);
    assert.ok(
      Object.values(states).every((s) => s.startsWith("DOWN")),
      `checked servers: ${JSON.stringify(states)}`,
    );
    assert.equal(await get(port, "/api/v1/namespaces/default"), 200);
  });
});
