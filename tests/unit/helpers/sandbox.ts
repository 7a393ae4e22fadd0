/**
 * Run host scripts for real without touching this machine: fresh network and mount namespaces (unshare),
 * a temporary root whose directories are bind-mounted over the system ones, and a fake systemctl that
 * logs what it is asked and keeps a "running" flag. Needs root, unshare and the tools named by the caller.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { ShResult, tempDir } from "./sh";

/** True if `cmd` is on PATH. */
export function which(cmd: string): boolean {
  return spawnSync("/bin/sh", ["-c", `command -v ${cmd}`]).status === 0;
}

/** True if this process may run {@link inNamespaces}: root, unshare, the tools named, and a test unshare. */
export function canUseNamespaces(...tools: string[]): boolean {
  return (
    process.getuid?.() === 0 &&
    which("unshare") &&
    tools.every(which) &&
    spawnSync("unshare", ["--net", "--mount", "true"]).status === 0
  );
}

/** Run `script` in fresh network and mount namespaces after `setup` (mounts, links); stdout+stderr+rc. */
export function inNamespaces(setup: string, script: string, stdin = ""): ShResult {
  const r = spawnSync(
    "unshare",
    ["--net", "--mount", "/bin/sh", "-c", `set -e\nmount --make-rprivate /\n${setup}\nset +e\n${script}`],
    {
      input: stdin,
      encoding: "utf8",
      timeout: 20000,
    },
  );
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** The fake systemctl: logs every call, start/restart mark the unit active, disable clears it. */
function fakeSystemctl(d: (p: string) => string): string {
  return `#!/bin/sh
echo "$*" >> ${d("shim/systemctl.log")}
case "$1" in
  is-active) [ -f ${d("shim/active")} ] ;;
  start|restart) touch ${d("shim/active")} ;;
  reload) [ -f ${d("shim/active")} ] ;;
  disable) rm -f ${d("shim/active")} ;;
  *) exit 0 ;;
esac
`;
}

export interface Sandbox {
  /** The current test's root. */
  root(): string;
  /** A path inside the current test's root. */
  d(p: string): string;
  /** The fake systemctl's calls so far, one per line. */
  systemctl(): string[];
  /**
   * Write `script` to the root and run it with the fake systemctl first on PATH, in fresh namespaces after
   * `setup`; prints "rc=N" with its exit code, then runs `after`.
   */
  run(setup: string, script: string, stdin?: string, after?: string): ShResult;
}

/**
 * A fresh sandbox root for each test of the calling describe block (made in beforeEach, removed in
 * afterEach): `dirs` (to bind-mount), bin/ with the fake systemctl, shim/ with its log.
 */
export function useSandbox(prefix: string, dirs: readonly string[]): Sandbox {
  let root = "";
  const d = (p: string) => path.join(root, p);
  beforeEach(() => {
    root = tempDir(prefix);
    fs.chmodSync(root, 0o755);
    for (const sub of [...dirs, "bin", "shim"]) fs.mkdirSync(d(sub), { mode: 0o755 });
    fs.writeFileSync(d("shim/systemctl.log"), "");
    fs.writeFileSync(d("bin/systemctl"), fakeSystemctl(d), { mode: 0o755 });
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));
  return {
    root: () => root,
    d,
    systemctl: () => fs.readFileSync(d("shim/systemctl.log"), "utf8").split("\n").filter(Boolean),
    run(setup, script, stdin = "", after = "") {
      fs.writeFileSync(d("script.sh"), script);
      return inNamespaces(
        setup,
        `PATH=${d("bin")}:$PATH sh ${d("script.sh")}\necho "rc=$?"\n${after}`,
        stdin,
      );
    },
  };
}

/** The exit code a sandboxed script printed as "rc=N"; -1 if it printed none. */
export function sandboxRc(r: ShResult): number {
  return Number(/rc=(\d+)/.exec(r.stdout)?.[1] ?? -1);
}
