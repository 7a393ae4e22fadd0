import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { cacheDir, labDir, repoRoot } from "./paths";
import { Log, run, withLock } from "./run";

/**
 * Real Kubernetes server binaries for the lab. This workplace reaches no Kubernetes release server; the
 * only Kubernetes server source it can get is Debian's (upstream v1.20.2), so the lab runs 1.20.2, built
 * by scripts/build-kubernetes.sh. Where the prebuilt binaries come from, in this order:
 *
 * 1. `$HAKUBE_KUBERNETES_BINARIES`: a folder with `<binary>.xz` files and a SHA256SUMS of the
 *    uncompressed binaries (CI points it at a prebuilt copy). If it is set but incomplete, the lab stops
 *    and says what is missing: no fall back.
 * 2. `.lab/cache/kubernetes/v1.20.2/`, the same layout, built by scripts/build-kubernetes.sh from Debian's
 *    source package on first use (15 to 55 minutes on 2 cores; logged as it goes).
 *
 * The binaries are then laid out as the official release server does
 * (`<root>/v1.20.2/bin/linux/amd64/kubeadm` and `kubeadm.sha256`) and served by the lab's release server,
 * so HaControlPlane's `release` install downloads and checks them exactly as it would from dl.k8s.io.
 */

/** The Kubernetes release the lab runs. */
export const LAB_KUBERNETES_VERSION = "1.20.2";
/** Every binary the build makes; kubeadm, kubelet and kubectl go to hosts, the rest into images. */
export const KUBERNETES_BINARIES = [
  "kube-apiserver",
  "kube-controller-manager",
  "kube-scheduler",
  "kube-proxy",
  "kubelet",
  "kubeadm",
  "kubectl",
  "pause",
] as const;
export type KubernetesBinary = (typeof KUBERNETES_BINARIES)[number];
/** The binaries a node installs (HaControlPlane's release install). */
export const NODE_BINARIES = ["kubeadm", "kubelet", "kubectl"] as const;

/** The environment variable that names a folder of prebuilt binaries. */
export const BINARIES_ENV = "HAKUBE_KUBERNETES_BINARIES";

/** The lab's Kubernetes binaries: where each uncompressed file is, and its sha256. */
export interface KubernetesBinaries {
  version: string;
  /** The folder the binaries were taken from (xz files). */
  source: string;
  files: Record<KubernetesBinary, { path: string; sha256: string }>;
}

function defaultSource(): string {
  return path.join(cacheDir(), "kubernetes", `v${LAB_KUBERNETES_VERSION}`);
}

/** What a binaries folder lacks (empty when complete): the xz files and their lines in SHA256SUMS. */
export function missingFromSource(dir: string): string[] {
  if (!fs.existsSync(dir)) return [`the folder ${dir} itself`];
  const sums = readSums(dir);
  const missing: string[] = [];
  if (!sums) missing.push(path.join(dir, "SHA256SUMS"));
  for (const b of KUBERNETES_BINARIES) {
    if (!fs.existsSync(path.join(dir, `${b}.xz`))) missing.push(path.join(dir, `${b}.xz`));
    if (sums && !sums[b]) missing.push(`the line for ${b} in ${path.join(dir, "SHA256SUMS")}`);
  }
  return missing;
}

function readSums(dir: string): Record<string, string> | undefined {
  const file = path.join(dir, "SHA256SUMS");
  if (!fs.existsSync(file)) return undefined;
  const sums: Record<string, string> = {};
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    const m = /^([0-9a-f]{64})\s+\*?(\S+)$/.exec(line.trim());
    if (m) sums[m[2]] = m[1];
  }
  return sums;
}

