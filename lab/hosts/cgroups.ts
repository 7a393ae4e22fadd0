import * as fs from "fs";
import * as path from "path";

/**
 * One cgroup per host, in every cgroup hierarchy of this machine. With --keep-unit, nspawn splits the
 * cgroup it was started in into "supervisor" (itself) and "payload" (the host's systemd). Started from the
 * same cgroup, all hosts would share one "payload", and their systemds would create and delete each
 * other's unit cgroups (payload/system.slice/<unit>): units then fail at random with "status=219/CGROUP".
 * The v1 resource controllers (cpu, memory, pids, cpuset, ...) matter once a host runs a kubelet: each host
 * gets its own cgroup namespace rooted where nspawn started, so a kubelet's "/kubepods" is the host's own
 * only if nspawn started in a cgroup of its own in those hierarchies too. So each nspawn is started inside
 * `hakube-lab/<machine>` in every hierarchy: cgroup2 (unified), v1 "name=systemd" and every v1 controller.
 */

const PARENT = "hakube-lab";

/** A mounted cgroup hierarchy: its mount point and, for v1, its controllers. */
interface Hierarchy {
  mountPoint: string;
  /** v1 super options ("cpu", "memory", "name=systemd"); empty for cgroup2. */
  options: string[];
}

function hierarchies(): Hierarchy[] {
  const found: Hierarchy[] = [];
  for (const line of fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const [left, right] = line.split(" - ");
    if (!left || !right) continue;
    const mountPoint = left.split(" ")[4];
    const [fsType, , superOptions = ""] = right.split(" ");
    if (fsType === "cgroup2") found.push({ mountPoint, options: [] });
    else if (fsType === "cgroup") found.push({ mountPoint, options: superOptions.split(",") });
  }
  return found;
}

/** Mount points of the hierarchies systemd tracks units in: cgroup2 (unified) and v1 "name=systemd". */
export function systemdCgroupRoots(): string[] {
  return hierarchies()
    .filter((h) => h.options.length === 0 || h.options.includes("name=systemd"))
    .map((h) => h.mountPoint);
}

/** Mount points of every cgroup hierarchy (v1 controllers, name=systemd, cgroup2). */
export function allCgroupRoots(): string[] {
  return hierarchies().map((h) => h.mountPoint);
}

/** The host's cgroup folders (one per hierarchy); they may not exist. */
export function hostCgroups(machine: string): string[] {
  return allCgroupRoots().map((root) => path.join(root, PARENT, machine));
}

/**
 * A new cpuset cgroup has no CPUs and no memory nodes, and no process can join it: copy the parent's.
 * (cgroup.clone_children would do it for every child, but is a setting of the parent we do not own.)
 */
function inheritCpuset(dir: string): void {
  for (const file of ["cpuset.cpus", "cpuset.mems"]) {
    const own = path.join(dir, file);
    if (!fs.existsSync(own) || fs.readFileSync(own, "utf8").trim() !== "") continue;
    fs.writeFileSync(own, fs.readFileSync(path.join(path.dirname(dir), file), "utf8").trim());
  }
}

/** Creates the host's cgroups (after removing stale empty ones) and returns their folders. */
export function createHostCgroups(machine: string): string[] {
  const dirs = hostCgroups(machine);
  for (const dir of dirs) {
    removeCgroupTree(dir);
    fs.mkdirSync(dir, { recursive: true });
    inheritCpuset(path.dirname(dir));
    inheritCpuset(dir);
  }
  return dirs;
}

/**
 * Removes a cgroup and its children, deepest first (cgroups are removed with rmdir, never by deleting
 * their files). Fails with EBUSY if a process still lives in one: callers stop the host first.
 */
export function removeCgroupTree(dir: string): void {
  if (!fs.existsSync(dir)) return;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) removeCgroupTree(path.join(dir, entry.name));
  }
  fs.rmdirSync(dir);
}

/** Removes the host's cgroups, and the shared parent when no other host uses it any more. */
export function removeHostCgroups(machine: string): void {
  for (const dir of hostCgroups(machine)) {
    removeCgroupTree(dir);
    try {
      fs.rmdirSync(path.dirname(dir));
    } catch {
      // other hosts still use it (EBUSY / ENOTEMPTY), or it is gone
    }
  }
}
