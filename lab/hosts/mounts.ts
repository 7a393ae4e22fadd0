import * as fs from "fs";
import * as path from "path";
import { run, sleep } from "./run";

/** Mount points of this machine's mount namespace (from /proc/self/mountinfo, octal escapes decoded). */
export function mountPoints(): string[] {
  return fs
    .readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .filter((l) => l.length > 0)
    .map((l) =>
      l.split(" ")[4].replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))),
    );
}

function isUnder(p: string, dir: string): boolean {
  return p === dir || p.startsWith(dir.endsWith("/") ? dir : `${dir}/`);
}

/** Mount points at or under `dir`, deepest first (the order to unmount them in). */
export function mountsUnder(dir: string): string[] {
  const root = path.resolve(dir);
  return mountPoints()
    .filter((m) => isUnder(m, root))
    .sort((a, b) => b.length - a.length);
}

export function isMounted(dir: string): boolean {
  return mountPoints().includes(path.resolve(dir));
}

/**
 * Unmounts everything at or under `dir`. A mount can stay busy for a moment after the processes using it
 * were killed, so it retries, then falls back to a lazy unmount (detached now, freed when unused).
 */
export async function unmountAll(dir: string): Promise<void> {
  for (const m of mountsUnder(dir)) {
    let done = false;
    for (let i = 0; i < 20 && !done; i++) {
      done = (await run("umount", [m], { allowFail: true })).code === 0 || !isMounted(m);
      if (!done) await sleep(100);
    }
    if (!done) await run("umount", ["-l", m]);
  }
}

/**
 * `rm -rf` that refuses to run while anything is mounted below the folder: deleting through a live
 * overlay or a /proc or /sys bind would delete the wrong things.
 */
export async function removeTree(dir: string): Promise<void> {
  await unmountAll(dir);
  const left = mountsUnder(dir);
  if (left.length > 0) throw new Error(`not removing ${dir}: still mounted: ${left.join(", ")}`);
  fs.rmSync(dir, { recursive: true, force: true });
}
