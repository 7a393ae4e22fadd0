// SSH for the lab runner (ssh2), following @pulumi/command 1.2.1's remote provider: one connection per
// operation, dial retries (dialErrorLimit, perDialTimeout), optional host key pinning (hostKey), optional jump
// host (proxy, through a direct-tcpip channel), env requests, stdin; SFTP copies in ./sftp.ts.
//
// Differences from the provider, on purpose:
// - Host key mismatches and authentication failures are not retried (the provider retries every dial error);
//   they cannot heal by waiting and the lab wants the error at once.
// - Environment variables: ssh2 sends env requests without asking for a reply, so a variable refused by sshd
//   (not in AcceptEnv) would be dropped silently. The runner therefore first runs a probe command in a session
//   with the same env requests (`printenv NAME` for each name) and fails like the provider when a variable of
//   `environment` did not arrive; PULUMI_COMMAND_STDOUT/STDERR that did not arrive only produce a warning, as in
//   the provider.

import * as crypto from "node:crypto";
import { Client, type ClientChannel, type ConnectConfig, type ServerHostKeyAlgorithm } from "ssh2";
import { type CommandResult, StreamCapture } from "./output";
import { isRecord } from "./values";

export interface SshTarget {
  host: string;
  port: number;
  user: string;
  password?: string;
  privateKey?: string;
  privateKeyPassword?: string;
  agentSocketPath?: string;
  /** Dial attempts before giving up; -1 = unlimited. */
  dialErrorLimit: number;
  /** Seconds per dial attempt (TCP connect + SSH handshake); 0 = no limit. */
  perDialTimeout: number;
  /** authorized_keys-format public key the server must present; unset = accept any key. */
  hostKey?: string;
}

export interface SshConnection extends SshTarget {
  proxy?: SshTarget;
}

/** Validates a plain `connection` input (after @pulumi/command's SDK applied its defaults). */
export function parseConnection(v: unknown, what = "connection"): SshConnection {
  if (!isRecord(v)) throw new Error(`${what} must be an object`);
  const target = parseTarget(v, what);
  if (v.proxy === undefined || v.proxy === null) return target;
  return { ...target, proxy: parseTarget(v.proxy, `${what}.proxy`) };
}

function parseTarget(v: unknown, what: string): SshTarget {
  if (!isRecord(v)) throw new Error(`${what} must be an object`);
  const str = (k: string): string | undefined => {
    const x = v[k];
    if (x === undefined || x === null) return undefined;
    if (typeof x !== "string") throw new Error(`${what}.${k} must be a string`);
    return x;
  };
  const num = (k: string, dflt: number): number => {
    const x = v[k];
    if (x === undefined || x === null) return dflt;
    if (typeof x !== "number" || !Number.isFinite(x)) throw new Error(`${what}.${k} must be a number`);
    return x;
  };
  const host = str("host");
  if (!host) throw new Error(`${what}.host is required`);
  return {
    host,
    port: num("port", 22),
    user: str("user") ?? "root",
    password: str("password"),
    privateKey: str("privateKey"),
    privateKeyPassword: str("privateKeyPassword"),
    agentSocketPath: str("agentSocketPath"),
    dialErrorLimit: num("dialErrorLimit", 10),
    perDialTimeout: num("perDialTimeout", 15),
    hostKey: str("hostKey"),
  };
}

export function describeTarget(t: SshTarget): string {
  return `${t.user}@${t.host}:${t.port}`;
}

/** Marks errors that retrying cannot fix. */
class PermanentDialError extends Error {}

interface ParsedHostKey {
  type: string;
  blob: Buffer;
}

function parseHostKey(line: string, host: string): ParsedHostKey {
  const tokens = line.trim().split(/\s+/);
  for (let i = 0; i + 1 < tokens.length; i++) {
    if (!/^(ssh-|ecdsa-|sk-)/.test(tokens[i])) continue;
    const blob = Buffer.from(tokens[i + 1], "base64");
    if (blob.length > 4 && keyTypeOf(blob) === tokens[i]) return { type: tokens[i], blob };
  }
  throw new PermanentDialError(`hostKey for ${host} is not an authorized_keys-format public key: ${line}`);
}

function keyTypeOf(blob: Buffer): string {
  const len = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + len).toString("latin1");
}

