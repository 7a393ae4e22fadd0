import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { removeTree } from "./mounts";
import { cacheDir } from "./paths";
import { RELEASE_OS_PACKAGES } from "../../components/controlplane/defaults";
import { cleanEnv, elapsed, Log, run, withLock } from "./run";

/**
 * The Debian root file system every lab host boots from (read-only lower layer of each host's overlay),
 * built once with debootstrap and cached in `.lab/cache/`.
 *
 * Hosts have no route out, so the packages the components install (etcd, keepalived, haproxy) must be
 * installable offline. They are downloaded at build time (not installed: installing them is the
 * components' job) into a small flat apt repository inside the rootfs, which becomes the only apt source:
 * `apt-get update` and `apt-get install` then work in a host without ever reaching for the network.
 */

const SUITE = "bookworm";
const BASE_PACKAGES = [
  "systemd",
  "systemd-sysv",
  "dbus",
  "iproute2",
  "openssh-server",
  "iputils-ping",
  "procps",
  "curl",
  "ca-certificates",
];
/**
 * Downloaded with their dependencies into the offline repository, not installed: what the components
 * install on hosts (etcd, keepalived, haproxy; for Kubernetes nodes containerd, runc, the CNI plugins and
 * kubeadm's helpers), and what the lab builds its container images from (iptables and conntrack for
 * kube-proxy, busybox for the test workload).
 */
export const OFFLINE_PACKAGES = [
  "etcd-server",
  "etcd-client",
  "keepalived",
  "haproxy",
  ...RELEASE_OS_PACKAGES,
  "busybox-static",
];
/** Bump when the build steps change: a new recipe builds a new cache folder next to the old one. */
const RECIPE_REVISION = 4;

/** Inside the rootfs: the offline repository (a flat repo: .debs, Packages, Release). */
export const OFFLINE_REPO = "/var/lib/hakube-lab/apt";
const DEBIAN_KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg";

function recipeId(): string {
  const recipe = JSON.stringify({ SUITE, BASE_PACKAGES, OFFLINE_PACKAGES, RECIPE_REVISION });
  return crypto.createHash("sha256").update(recipe).digest("hex").slice(0, 10);
}

/** The cached rootfs folder for the current recipe (it may not be built yet). */
export function rootfsPath(): string {
  return path.join(cacheDir(), `rootfs-${SUITE}-${recipeId()}`);
}

/** Written next to the rootfs once it is complete: a folder without it is a crashed build. */
function readyMarker(rootfs: string): string {
  return `${rootfs}.ready`;
}

export function rootfsReady(rootfs = rootfsPath()): boolean {
  return fs.existsSync(readyMarker(rootfs));
}

/** Returns the cached rootfs, building it first if needed (one builder at a time across processes). */
export async function ensureRootfs(log: Log): Promise<string> {
  const rootfs = rootfsPath();
  if (rootfsReady(rootfs)) return rootfs;
  fs.mkdirSync(cacheDir(), { recursive: true, mode: 0o700 });
  return withLock(path.join(cacheDir(), "rootfs.lock"), log, async () => {
    if (!rootfsReady(rootfs)) {
      await buildRootfs(rootfs, log); // unless another process built it meanwhile
      await pruneOldRootfs(rootfs, log);
    }
    return rootfs;
  });
}

