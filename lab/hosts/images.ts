import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { KubernetesBinaries, LAB_KUBERNETES_VERSION } from "./kubernetes";
import { cacheDir } from "./paths";
import { pushImages, REGISTRY_NAMESPACE } from "./registry";
import { OFFLINE_REPO } from "./rootfs";
import { elapsed, Log, REPRODUCIBLE_TAR, run, withLock } from "./run";

/**
 * The container images a kubeadm cluster pulls, made by the lab from the Kubernetes binaries it has and
 * from Debian packages (no image registry is reachable here): one uncompressed layer each, in OCI layout,
 * pushed once into the registry storage every lab's registry serves (lab/hosts/registry.ts).
 *
 * | image                                   | content                                                          |
 * | --------------------------------------- | ---------------------------------------------------------------- |
 * | pause:3.2                               | the static pause binary built with Kubernetes                    |
 * | kube-apiserver, -controller-manager, -scheduler :v1.20.2 | the static binary in /usr/local/bin           |
 * | kube-proxy:v1.20.2                      | kube-proxy, iptables (nft backend, as the hosts use) and conntrack with their libraries |
 * | etcd:3.4.13-0                           | Debian's etcd 3.4.23 and etcdctl with their libraries, under the tag kubeadm 1.20 asks for (stacked etcd) |
 * | hakube-lab/echo:1                       | busybox (Debian's busybox-static): the tests' workload, an HTTP server that answers its pod name |
 *
 * There is no CoreDNS image: CoreDNS is not packaged by Debian. kubeadm's CoreDNS Deployment cannot pull
 * its image in the lab (the lab scales it to zero and says so).
 */

/** Bump when a recipe below changes, so that the images are made again. */
const IMAGE_RECIPE_REVISION = 1;
/** The tag kubeadm 1.20 asks for its stacked etcd (kubeadm's constants.DefaultEtcdVersion for 1.20). */
export const LAB_ETCD_IMAGE_TAG = "3.4.13-0";
/** kubeadm 1.20's pause tag (versions.ts has the same per minor). */
export const LAB_PAUSE_TAG = "3.2";
/** The tests' workload image, under REGISTRY_NAMESPACE. */
export const ECHO_IMAGE = { name: "hakube-lab/echo", tag: "1" };

const PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

interface Recipe {
  name: string;
  tag: string;
  /** Fills the (empty) root of the image. */
  fill(root: string): Promise<void>;
  entrypoint?: string[];
  cmd?: string[];
}

/** What the images are made from. */
export interface ImageSources {
  binaries: KubernetesBinaries;
  /** The cached rootfs, whose offline repository holds the Debian packages. */
  rootfs: string;
  /** The etcd release tarball the lab serves (for the stacked etcd image). */
  etcdTarball: string;
}

