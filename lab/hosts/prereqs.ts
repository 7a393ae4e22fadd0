import * as fs from "fs";
import * as path from "path";
import { cacheDir, labRoot } from "./paths";
import { Log, silent } from "./run";

/** A tool the lab runs, and the Debian package that provides it (named in the error). */
const TOOLS: { cmd: string; pkg: string; why: string }[] = [
  { cmd: "systemd-nspawn", pkg: "systemd-container", why: "runs the hosts" },
  { cmd: "debootstrap", pkg: "debootstrap", why: "builds the Debian root file system" },
  { cmd: "ip", pkg: "iproute2", why: "creates the lab bridge" },
  { cmd: "openssl", pkg: "openssl", why: "used by the components' certificates" },
  { cmd: "ssh-keygen", pkg: "openssh-client", why: "makes the lab and host keys" },
  { cmd: "nsenter", pkg: "util-linux", why: "runs commands inside hosts" },
  { cmd: "mount", pkg: "mount", why: "mounts the host overlays" },
  { cmd: "umount", pkg: "mount", why: "unmounts the host overlays" },
  { cmd: "chroot", pkg: "coreutils", why: "prepares the root file system" },
  { cmd: "dpkg-deb", pkg: "dpkg", why: "indexes the offline packages and unpacks etcd" },
  { cmd: "tar", pkg: "tar", why: "packs the etcd release tarball and the image layers" },
  { cmd: "xz", pkg: "xz-utils", why: "unpacks the Kubernetes binaries" },
  { cmd: "skopeo", pkg: "skopeo", why: "pushes the lab's images into its registry" },
  { cmd: "docker-registry", pkg: "docker-registry", why: "serves the lab's images to the hosts" },
  { cmd: "ldd", pkg: "libc-bin", why: "finds the libraries the lab's images need" },
];

const SEARCH_PATH = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

/** Free space needed when the rootfs cache must still be built (debootstrap ~270 MB + packages + hosts). */
const BYTES_FIRST_RUN = 1.5 * 1024 ** 3;
/** Free space needed once the cache exists: per-host overlays and the etcd data the tests write. */
const BYTES_WITH_CACHE = 300 * 1024 ** 2;

export function findCommand(cmd: string): string | undefined {
  for (const dir of SEARCH_PATH) {
    const p = path.join(dir, cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

/**
 * Checks what the lab needs before it changes anything, so that a missing piece fails in a second with
 * the fix in the message instead of half-way through a build. Does not install anything.
 */
export async function ensurePrerequisites(log: Log = silent): Promise<void> {
  const problems: string[] = [];
  if (process.platform !== "linux") problems.push(`the lab needs Linux, this is ${process.platform}`);
  if (process.getuid?.() !== 0) problems.push("the lab must run as root (namespaces, mounts, bridges)");

  const missing = TOOLS.filter((t) => !findCommand(t.cmd));
  for (const t of missing) problems.push(`${t.cmd} not found (${t.why}): apt-get install ${t.pkg}`);

  if (!fs.readFileSync("/proc/filesystems", "utf8").includes("\toverlay\n")) {
    problems.push("the kernel has no overlayfs (hosts share the cached rootfs through it): modprobe overlay");
  }
  problems.push(...diskProblems());
  if (problems.length > 0) {
    throw new Error(`lab prerequisites missing:\n  - ${problems.join("\n  - ")}`);
  }

  // Not an error: the lab never needs forwarding, and hosts have no default route either way.
  if (fs.readFileSync("/proc/sys/net/ipv4/ip_forward", "utf8").trim() !== "0") {
    log(
      "warning: net.ipv4.ip_forward is 1 on this machine; the lab does not need it (hosts have no route out)",
    );
  }
  log("prerequisites ok");
}

function diskProblems(): string[] {
  const root = labRoot();
  // statfs needs an existing path: walk up to the first folder that exists.
  let probe = root;
  while (!fs.existsSync(probe)) probe = path.dirname(probe);
  const st = fs.statfsSync(probe);
  const free = st.bavail * st.bsize;
  const cached = fs.existsSync(cacheDir()) && fs.readdirSync(cacheDir()).some((f) => f.endsWith(".ready"));
  const need = cached ? BYTES_WITH_CACHE : BYTES_FIRST_RUN;
  if (free >= need) return [];
  const gb = (n: number) => `${(n / 1024 ** 3).toFixed(2)} GB`;
  return [
    `not enough free disk under ${probe}: ${gb(free)} free, the lab needs ~${gb(need)}` +
      (cached ? "" : " (first run builds a ~300 MB Debian rootfs cache plus packages)") +
      `; free some space or set HAKUBE_LAB_ROOT to a bigger disk`,
  ];
}