async function buildRootfs(rootfs: string, log: Log): Promise<void> {
  const started = Date.now();
  const tmp = `${rootfs}.tmp`;
  await removeTree(tmp); // left by a crashed build
  const sources = debianSources();
  const mirror = sources.find((s) => s.suites.includes(SUITE))?.uri;
  if (!mirror) {
    throw new Error(`no Debian ${SUITE} mirror in /etc/apt/sources.list(.d): the rootfs build needs one`);
  }
  try {
    log(`rootfs: debootstrap ${SUITE} from ${mirror} into ${tmp} (takes ~40 s)`);
    await run(
      "debootstrap",
      ["--variant=minbase", `--include=${BASE_PACKAGES.join(",")}`, SUITE, tmp, mirror],
      { timeoutMs: 900_000 },
    );
    log(`rootfs: debootstrap done after ${elapsed(started)}`);
    await downloadOfflinePackages(tmp, sources, log);
    log(`rootfs: packages downloaded after ${elapsed(started)}`);
    await makeOfflineRepo(tmp);
    await fixRootfs(tmp);
    fs.renameSync(tmp, rootfs);
    fs.writeFileSync(
      readyMarker(rootfs),
      JSON.stringify({ builtAt: new Date().toISOString(), mirror }) + "\n",
    );
    log(`rootfs: ready in ${rootfs} after ${elapsed(started)}`);
  } catch (e) {
    await removeTree(tmp);
    throw e;
  }
}

/**
 * Deletes rootfs folders of older recipes that no lab uses any more (no state file names it and no
 * overlay has it as lower layer): each is ~300 MB.
 */
async function pruneOldRootfs(current: string, log: Log): Promise<void> {
  const inUse = new Set([...labRootfsReferences(), ...overlayLowerDirs()]);
  for (const entry of fs.readdirSync(cacheDir())) {
    const m = /^(rootfs-[^.]+)(\.ready|\.tmp)?$/.exec(entry);
    const dir = m && path.join(cacheDir(), m[1]);
    if (!dir || dir === current || inUse.has(dir)) continue;
    log(`rootfs: removing unused ${path.join(cacheDir(), entry)}`);
    if (m[2] === ".ready") fs.rmSync(path.join(cacheDir(), entry), { force: true });
    else await removeTree(path.join(cacheDir(), entry));
  }
}

/** The rootfs named by every lab state file under the lab root. */
function labRootfsReferences(): string[] {
  const root = path.dirname(cacheDir());
  return fs.readdirSync(root).flatMap((name) => {
    try {
      const state = JSON.parse(fs.readFileSync(path.join(root, name, "state.json"), "utf8")) as {
        rootfs?: string;
      };
      return state.rootfs ? [state.rootfs] : [];
    } catch {
      return [];
    }
  });
}

/** lowerdir= of every overlay mounted on this machine. */
function overlayLowerDirs(): string[] {
  return fs
    .readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .flatMap((line) => /[ ,]lowerdir=([^,]+)/.exec(line)?.[1].split(":") ?? []);
}

// --- apt sources of this machine ------------------------------------------------------------------

interface AptSource {
  uri: string;
  suites: string[];
  components: string[];
}

/**
 * The Debian entries (suite bookworm, bookworm-updates, bookworm-security) of this machine's apt
 * sources, in both the one-line and the deb822 formats. The rootfs downloads from the same mirrors as
 * the machine, so it gets the same package versions and needs no other address.
 */
export function debianSources(): AptSource[] {
  const dir = "/etc/apt/sources.list.d";
  const files = ["/etc/apt/sources.list"];
  if (fs.existsSync(dir)) files.push(...fs.readdirSync(dir).map((f) => path.join(dir, f)));
  const found: AptSource[] = [];
  for (const file of files) {
    if (!fs.existsSync(file)) continue;
    const text = fs.readFileSync(file, "utf8");
    if (file.endsWith(".sources")) found.push(...parseDeb822(text));
    else if (file.endsWith(".list")) found.push(...parseOneLine(text));
  }
  return found
    .map((s) => ({ ...s, suites: s.suites.filter((x) => x === SUITE || x.startsWith(`${SUITE}-`)) }))
    .filter((s) => s.suites.length > 0 && /^https?:\/\//.test(s.uri));
}

function parseOneLine(text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const raw of text.split("\n")) {
    const line = raw
      .replace(/#.*/, "")
      .replace(/\[[^\]]*\]/, "")
      .trim();
    const [type, uri, suite, ...components] = line.split(/\s+/);
    if (type === "deb" && uri && suite) out.push({ uri, suites: [suite], components });
  }
  return out;
}