function recipes(src: ImageSources, scratch: string): Recipe[] {
  const bin = (b: keyof KubernetesBinaries["files"]) => src.binaries.files[b].path;
  const v = `v${LAB_KUBERNETES_VERSION}`;
  const control = (name: "kube-apiserver" | "kube-controller-manager" | "kube-scheduler"): Recipe => ({
    name,
    tag: v,
    fill: async (root) => copyInto(root, bin(name), `/usr/local/bin/${name}`),
  });
  return [
    {
      name: "pause",
      tag: LAB_PAUSE_TAG,
      fill: async (root) => copyInto(root, bin("pause"), "/pause"),
      entrypoint: ["/pause"],
    },
    control("kube-apiserver"),
    control("kube-controller-manager"),
    control("kube-scheduler"),
    {
      name: "kube-proxy",
      tag: v,
      fill: async (root) => {
        copyInto(root, bin("kube-proxy"), "/usr/local/bin/kube-proxy");
        const debs = await unpackDebs(src.rootfs, scratch, ["iptables", "conntrack", "lib"]);
        const multi = "/usr/sbin/xtables-nft-multi";
        const elves = [multi, "/usr/sbin/conntrack"];
        for (const e of elves) copyInto(root, path.join(debs, e), e);
        // iptables' extensions are loaded at run time: all of them, with their libraries.
        const ext = "/usr/lib/x86_64-linux-gnu/xtables";
        for (const f of fs.readdirSync(path.join(debs, ext))) {
          copyInto(root, path.join(debs, ext, f), path.join(ext, f));
          elves.push(path.join(ext, f));
        }
        for (const name of [
          "iptables",
          "iptables-save",
          "iptables-restore",
          "ip6tables",
          "ip6tables-save",
          "ip6tables-restore",
        ]) {
          fs.symlinkSync("xtables-nft-multi", path.join(root, "usr/sbin", name));
        }
        await copyLibraries(
          root,
          elves.map((e) => path.join(root, e)),
          [debs],
        );
      },
    },
    {
      name: "etcd",
      tag: LAB_ETCD_IMAGE_TAG,
      fill: async (root) => {
        const x = path.join(scratch, "etcd");
        fs.mkdirSync(x, { recursive: true });
        await run("tar", ["-xzf", src.etcdTarball, "-C", x, "--strip-components=1"]);
        for (const b of ["etcd", "etcdctl"]) copyInto(root, path.join(x, b), `/usr/local/bin/${b}`);
        await copyLibraries(
          root,
          [path.join(root, "usr/local/bin/etcd"), path.join(root, "usr/local/bin/etcdctl")],
          [],
        );
        fs.mkdirSync(path.join(root, "var/lib/etcd"), { recursive: true });
      },
    },
    {
      name: ECHO_IMAGE.name,
      tag: ECHO_IMAGE.tag,
      fill: async (root) => {
        const debs = await unpackDebs(src.rootfs, scratch, ["busybox-static"]);
        copyInto(root, path.join(debs, "bin/busybox"), "/bin/busybox");
        for (const name of ["sh", "httpd", "hostname", "cat", "echo", "sleep"]) {
          fs.symlinkSync("busybox", path.join(root, "bin", name));
        }
        fs.mkdirSync(path.join(root, "tmp"), { mode: 0o1777 });
      },
      // Answers every request with the pod's name: the tests see which pod a Service reached.
      cmd: ["/bin/sh", "-c", "mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www"],
    },
  ];
}

/** Copies a file to `root` + `dest`, creating folders, keeping it executable. */
function copyInto(root: string, from: string, dest: string): void {
  const to = path.join(root, dest);
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.copyFileSync(from, to);
  fs.chmodSync(to, fs.statSync(from).mode & 0o777);
}

/** Unpacks the offline repository's .debs whose names start with one of `prefixes` into one folder. */
async function unpackDebs(rootfs: string, scratch: string, prefixes: string[]): Promise<string> {
  const repo = path.join(rootfs, OFFLINE_REPO);
  const out = path.join(scratch, `debs-${prefixes.join("-")}`);
  if (fs.existsSync(out)) return out;
  fs.mkdirSync(out, { recursive: true });
  for (const deb of fs.readdirSync(repo).filter((f) => f.endsWith(".deb"))) {
    if (prefixes.some((p) => deb.startsWith(p))) await run("dpkg-deb", ["-x", path.join(repo, deb), out]);
  }
  return out;
}

/**
 * Copies the shared libraries (and the program interpreter) the ELF files need into the image, at the
 * paths the dynamic loader looks for them. Libraries are looked up in `libRoots` (unpacked packages) first,
 * then on this machine (Debian 12, as the hosts): ldd resolves them.
 */
async function copyLibraries(root: string, elves: string[], libRoots: string[]): Promise<void> {
  const libDirs = libRoots.flatMap((r) =>
    ["usr/lib/x86_64-linux-gnu", "lib/x86_64-linux-gnu"]
      .map((d) => path.join(r, d))
      .filter((d) => fs.existsSync(d)),
  );
  const env = { PATH: "/usr/bin:/bin", LD_LIBRARY_PATH: libDirs.join(":") };
  for (const elf of elves) {
    const r = await run("ldd", [elf], { env, allowFail: true });
    if (/not a dynamic executable|statically linked/.test(r.stdout + r.stderr)) continue;
    if (r.code !== 0) throw new Error(`ldd ${elf} failed: ${r.stderr.trim()}`);
    for (const line of r.stdout.split("\n")) {
      if (line.includes("not found"))
        throw new Error(`${elf} needs a library the lab has not got: ${line.trim()}`);
      // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or "/lib64/ld-linux-x86-64.so.2 (0x...)"
      const m = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
      if (!m) continue;
      const found = m[1];
      const inPackage = libRoots.find((r) => found.startsWith(r + "/"));
      const dest = inPackage ? found.slice(inPackage.length) : found;
      if (!fs.existsSync(path.join(root, dest))) copyInto(root, fs.realpathSync(found), dest);
    }
  }
}