function fingerprint(blob: Buffer): string {
  return "SHA256:" + crypto.createHash("sha256").update(blob).digest("base64").replace(/=+$/, "");
}

const SSH2_HOST_KEY_ALGORITHMS: Record<string, ServerHostKeyAlgorithm[]> = {
  "ssh-ed25519": ["ssh-ed25519"],
  "ecdsa-sha2-nistp256": ["ecdsa-sha2-nistp256"],
  "ecdsa-sha2-nistp384": ["ecdsa-sha2-nistp384"],
  "ecdsa-sha2-nistp521": ["ecdsa-sha2-nistp521"],
  "ssh-rsa": ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"],
};

/** One SSH handshake (no retry). `sock` carries the connection through a proxy. */
function handshake(t: SshTarget, sock?: NodeJS.ReadableStream): Promise<Client> {
  const pinned = t.hostKey ? parseHostKey(t.hostKey, t.host) : undefined;
  return new Promise((resolve, reject) => {
    const client = new Client();
    let offered: Buffer | undefined;
    let settled = false;
    client.on("error", (err: Error & { level?: string }) => {
      if (settled) return;
      settled = true;
      client.end();
      if (pinned && offered && !offered.equals(pinned.blob)) {
        reject(
          new PermanentDialError(
            `host key verification failed for ${t.host}:${t.port}: the server presented ` +
              `${keyTypeOf(offered)} ${fingerprint(offered)}, but connection.hostKey is ` +
              `${pinned.type} ${fingerprint(pinned.blob)}`,
          ),
        );
      } else if (pinned && /host key/i.test(err.message)) {
        reject(
          new PermanentDialError(`host key negotiation with ${t.host}:${t.port} failed: ${err.message}`),
        );
      } else if (err.level === "client-authentication") {
        reject(new PermanentDialError(`authentication as ${describeTarget(t)} failed: ${err.message}`));
      } else {
        reject(new Error(`ssh ${describeTarget(t)}: ${err.message}`));
      }
    });
    client.on("ready", () => {
      settled = true;
      resolve(client);
    });
    const config: ConnectConfig = {
      host: t.host,
      port: t.port,
      username: t.user,
      readyTimeout: t.perDialTimeout > 0 ? t.perDialTimeout * 1000 : 0,
      keepaliveInterval: 15000,
    };
    if (sock) config.sock = sock as ConnectConfig["sock"];
    if (t.privateKey) config.privateKey = t.privateKey;
    if (t.privateKeyPassword) config.passphrase = t.privateKeyPassword;
    if (t.password !== undefined) {
      config.password = t.password;
      config.tryKeyboard = true;
      client.on("keyboard-interactive", (_name, _instr, _lang, prompts, finish) =>
        finish(prompts.map(() => t.password ?? "")),
      );
    }
    const agent = t.agentSocketPath ?? process.env.SSH_AUTH_SOCK;
    if (agent) config.agent = agent;
    if (pinned) {
      config.hostVerifier = (key: Buffer): boolean => {
        offered = Buffer.from(key);
        return offered.equals(pinned.blob);
      };
      const algorithms = SSH2_HOST_KEY_ALGORITHMS[pinned.type];
      if (algorithms) config.algorithms = { serverHostKey: algorithms };
    }
    try {
      client.connect(config);
    } catch (err) {
      settled = true;
      reject(new PermanentDialError(`ssh ${describeTarget(t)}: ${(err as Error).message}`));
    }
  });
}

async function withRetry<T>(
  what: string,
  limit: number,
  warn: (line: string) => void,
  attempt: () => Promise<T>,
): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await attempt();
    } catch (err) {
      if (err instanceof PermanentDialError) throw err;
      if (limit !== -1 && tries >= limit) {
        throw new Error(`${what} failed after ${tries} attempt(s): ${(err as Error).message}`);
      }
      warn(
        `${what}: attempt ${tries}/${limit === -1 ? "inf" : limit} failed (${(err as Error).message}), retrying`,
      );
      await new Promise((r) => setTimeout(r, Math.min(250 * 2 ** (tries - 1), 5000)));
    }
  }
}

