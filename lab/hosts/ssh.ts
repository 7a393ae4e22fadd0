import { Client } from "ssh2";
import type { RunResult } from "./run";

/** Where and how to reach a lab host over SSH; the host must present exactly `hostKey`. */
export interface SshTarget {
  address: string;
  /** An authorized_keys line: "ssh-ed25519 AAAA... [comment]". */
  hostKey: string;
  privateKey: string | Buffer;
  user?: string;
  port?: number;
}

export interface SshExecOptions {
  /** Written to the command's stdin (for secrets: SSH passes no environment without AcceptEnv). */
  input?: string;
  /** Covers connecting and running. @default 30000 */
  timeoutMs?: number;
}

/** Splits "type base64 [comment]" into the algorithm name and the raw key blob the server sends. */
export function parseHostKey(line: string): { type: string; blob: Buffer } {
  const [type, b64] = line.trim().split(/\s+/);
  if (!type || !b64) throw new Error(`not an authorized_keys line: ${JSON.stringify(line)}`);
  return { type, blob: Buffer.from(b64, "base64") };
}

/**
 * Opens an SSH connection that fails unless the server presents the pinned host key. Only the pinned
 * key's algorithm is offered, so a server with several host keys cannot answer with another one.
 */
export function sshConnect(target: SshTarget, timeoutMs = 10_000): Promise<Client> {
  const pinned = parseHostKey(target.hostKey);
  return new Promise((resolve, reject) => {
    const client = new Client();
    let presented: Buffer | undefined;
    client
      .on("ready", () => resolve(client))
      .on("error", (e) => {
        client.end();
        const why =
          presented && !presented.equals(pinned.blob) ? " (host key differs from the pinned one)" : "";
        reject(new Error(`ssh root@${target.address}: ${e.message}${why}`));
      })
      .connect({
        host: target.address,
        port: target.port ?? 22,
        username: target.user ?? "root",
        privateKey: target.privateKey,
        readyTimeout: timeoutMs,
        algorithms: { serverHostKey: [pinned.type as "ssh-ed25519"] },
        hostVerifier: (key: Buffer) => {
          presented = key;
          return key.equals(pinned.blob);
        },
      });
  });
}

/** Runs one command over a fresh connection and returns its exit code and output (never throws on rc). */
export async function sshExec(
  target: SshTarget,
  command: string,
  opts: SshExecOptions = {},
): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const client = await sshConnect(target, timeoutMs);
  try {
    return await withTimeout(
      execOn(client, command, opts.input),
      timeoutMs,
      `ssh ${target.address}: ${command}`,
    );
  } finally {
    client.end();
  }
}

function execOn(client: Client, command: string, input?: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    client.exec(command, (err, stream) => {
      if (err) return reject(err);
      const out: Buffer[] = [];
      const errOut: Buffer[] = [];
      let code = -1;
      stream.on("data", (b: Buffer) => out.push(b));
      stream.stderr.on("data", (b: Buffer) => errOut.push(b));
      stream.on("exit", (c: number | null, signal?: string) => {
        code = c ?? (signal ? 128 : -1);
      });
      stream.on("close", () =>
        resolve({
          code,
          stdout: Buffer.concat(out).toString("utf8"),
          stderr: Buffer.concat(errOut).toString("utf8"),
        }),
      );
      stream.end(input ?? "");
    });
  });
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
