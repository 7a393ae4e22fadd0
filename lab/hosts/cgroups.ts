import * as fs from "fs";
import * as path from "path";

/**
 * One cgroup per host. With --keep-unit, nspawn splits the cgroup it was started in into "supervisor"
 * (itself) and "payload" (the host's systemd). Started from the same cgroup, all hosts would share one
 * "payload", and their systemds would create and delete each other's unit cgroups
 * (payload/system.slice/<unit>): units then fail at random with "status=219/CGROUP". So each nspawn
 * is started inside its own cgroup, `hakube-lab/<machine>`, in the hierarchies systemd uses.
 */

const PARENT = "hakube-lab";

/** Mount points of the hierarchies systemd tracks units in: cgroup2 (unified) and v1 "name=systemd". */
export function systemdCgroupRoots(): string[] {
  const roots: string[] = [];
  for (const line of fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const [left, right] = line.split(" - ");
    if (!left || !right) continue;
    const mountPoint = left.split(" ")[4];
    const [fsType, , superOptions = ""] = right.split(" ");
    if (fsType === "cgroup2" || (fsType === "cgroup" && superOptions.split(",").includes("name=systemd"))) {
      roots.push(mountPoint);
    }
  }
  return roots;
}

/** The host's cgroup folders (one per hierarchy); they may not exist. */
export function hostCgroups(machine: string): string[] {
  return systemdCgroupRoots().map((root) => path.join(root, PARENT, machine));
}

/** Creates the host's cgroups (after removing stale empty ones) and returns their folders. */
export function createHostCgroups(machine: string): string[] {
  const dirs = hostCgroups(machine);
  for (const dir of dirs) {
    removeCgroupTree(dir);
    fs.mkdirSync(dir, { recursive: true });
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
