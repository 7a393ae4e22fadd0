/** Run shell snippets in tests: POSIX sh (dash on Debian), in a temp dir, with a bounded time. */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export interface ShResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runSh(
  script: string,
  opts: { stdin?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): ShResult {
  const r = spawnSync("/bin/sh", ["-c", script], {
    input: opts.stdin ?? "",
    env: { ...process.env, ...opts.env },
    cwd: opts.cwd,
    encoding: "utf8",
    timeout: 20000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** `sh -n`: parse only. */
export function shSyntaxError(script: string): string | undefined {
  const r = spawnSync("/bin/sh", ["-n"], { input: script, encoding: "utf8" });
  return r.status === 0 ? undefined : r.stderr;
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `hakube-${prefix}-`));
}