/** Finds (or builds) the binaries folder; never falls back to anything else. */
async function ensureSource(log: Log): Promise<string> {
  const fromEnv = process.env[BINARIES_ENV];
  if (fromEnv) {
    const dir = path.resolve(fromEnv);
    const missing = missingFromSource(dir);
    if (missing.length > 0) {
      throw new Error(
        `${BINARIES_ENV}=${fromEnv} does not hold the Kubernetes ${LAB_KUBERNETES_VERSION} binaries; missing:\n  - ${missing.join("\n  - ")}\n` +
          `Unset ${BINARIES_ENV} to build them from Debian's source with scripts/build-kubernetes.sh (~15 min).`,
      );
    }
    return dir;
  }
  const dir = defaultSource();
  if (missingFromSource(dir).length === 0) return dir;
  fs.mkdirSync(cacheDir(), { recursive: true, mode: 0o700 });
  await withLock(path.join(cacheDir(), "kubernetes-build.lock"), log, async () => {
    if (missingFromSource(dir).length === 0) return;
    log(
      `kubernetes: no prebuilt ${LAB_KUBERNETES_VERSION} binaries (${BINARIES_ENV} is unset and ${dir} is incomplete): ` +
        `building them from Debian's source with scripts/build-kubernetes.sh, about 15 minutes`,
    );
    await run("bash", [path.join(repoRoot, "scripts", "build-kubernetes.sh"), dir], {
      // ~15 min on two idle cores; 55 min was measured on a machine busy with other work.
      timeoutMs: 120 * 60_000,
    });
    const missing = missingFromSource(dir);
    if (missing.length > 0) {
      throw new Error(`scripts/build-kubernetes.sh finished but ${dir} still lacks: ${missing.join(", ")}`);
    }
  });
  return dir;
}

/** The release tree in the cache: `<cache>/release/kubernetes/v1.20.2/bin/linux/amd64/`. */
function releaseBinDir(root: string): string {
  return path.join(root, "kubernetes", `v${LAB_KUBERNETES_VERSION}`, "bin", "linux", "amd64");
}

/**
 * The uncompressed binaries in the cache's release tree, each checked against SHA256SUMS (after
 * decompression, and again whenever the cache is reused: a truncated file is made again).
 */
export async function ensureKubernetesBinaries(log: Log): Promise<KubernetesBinaries> {
  const source = await ensureSource(log);
  const sums = readSums(source)!;
  const dir = releaseBinDir(path.join(cacheDir(), "release"));
  fs.mkdirSync(dir, { recursive: true });
  const files = {} as KubernetesBinaries["files"];
  await withLock(path.join(cacheDir(), "release.lock"), log, async () => {
    for (const b of KUBERNETES_BINARIES) {
      const out = path.join(dir, b);
      if (!fs.existsSync(out) || sha256File(out) !== sums[b]) {
        log(`kubernetes: unpacking ${b} from ${source}`);
        const partial = `${out}.partial`;
        await run("sh", ["-c", 'xz -dc "$1" > "$2"', "sh", path.join(source, `${b}.xz`), partial], {
          timeoutMs: 300_000,
        });
        const got = sha256File(partial);
        if (got !== sums[b]) {
          fs.rmSync(partial, { force: true });
          throw new Error(`${source}/${b}.xz unpacks to sha256 ${got}, SHA256SUMS says ${sums[b]}`);
        }
        fs.chmodSync(partial, 0o755);
        fs.renameSync(partial, out);
      }
      fs.writeFileSync(`${out}.sha256`, `${sums[b]}\n`);
      files[b] = { path: out, sha256: sums[b] };
    }
  });
  return { version: LAB_KUBERNETES_VERSION, source, files };
}

/** Links the binaries into the lab's release folder: `<lab>/release/kubernetes/v1.20.2/bin/linux/amd64/`. */
export function publishKubernetesBinaries(labName: string, binaries: KubernetesBinaries): void {
  const dest = releaseBinDir(path.join(labDir(labName), "release"));
  fs.mkdirSync(dest, { recursive: true });
  for (const b of NODE_BINARIES) {
    for (const f of [b, `${b}.sha256`]) {
      const to = path.join(dest, f);
      fs.rmSync(to, { force: true });
      fs.linkSync(path.join(path.dirname(binaries.files[b].path), f), to);
    }
  }
}

export function sha256File(file: string): string {
  return crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}