/** Connects (through the proxy if one is set), retrying as the connection settings allow. */
export async function dial(conn: SshConnection, warn: (line: string) => void): Promise<Client> {
  if (!conn.proxy) {
    return withRetry(`dial ${describeTarget(conn)}`, conn.dialErrorLimit, warn, () => handshake(conn));
  }
  const proxy = conn.proxy;
  const jump = await withRetry(`dial proxy ${describeTarget(proxy)}`, proxy.dialErrorLimit, warn, () =>
    handshake(proxy),
  );
  try {
    const client = await withRetry(
      `dial ${describeTarget(conn)} via ${proxy.host}`,
      conn.dialErrorLimit,
      warn,
      async () => {
        const channel = await new Promise<ClientChannel>((resolve, reject) =>
          jump.forwardOut("127.0.0.1", 0, conn.host, conn.port, (err, ch) =>
            err ? reject(err) : resolve(ch),
          ),
        );
        return handshake(conn, channel);
      },
    );
    client.on("close", () => jump.end());
    return client;
  } catch (err) {
    jump.end();
    throw err;
  }
}

function exec(client: Client, command: string, env: Record<string, string>): Promise<ClientChannel> {
  return new Promise((resolve, reject) =>
    client.exec(command, { env }, (err, ch) => (err ? reject(err) : resolve(ch))),
  );
}

function shellQuote(s: string): string {
  return "'" + s.replace(/'/g, "'\\''") + "'";
}

/** Names among `env` that did not reach the remote command (refused by sshd's AcceptEnv). */
async function refusedEnv(client: Client, env: Record<string, string>): Promise<string[]> {
  const names = Object.keys(env);
  if (names.length === 0) return [];
  const probe = `for n in ${names.map(shellQuote).join(" ")}; do printenv "$n" >/dev/null || echo "$n"; done`;
  const ch = await exec(client, probe, env);
  const out = new StreamCapture();
  await new Promise<void>((resolve) => {
    ch.on("data", (d: Buffer) => out.push(d));
    ch.stderr.on("data", () => undefined);
    ch.on("close", () => resolve());
    ch.end();
  });
  return out
    .text()
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => names.includes(l));
}

export interface RemoteRun {
  command: string;
  stdin?: string;
  /** `environment`: a refused variable fails the command. */
  env: Record<string, string>;
  /** PULUMI_COMMAND_STDOUT/STDERR: a refused variable only warns. */
  optionalEnv: Record<string, string>;
  onStdout?: (line: string) => void;
  onStderr?: (line: string) => void;
  warn: (line: string) => void;
}

/** Runs one command over a fresh connection; resolves with its result whatever the exit code. */
export async function runRemote(conn: SshConnection, run: RemoteRun): Promise<CommandResult> {
  const started = Date.now();
  const client = await dial(conn, run.warn);
  try {
    let env = { ...run.env, ...run.optionalEnv };
    const refused = await refusedEnv(client, env);
    const required = refused.filter((n) => n in run.env);
    if (required.length > 0) {
      throw new Error(
        `could not set environment variable(s) ${required.join(", ")} on ${conn.host}: the SSH server only ` +
          `accepts variables listed in its sshd_config AcceptEnv. Alternatively prefix the command itself ` +
          `with 'VAR=value'.`,
      );
    }
    if (refused.length > 0) {
      run.warn(
        `${conn.host} did not accept ${refused.join(", ")} (sshd_config AcceptEnv); the command runs without them`,
      );
      env = Object.fromEntries(Object.entries(env).filter(([k]) => !refused.includes(k)));
    }
    const ch = await exec(client, run.command, env);
    const stdout = new StreamCapture(run.onStdout);
    const stderr = new StreamCapture(run.onStderr);
    const { code, signal } = await new Promise<{ code: number | null; signal?: string }>((resolve) => {
      let code: number | null = null;
      let signal: string | undefined = "connection lost";
      ch.on("data", (d: Buffer) => stdout.push(d));
      ch.stderr.on("data", (d: Buffer) => stderr.push(d));
      ch.on("exit", (c: number | null, sig?: string) => {
        code = typeof c === "number" ? c : null;
        signal = typeof c === "number" ? undefined : (sig ?? "unknown");
      });
      ch.on("close", () => resolve({ code, signal }));
      if (run.stdin !== undefined && run.stdin.length > 0) ch.end(run.stdin);
      else ch.end();
    });
    stdout.end();
    stderr.end();
    return {
      stdout: stdout.text(),
      stderr: stderr.text(),
      exitCode: code,
      signal,
      durationMs: Date.now() - started,
    };
  } finally {
    client.end();
  }
}
