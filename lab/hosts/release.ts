import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { cacheDir, labDir } from "./paths";
import { OFFLINE_REPO } from "./rootfs";
import {
  allPids,
  cmdlineOf,
  isAlive,
  Log,
  ProcRef,
  procRef,
  REPRODUCIBLE_TAR,
  run,
  startServer,
  withLock,
} from "./run";
import type { ReleaseState } from "./state";

/**
 * A stand-in for etcd's "official release" download: the tarball the components fetch by URL + sha256,
 * in the upstream layout (etcd-vX.Y.Z-linux-amd64/{etcd,etcdctl}), built from the Debian packages of the
 * offline repository (hosts cannot reach GitHub) and served over HTTP on the lab gateway address only.
 */

/** Port of the release server; each lab binds its own gateway address, so labs do not collide. */
export const RELEASE_PORT = 8780;

export function releaseRoot(labName: string): string {
  return path.join(labDir(labName), "release");
}

export function releaseBaseUrl(gateway: string): string {
  return `http://${gateway}:${RELEASE_PORT}/etcd`;
}

/** The Kubernetes binaries, laid out as dl.k8s.io/release (lab/hosts/kubernetes.ts). */
export function kubernetesReleaseBaseUrl(gateway: string): string {
  return `http://${gateway}:${RELEASE_PORT}/kubernetes`;
}

function tarballName(version: string): string {
  return `etcd-${version}-linux-amd64.tar.gz`;
}

function debOf(repo: string, pkg: string): string {
  const deb = fs.readdirSync(repo).find((f) => f.startsWith(`${pkg}_`) && f.endsWith(".deb"));
  if (!deb) throw new Error(`no ${pkg} package in ${repo}`);
  return path.join(repo, deb);
}

/** "3.4.23-4+b4" or "1:3.4.23-4" -> "v3.4.23": the upstream version that names the release. */
export function upstreamVersion(debianVersion: string): string {
  return `v${debianVersion.replace(/^\d+:/, "").replace(/-[^-]*$/, "")}`;
}

/** Builds the tarball once into the cache (shared by all labs) and returns where it is. */
export async function ensureEtcdTarball(rootfs: string, log: Log): Promise<ReleaseState & { path: string }> {
  const repo = path.join(rootfs, OFFLINE_REPO);
  return ensureTarballFromDebs(debOf(repo, "etcd-server"), debOf(repo, "etcd-client"), log);
}

/**
 * Debian trixie's etcd (3.5.16), the upgrade test's target: the packages as trixie's archive index lists
 * them (`apt-cache show etcd-server etcd-client` with trixie as a source), pinned by that index's sha256.
 */
export const TRIXIE_ETCD = {
  pool: "http://deb.debian.org/debian/pool/main/e/etcd",
  server: {
    file: "etcd-server_3.5.16-4_amd64.deb",
    sha256: "0875921bb0d023f2af9b8e15cdfbe417a03e65731345fb832c40f9c2dd72967b",
  },
  client: {
    file: "etcd-client_3.5.16-4_amd64.deb",
    sha256: "7eb67e305ba2ce523a5a0b29bf88750ded3f724769c7111a83382b7909f9977b",
  },
} as const;

/**
 * The release tarball of trixie's etcd 3.5 (etcd, etcdctl, etcdutl), built once into the cache from its
 * Debian packages, which are downloaded from Debian's archive on this machine (never by the lab hosts)
 * the first time and checked against {@link TRIXIE_ETCD}'s sha256.
 */
export async function ensureTrixieEtcdTarball(log: Log): Promise<ReleaseState & { path: string }> {
  const dir = path.join(cacheDir(), "debs", "trixie");
  const debs = [TRIXIE_ETCD.server, TRIXIE_ETCD.client].map((d) => path.join(dir, d.file));
  await withLock(path.join(cacheDir(), "debs.lock"), log, async () => {
    fs.mkdirSync(dir, { recursive: true });
    for (const [i, d] of [TRIXIE_ETCD.server, TRIXIE_ETCD.client].entries()) {
      if (fs.existsSync(debs[i])) continue;
      log(`release: downloading ${d.file} from Debian's archive`);
      const partial = `${debs[i]}.partial`;
      await run("curl", ["-fsSL", "--retry", "3", "-o", partial, `${TRIXIE_ETCD.pool}/${d.file}`]);
      const got = crypto.createHash("sha256").update(fs.readFileSync(partial)).digest("hex");
      if (got !== d.sha256) {
        fs.rmSync(partial, { force: true });
        throw new Error(`${d.file}: sha256 ${got}, expected ${d.sha256} (trixie's index)`);
      }
      fs.renameSync(partial, debs[i]);
    }
  });
  return ensureTarballFromDebs(debs[0], debs[1], log);
}