function parseDeb822(text: string): AptSource[] {
  const out: AptSource[] = [];
  const stanzas = text
    .split("\n")
    .filter((l) => !l.startsWith("#"))
    .join("\n")
    .split(/\n\s*\n/);
  for (const stanza of stanzas) {
    const fields = new Map<string, string>();
    for (const m of stanza.matchAll(/^([A-Za-z-]+):\s*(.*)$/gm)) fields.set(m[1].toLowerCase(), m[2].trim());
    const words = (k: string) => (fields.get(k) ?? "").split(/\s+/).filter(Boolean);
    if (!words("types").includes("deb") || fields.get("enabled") === "no") continue;
    for (const uri of words("uris"))
      out.push({ uri, suites: words("suites"), components: words("components") });
  }
  return out;
}

// --- offline packages -----------------------------------------------------------------------------

function chroot(rootfs: string, args: string[], timeoutMs = 600_000) {
  return run("chroot", [rootfs, ...args], {
    env: cleanEnv({ DEBIAN_FRONTEND: "noninteractive" }),
    timeoutMs,
  });
}

function writeSources(rootfs: string, stanzas: string[]): void {
  fs.rmSync(path.join(rootfs, "etc/apt/sources.list"), { force: true });
  const dir = path.join(rootfs, "etc/apt/sources.list.d");
  for (const f of fs.readdirSync(dir)) fs.rmSync(path.join(dir, f), { force: true });
  fs.writeFileSync(path.join(dir, "debian.sources"), stanzas.join("\n"));
}

/**
 * Lets apt inside the new rootfs compute and download what OFFLINE_PACKAGES need beyond what is already
 * installed, from the machine's Debian mirrors (the chroot shares this machine's network; this is the
 * only moment the rootfs talks to a mirror). Recommends are included so that either install style works.
 */
async function downloadOfflinePackages(rootfs: string, sources: AptSource[], log: Log): Promise<void> {
  writeSources(
    rootfs,
    sources.map(
      (s) =>
        `Types: deb\nURIs: ${s.uri}\nSuites: ${s.suites.join(" ")}\n` +
        `Components: ${s.components.join(" ") || "main"}\nSigned-By: ${DEBIAN_KEYRING}\n`,
    ),
  );
  log(`rootfs: apt-get update + download ${OFFLINE_PACKAGES.join(" ")} (with dependencies)`);
  await chroot(rootfs, ["apt-get", "-q", "update"]);
  // debootstrap leaves the base system's .debs in the archive folder: only the missing ones are wanted.
  await chroot(rootfs, ["apt-get", "clean"]);
  await chroot(rootfs, ["apt-get", "-q", "-y", "install", "--download-only", ...OFFLINE_PACKAGES]);
}

/**
 * Moves the downloaded .debs into a flat repository with a Packages index, and makes it the rootfs's
 * only apt source (trusted: it was filled from the signed mirror a moment ago). The .debs are also
 * hard-linked into /var/cache/apt/archives so that `apt-get install --no-download` finds them too.
 */
async function makeOfflineRepo(rootfs: string): Promise<void> {
  const archives = path.join(rootfs, "var/cache/apt/archives");
  const repo = path.join(rootfs, OFFLINE_REPO);
  fs.mkdirSync(repo, { recursive: true });
  const debs = fs.readdirSync(archives).filter((f) => f.endsWith(".deb"));
  if (!debs.some((d) => d.startsWith("etcd-server_"))) {
    throw new Error(`rootfs: apt downloaded no etcd-server package into ${archives}`);
  }
  const stanzas: string[] = [];
  for (const deb of debs.sort()) {
    fs.renameSync(path.join(archives, deb), path.join(repo, deb));
    fs.linkSync(path.join(repo, deb), path.join(archives, deb));
    stanzas.push(await packagesStanza(path.join(repo, deb)));
  }
  const packages = stanzas.join("\n");
  fs.writeFileSync(path.join(repo, "Packages"), packages);
  fs.writeFileSync(path.join(repo, "Release"), releaseFile(packages));
  writeSources(rootfs, [`Types: deb\nURIs: file:${OFFLINE_REPO}\nSuites: ./\nTrusted: yes\n`]);
  // Offline now: indexes the flat repo and drops the mirror's lists, so apt has nothing to fetch remotely.
  await chroot(rootfs, ["apt-get", "-q", "update"]);
}

