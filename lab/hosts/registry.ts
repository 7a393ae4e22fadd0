import * as fs from "fs";
import * as path from "path";
import { cacheDir, labDir } from "./paths";
import {
  allPids,
  freePort,
  cmdlineOf,
  isAlive,
  Log,
  ProcRef,
  procRef,
  run,
  startServer,
  stopProcess,
} from "./run";

/**
 * A real image registry for the lab: Debian's docker-registry (the CNCF distribution registry, 2.8) on
 * the lab's gateway address, over TLS with a certificate from the lab's own CA, serving read-only the
 * images lab/hosts/images.ts made. Hosts trust the CA through their system store (lab/hosts/node.ts), so
 * containerd and the kubelet pull from it as an air-gapped site pulls from its internal registry:
 * HaControlPlane's `imageRepository` points at it.
 *
 * Why a registry rather than images preloaded into each host's containerd: containerd is installed by
 * HaControlPlane's prepare step, so nothing could be loaded into it before; and a registry exercises what
 * users of `imageRepository` do (kubeadm's preflight pulls, the kubelet's pulls on every node).
 *
 * The storage (`.lab/cache/registry/storage`) is shared by every lab and written once, by a temporary
 * registry on 127.0.0.1 that skopeo pushes to; each lab's registry only reads it.
 */

export const REGISTRY_PORT = 5000;
/** Repository path under which the images are kept: imageRepository = `<gateway>:5000/k8s`. */
export const REGISTRY_NAMESPACE = "k8s";
const REGISTRY_BIN = "/usr/bin/docker-registry";

function storageDir(): string {
  return path.join(cacheDir(), "registry", "storage");
}

function caDir(): string {
  return path.join(cacheDir(), "registry", "ca");
}

/** `<gateway>:5000/k8s`: what HaControlPlane's imageRepository is in the lab. */
export function labImageRepository(gateway: string): string {
  return `${gateway}:${REGISTRY_PORT}/${REGISTRY_NAMESPACE}`;
}

/** openssl req: a new ECDSA P-256 key, unencrypted. */
const NEW_EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];

