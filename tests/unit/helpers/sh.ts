/**
 * Run shell snippets in tests: POSIX sh (dash on Debian), in a temp dir, with a bounded time; and make a
 * real CA with openssl.
 */
import { strict as assert } from "node:assert";
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

const made: string[] = [];
process.on("exit", () => {
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
});

/** A fresh temp dir, removed when the test process exits (also when a test failed). */
export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `hakube-${prefix}-`));
  made.push(dir);
  return dir;
}

/** True if openssl runs here (the tests that need a real certificate skip without it). */
export function hasOpenssl(): boolean {
  return spawnSync("openssl", ["version"]).status === 0;
}

/**
 * A real self-signed CA (ECDSA P-256, CN kubernetes, valid one day), made with openssl in a temp dir named
 * after `prefix`: where the code under test reads the CA certificate (HaControlPlane computes kubeadm's
 * discovery hash from it), since the mocked tls provider's PEMs are no certificates.
 */
export function opensslCa(prefix: string): { certPem: string; privateKeyPem: string } {
  const dir = tempDir(prefix);
  try {
    const req = `req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ${dir}/ca.key -out ${dir}/ca.crt -subj /CN=kubernetes -days 1`;
    const r = spawnSync("openssl", req.split(" "), { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    return {
      certPem: fs.readFileSync(`${dir}/ca.crt`, "utf8"),
      privateKeyPem: fs.readFileSync(`${dir}/ca.key`, "utf8"),
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