async function ensureTarballFromDebs(
  serverDeb: string,
  clientDeb: string,
  log: Log,
): Promise<ReleaseState & { path: string }> {
  const version = upstreamVersion((await run("dpkg-deb", ["-f", serverDeb, "Version"])).stdout.trim());
  const file = path.posix.join("etcd", version, tarballName(version));
  const cached = path.join(cacheDir(), "release", file);
  if (!fs.existsSync(cached)) {
    await withLock(path.join(cacheDir(), "release.lock"), log, async () => {
      if (!fs.existsSync(cached)) await buildTarball(serverDeb, clientDeb, version, cached, log);
    });
  }
  const sha256 = crypto.createHash("sha256").update(fs.readFileSync(cached)).digest("hex");
  return { version, sha256, file, path: cached };
}

async function buildTarball(serverDeb: string, clientDeb: string, version: string, out: string, log: Log) {
  log(`release: building ${path.basename(out)} from the Debian etcd packages`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const tmp = fs.mkdtempSync(path.join(path.dirname(out), ".build-"));
  try {
    const top = `etcd-${version}-linux-amd64`;
    const bin = path.join(tmp, "pkg", top);
    fs.mkdirSync(bin, { recursive: true });
    // etcdutl (3.5+) is in Debian's etcd-server package, when there.
    for (const [deb, exe, optional] of [
      [serverDeb, "etcd", false],
      [clientDeb, "etcdctl", false],
      [serverDeb, "etcdutl", true],
    ] as const) {
      const x = path.join(tmp, exe);
      await run("dpkg-deb", ["-x", deb, x]);
      const from = path.join(x, "usr/bin", exe);
      if (optional && !fs.existsSync(from)) continue;
      fs.copyFileSync(from, path.join(bin, exe));
      fs.chmodSync(path.join(bin, exe), 0o755);
    }
    fs.writeFileSync(
      path.join(bin, "README-hakube-lab.md"),
      `Lab stand-in for etcd ${version}: binaries from Debian's ${path.basename(serverDeb)} and ${path.basename(clientDeb)}.\n`,
    );
    // Reproducible: fixed order, owner and times, gzip without a timestamp.
    const partial = `${out}.partial`;
    await run("tar", [
      ...REPRODUCIBLE_TAR,
      "-I",
      "gzip -n",
      "-C",
      path.join(tmp, "pkg"),
      "-cf",
      partial,
      top,
    ]);
    fs.renameSync(partial, out);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Links the cached tarball into the lab's served folder, with a SHA256SUMS file as upstream has. */
export function publishTarball(labName: string, release: ReleaseState & { path: string }): void {
  const dest = path.join(releaseRoot(labName), release.file);
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  fs.rmSync(dest, { force: true });
  fs.linkSync(release.path, dest);
  fs.writeFileSync(
    path.join(path.dirname(dest), "SHA256SUMS"),
    `${release.sha256}  ${path.basename(dest)}\n`,
  );
}

// --- server -------------------------------------------------------------------------------------------

/**
 * The static file server, run as `node -e` so that it needs no file of its own and no compilation.
 * GET/HEAD only, confined to the release folder, one log line per request.
 */
const SERVER_SOURCE = `
const http = require("http"), fs = require("fs"), path = require("path");
const [root, host, port] = process.argv.slice(1);
http.createServer((req, res) => {
  const done = (code, body) => { res.writeHead(code); res.end(body);
    console.log(new Date().toISOString(), req.socket.remoteAddress, req.method, req.url, code); };
  if (req.method !== "GET" && req.method !== "HEAD") return done(405, "method not allowed\\n");
  let rel;
  try { rel = decodeURIComponent(new URL(req.url, "http://x").pathname); } catch { return done(400, "bad path\\n"); }
  const file = path.join(root, path.normalize(rel));
  if (!file.startsWith(root + path.sep)) return done(403, "forbidden\\n");
  fs.stat(file, (err, st) => {
    if (err || !st.isFile()) return done(404, "not found\\n");
    res.writeHead(200, { "content-length": st.size, "content-type": "application/octet-stream" });
    console.log(new Date().toISOString(), req.socket.remoteAddress, req.method, req.url, 200);
    if (req.method === "HEAD") return res.end();
    fs.createReadStream(file).pipe(res);
  });
}).listen(Number(port), host, () => console.log("listening on " + host + ":" + port));
`;

/** Starts the release server on gateway:RELEASE_PORT (detached: it outlives this process). */
export function startReleaseServer(labName: string, gateway: string): Promise<ProcRef> {
  return startServer(
    "the release server",
    process.execPath,
    ["-e", SERVER_SOURCE, releaseRoot(labName), gateway, String(RELEASE_PORT)],
    path.join(labDir(labName), "release-server.log"),
    { host: gateway, port: RELEASE_PORT },
    10_000,
  );
}

/** The lab's release server processes, including one that a crash left out of the state file. */
export function findStrayReleaseServers(labName: string): ProcRef[] {
  const root = releaseRoot(labName);
  return allPids()
    .filter((pid) => {
      const argv = cmdlineOf(pid);
      return argv !== undefined && argv[1] === "-e" && argv[2] === SERVER_SOURCE && argv[3] === root;
    })
    .map(procRef)
    .filter(isAlive);
}