/** The lab CA (made once, kept in the cache) that signs every lab registry's certificate. */
export async function ensureRegistryCa(): Promise<{ cert: string; key: string; pem: string }> {
  const dir = caDir();
  const cert = path.join(dir, "ca.crt");
  const key = path.join(dir, "ca.key");
  if (!fs.existsSync(cert) || !fs.existsSync(key)) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    await run("openssl", [
      "req",
      "-x509",
      ...NEW_EC_KEY,
      "-keyout",
      `${key}.new`,
      "-out",
      `${cert}.new`,
      "-days",
      "3650",
      "-subj",
      "/CN=hakube lab registry CA",
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    fs.chmodSync(`${key}.new`, 0o600);
    fs.renameSync(`${key}.new`, key);
    fs.renameSync(`${cert}.new`, cert);
  }
  return { cert, key, pem: fs.readFileSync(cert, "utf8") };
}

/** The lab's registry files: config, server certificate and key for the gateway address. */
function labRegistryFiles(labName: string) {
  const dir = path.join(labDir(labName), "registry");
  return {
    dir,
    config: path.join(dir, "config.yml"),
    cert: path.join(dir, "server.crt"),
    key: path.join(dir, "server.key"),
    log: path.join(dir, "registry.log"),
  };
}

async function issueServerCert(labName: string, gateway: string): Promise<void> {
  const ca = await ensureRegistryCa();
  const f = labRegistryFiles(labName);
  fs.mkdirSync(f.dir, { recursive: true, mode: 0o700 });
  if (fs.existsSync(f.cert)) return;
  const csr = path.join(f.dir, "server.csr");
  const ext = path.join(f.dir, "server.ext");
  await run("openssl", [
    "req",
    "-new",
    ...NEW_EC_KEY,
    "-keyout",
    f.key,
    "-out",
    csr,
    "-subj",
    `/CN=${gateway}`,
  ]);
  fs.chmodSync(f.key, 0o600);
  fs.writeFileSync(
    ext,
    `subjectAltName=IP:${gateway}\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n`,
  );
  await run("openssl", [
    "x509",
    "-req",
    "-in",
    csr,
    "-CA",
    ca.cert,
    "-CAkey",
    ca.key,
    "-CAcreateserial",
    "-days",
    "825",
    "-extfile",
    ext,
    "-out",
    f.cert,
  ]);
  fs.rmSync(csr);
  fs.rmSync(ext);
}

/** docker-registry's configuration: filesystem storage, read-only unless pushing. */
function registryConfig(addr: string, readonly: boolean, tls?: { cert: string; key: string }): string {
  return [
    "version: 0.1",
    "log:",
    "  level: warn",
    "  accesslog:",
    "    disabled: true",
    "storage:",
    "  filesystem:",
    `    rootdirectory: ${storageDir()}`,
    "  maintenance:",
    "    uploadpurging:",
    "      enabled: false",
    "    readonly:",
    `      enabled: ${readonly}`,
    "http:",
    `  addr: ${addr}`,
    ...(tls ? ["  tls:", `    certificate: ${tls.cert}`, `    key: ${tls.key}`] : []),
    "",
  ].join("\n");
}

function startRegistry(
  config: string,
  logFile: string,
  listen: { host: string; port: number },
): Promise<ProcRef> {
  return startServer("the registry", REGISTRY_BIN, ["serve", config], logFile, listen);
}

/** Starts the lab's registry on gateway:5000 (detached, like the release server). */
export async function startLabRegistry(labName: string, gateway: string): Promise<ProcRef> {
  if (!fs.existsSync(REGISTRY_BIN))
    throw new Error(`${REGISTRY_BIN} not found: apt-get install docker-registry`);
  await issueServerCert(labName, gateway);
  const f = labRegistryFiles(labName);
  fs.writeFileSync(f.config, registryConfig(`${gateway}:${REGISTRY_PORT}`, true, f), { mode: 0o600 });
  return startRegistry(f.config, f.log, { host: gateway, port: REGISTRY_PORT });
}

/** Registry processes serving this lab's config, including one a crash left out of the state file. */
export function findStrayRegistries(labName: string): ProcRef[] {
  const config = labRegistryFiles(labName).config;
  return allPids()
    .filter((pid) => {
      const argv = cmdlineOf(pid);
      return argv !== undefined && argv[0] === REGISTRY_BIN && argv[2] === config;
    })
    .map(procRef)
    .filter(isAlive);
}

/**
 * Pushes OCI layouts ("<dir>:<tag>") into the shared storage as `ref`, through a temporary registry on
 * 127.0.0.1 (plain HTTP on loopback), then stops it.
 */
export async function pushImages(layouts: Array<{ layout: string; ref: string }>, log: Log): Promise<void> {
  fs.mkdirSync(storageDir(), { recursive: true, mode: 0o700 });
  const port = await freePort();
  const work = fs.mkdtempSync(path.join(cacheDir(), "registry", ".push-"));
  const config = path.join(work, "config.yml");
  const logFile = path.join(work, "registry.log");
  fs.writeFileSync(config, registryConfig(`127.0.0.1:${port}`, false));
  const ref = await startRegistry(config, logFile, { host: "127.0.0.1", port });
  try {
    for (const l of layouts) {
      await run(
        "skopeo",
        [
          "copy",
          "--quiet",
          "--dest-tls-verify=false",
          `oci:${l.layout}`,
          `docker://127.0.0.1:${port}/${l.ref}`,
        ],
        { timeoutMs: 600_000 },
      );
      log(`images: pushed ${l.ref}`);
    }
  } finally {
    await stopProcess(ref);
    fs.rmSync(work, { recursive: true, force: true });
  }
}