/** Packs a folder as a one-layer OCI image layout (uncompressed layer: no gzip on 2 cores). */
async function ociLayout(root: string, recipe: Recipe, out: string): Promise<void> {
  fs.mkdirSync(path.join(out, "blobs", "sha256"), { recursive: true });
  const layer = path.join(out, "layer.tar");
  await run("tar", [...REPRODUCIBLE_TAR, "-C", root, "-cf", layer, "."]);
  const blob = (data: Buffer) => {
    const digest = crypto.createHash("sha256").update(data).digest("hex");
    fs.writeFileSync(path.join(out, "blobs", "sha256", digest), data);
    return { digest: `sha256:${digest}`, size: data.length };
  };
  const layerBlob = blob(fs.readFileSync(layer));
  fs.rmSync(layer);
  const config = blob(
    Buffer.from(
      JSON.stringify({
        architecture: "amd64",
        os: "linux",
        created: "1970-01-01T00:00:00Z",
        config: { Env: [PATH_ENV], Entrypoint: recipe.entrypoint, Cmd: recipe.cmd },
        rootfs: { type: "layers", diff_ids: [layerBlob.digest] },
        history: [{ created: "1970-01-01T00:00:00Z", created_by: "hakube lab (lab/hosts/images.ts)" }],
      }),
    ),
  );
  const manifest = blob(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config },
        layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", ...layerBlob }],
      }),
    ),
  );
  fs.writeFileSync(path.join(out, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  fs.writeFileSync(
    path.join(out, "index.json"),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          ...manifest,
          annotations: { "org.opencontainers.image.ref.name": recipe.tag },
        },
      ],
    }),
  );
}

function recipeHash(src: ImageSources): string {
  const sums = Object.values(src.binaries.files).map((f) => f.sha256);
  const input = JSON.stringify({ IMAGE_RECIPE_REVISION, sums, rootfs: src.rootfs, etcd: src.etcdTarball });
  return crypto.createHash("sha256").update(input).digest("hex").slice(0, 12);
}

/**
 * Makes the images and pushes them into the shared registry storage, once per recipe (a marker file
 * remembers it). Returns the references pushed.
 */
export async function ensureLabImages(src: ImageSources, log: Log): Promise<string[]> {
  const dir = path.join(cacheDir(), "registry");
  const marker = path.join(dir, `images-${recipeHash(src)}.done`);
  if (fs.existsSync(marker)) return JSON.parse(fs.readFileSync(marker, "utf8")) as string[];
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  return withLock(path.join(dir, "images.lock"), log, async () => {
    if (fs.existsSync(marker)) return JSON.parse(fs.readFileSync(marker, "utf8")) as string[];
    const t0 = Date.now();
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "hakube-lab-images-"));
    try {
      const layouts: Array<{ layout: string; ref: string }> = [];
      for (const recipe of recipes(src, scratch)) {
        const root = path.join(scratch, "roots", recipe.name);
        fs.mkdirSync(root, { recursive: true });
        await recipe.fill(root);
        const layout = path.join(scratch, "layouts", recipe.name);
        await ociLayout(root, recipe, layout);
        layouts.push({
          layout: `${layout}:${recipe.tag}`,
          ref: `${REGISTRY_NAMESPACE}/${recipe.name}:${recipe.tag}`,
        });
        log(`images: made ${recipe.name}:${recipe.tag}`);
      }
      await pushImages(layouts, log);
      const refs = layouts.map((l) => l.ref);
      fs.writeFileSync(marker, JSON.stringify(refs) + "\n");
      log(`images: ${refs.length} images in the lab registry's storage after ${elapsed(t0)}`);
      return refs;
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  });
}