async function packagesStanza(debPath: string): Promise<string> {
  const control = (await run("dpkg-deb", ["-f", debPath])).stdout.trimEnd();
  const data = fs.readFileSync(debPath);
  const sha256 = crypto.createHash("sha256").update(data).digest("hex");
  return `${control}\nFilename: ./${path.basename(debPath)}\nSize: ${data.length}\nSHA256: ${sha256}\n`;
}

function releaseFile(packages: string): string {
  const sha256 = crypto.createHash("sha256").update(packages).digest("hex");
  return [
    "Origin: hakube-lab",
    "Label: hakube-lab offline packages",
    `Date: ${new Date().toUTCString()}`,
    "SHA256:",
    ` ${sha256} ${Buffer.byteLength(packages)} Packages`,
    "",
  ].join("\n");
}

// --- fixes ----------------------------------------------------------------------------------------

function write(rootfs: string, file: string, content: string, mode = 0o644): void {
  const p = path.join(rootfs, file);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.rmSync(p, { force: true }); // may be a symlink into the machine's files (resolv.conf)
  fs.writeFileSync(p, content, { mode });
}

/**
 * Makes the debootstrap output fit to be cloned: what must differ per host (host keys, machine id,
 * hostname, address) is removed here and written into each host's overlay at creation.
 */
async function fixRootfs(rootfs: string): Promise<void> {
  // etcd's postinst resolves localhost; debootstrap leaves no /etc/hosts.
  write(rootfs, "etc/hosts", "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
  // debootstrap copied this machine's resolver; hosts have no DNS (names come from /etc/hosts).
  write(rootfs, "etc/resolv.conf", "# hakube lab: no DNS server, names are in /etc/hosts\n");
  write(rootfs, "etc/hostname", "localhost\n");
  // Shared identities: every clone would have the same host keys and machine id.
  for (const f of fs.readdirSync(path.join(rootfs, "etc/ssh"))) {
    if (f.startsWith("ssh_host_")) fs.rmSync(path.join(rootfs, "etc/ssh", f));
  }
  write(rootfs, "etc/machine-id", "");
  fs.rmSync(path.join(rootfs, "var/lib/dbus/machine-id"), { force: true });
  fs.symlinkSync("/etc/machine-id", path.join(rootfs, "var/lib/dbus/machine-id"));
  // One host key type only, so that every client (ssh2, Go's x/crypto) is offered the pinned key.
  write(
    rootfs,
    "etc/ssh/sshd_config.d/hakube-lab.conf",
    "HostKey /etc/ssh/ssh_host_ed25519_key\nPermitRootLogin prohibit-password\nPasswordAuthentication no\nUseDNS no\n",
  );
  write(rootfs, "etc/tmpfiles.d/hakube-sshd.conf", "d /run/sshd 0755 root root -\n");
  // It turns the kernel command line into network units; in a host that is this machine's command
  // line, which must never configure (say, DHCP via ip=) a lab host's interface.
  fs.symlinkSync("/dev/null", path.join(rootfs, "etc/systemd/system/systemd-network-generator.service"));
  // Services must start in hosts (package postinsts start them under the host's systemd).
  fs.rmSync(path.join(rootfs, "usr/sbin/policy-rc.d"), { force: true });
  // The static address is a networkd file written per host.
  await chroot(rootfs, ["systemctl", "enable", "systemd-networkd"]);
}
