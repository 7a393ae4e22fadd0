import { spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";

/** Logging callback used across the lab: one line per call. */
export type Log = (msg: string) => void;

export const silent: Log = () => undefined;

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Written to the command's stdin, which is then closed. */
  input?: string | Buffer;
  cwd?: string;
  /** Replaces the environment (a clean PATH is used when omitted: see `cleanEnv`). */
  env?: NodeJS.ProcessEnv;
  /** SIGKILL the command after this long and report it as failed. */
  timeoutMs?: number;
  /** Return non-zero exits instead of throwing. */
  allowFail?: boolean;
}

/** A failed command, with its command line and the end of its stderr so the reason is in the message. */
export class CommandError extends Error {
  constructor(
    readonly command: string,
    readonly result: RunResult,
  ) {
    super(`${command} exited ${result.code}: ${tail(result.stderr || result.stdout, 1500)}`);
    this.name = "CommandError";
  }
}

/** A fixed environment so that the lab behaves the same whatever the caller's shell exported. */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    LANG: "C.UTF-8",
    HOME: "/root",
    ...extra,
  };
}

/** Runs a command without a shell and collects its output. Throws CommandError on non-zero exit. */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const commandLine = [cmd, ...args].join(" ");
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? cleanEnv(), stdio: "pipe" });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer =
      opts.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill("SIGKILL");
          }, opts.timeoutMs);
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", (e) => {
      if (timer) clearTimeout(timer);
      reject(new Error(`cannot run ${cmd}: ${e.message}`));
    });
    child.on("close", (code, signal) => {
      if (timer) clearTimeout(timer);
      const result: RunResult = {
        code: code ?? 128 + (signal ? 9 : 0),
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
      };
      if (timedOut) result.stderr += `\n(killed after ${opts.timeoutMs} ms)`;
      if (result.code !== 0 && !opts.allowFail) reject(new CommandError(commandLine, result));
      else resolve(result);
    });
    // EPIPE when the command exits without reading stdin is not an error of ours.
    child.stdin.on("error", () => undefined);
    child.stdin.end(opts.input ?? "");
  });
}

/** The last `max` characters of a text, trimmed: enough for an error message. */
export function tail(text: string, max: number): string {
  const t = text.trim();
  return t.length <= max ? t : `...${t.slice(-max)}`;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Thrown by a `waitFor` check to stop waiting at once (the awaited thing can no longer happen). */
export class GiveUp extends Error {}

/**
 * Polls `check` until it returns a value other than undefined/false, or throws after `timeoutMs` with
 * `what` and the last error seen (the usual reason why it never became true).
 */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs: number,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      if (e instanceof GiveUp) throw e;
      lastError = e;
    }
    if (Date.now() >= deadline) {
      const why = lastError instanceof Error ? `: ${lastError.message}` : "";
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await sleep(intervalMs);
  }
}

/** Seconds since `start` (a Date.now() value), for progress lines. */
export function elapsed(start: number): string {
  return `${((Date.now() - start) / 1000).toFixed(1)} s`;
}

// --- processes ------------------------------------------------------------------------------------

/** The argv of a live process, or undefined when it is gone (or a zombie, whose cmdline is empty). */
export function cmdlineOf(pid: number): string[] | undefined {
  try {
    const raw = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
    return raw.length === 0 ? undefined : raw.replace(/\0$/, "").split("\0");
  } catch {
    return undefined;
  }
}

/** The parent pid of a process, or undefined when it is gone. */
export function parentOf(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may contain spaces and parentheses: parse after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[1]);
  } catch {
    return undefined;
  }
}

/**
 * A process as the state file records it: pid plus start time (clock ticks since boot). A pid alone
 * may be reused by an unrelated process after a reboot or a long time; pid + start time may not.
 */
export interface ProcRef {
  pid: number;
  start: number;
}

function startTimeOf(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // Field 22 of stat (starttime); fields[] starts at field 3. A zombie (state Z) counts as gone.
    return fields[0] === "Z" ? undefined : Number(fields[19]);
  } catch {
    return undefined;
  }
}

export function procRef(pid: number): ProcRef | undefined {
  const start = startTimeOf(pid);
  return start === undefined ? undefined : { pid, start };
}

/** True while the recorded process still runs (and is not a zombie). */
export function isAlive(ref: ProcRef | undefined): ref is ProcRef {
  return ref !== undefined && startTimeOf(ref.pid) === ref.start;
}

/** Signals the recorded process, only if it is still that process. */
export function signalRef(ref: ProcRef | undefined, signal: NodeJS.Signals): boolean {
  if (!isAlive(ref)) return false;
  try {
    process.kill(ref.pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM (or `first`), then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopProcess(
  ref: ProcRef | undefined,
  first: NodeJS.Signals = "SIGTERM",
  graceMs = 3000,
): Promise<void> {
  if (!signalRef(ref, first)) return;
  const deadline = Date.now() + graceMs;
  while (isAlive(ref) && Date.now() < deadline) await sleep(50);
  if (!signalRef(ref, "SIGKILL")) return;
  await waitFor(`pid ${ref?.pid} to exit after SIGKILL`, async () => !isAlive(ref), 10_000, 50);
}

/** All pids currently in /proc. */
export function allPids(): number[] {
  return fs
    .readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .map(Number);
}

export function isGone(pid: number): boolean {
  return cmdlineOf(pid) === undefined;
}

// --- locking --------------------------------------------------------------------------------------

/**
 * Runs `fn` holding an exclusive lock file (created with O_EXCL, holding our pid). Several processes
 * share `.lab/cache` (tests in parallel, `npm run lab`), so the rootfs must be built by one of them only.
 * A lock whose owner died is taken over.
 */
export async function withLock<T>(
  lockPath: string,
  log: Log,
  fn: () => Promise<T>,
  timeoutMs = 900_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let announced = false;
  for (;;) {
    try {
      fs.writeFileSync(lockPath, String(process.pid), { flag: "wx", mode: 0o600 });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      if (lockIsStale(lockPath)) {
        fs.rmSync(lockPath, { force: true });
        continue;
      }
      const owner = readLockOwner(lockPath);
      if (Date.now() > deadline) throw new Error(`lock ${lockPath} still held by pid ${owner}`);
      if (!announced) log(`waiting for pid ${owner} holding ${lockPath}`);
      announced = true;
      await sleep(100);
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lockPath, { force: true });
  }
}

function readLockOwner(lockPath: string): number | undefined {
  try {
    return Number(fs.readFileSync(lockPath, "utf8").trim()) || undefined;
  } catch {
    return undefined;
  }
}

/** Stale: its owner died, or it stayed empty (owner crashed between create and write) for seconds. */
function lockIsStale(lockPath: string): boolean {
  const owner = readLockOwner(lockPath);
  if (owner !== undefined) return isGone(owner);
  try {
    return Date.now() - fs.statSync(lockPath).mtimeMs > 5000;
  } catch {
    return false; // vanished meanwhile: just retry
  }
}

/** tar options that make an archive depend only on its files: fixed order, owner and times. */
export const REPRODUCIBLE_TAR = ["--sort=name", "--owner=0", "--group=0", "--numeric-owner", "--mtime=@0"];

/** A TCP connect to one of this machine's own addresses (loopback or the lab bridge; never further). */
export function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port, timeout: 1000 });
    s.on("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.on("error", () => resolve(false));
    s.on("timeout", () => {
      s.destroy();
      resolve(false);
    });
  });
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts a server detached (it outlives this process; its output goes to `logFile`) and waits until it
 * accepts connections on host:port. A server that exits or does not listen in time is stopped and the
 * end of its log is in the error.
 */
export async function startServer(
  what: string,
  cmd: string,
  args: string[],
  logFile: string,
  listen: { host: string; port: number },
  timeoutMs = 15_000,
): Promise<ProcRef> {
  const logFd = fs.openSync(logFile, "a", 0o600);
  const child = spawn(cmd, args, { detached: true, stdio: ["ignore", logFd, logFd], env: cleanEnv() });
  fs.closeSync(logFd);
  child.on("error", () => undefined);
  child.unref();
  const ref = child.pid === undefined ? undefined : procRef(child.pid);
  if (!ref) throw new Error(`${what} did not start; see ${logFile}`);
  try {
    await waitFor(
      `${what} on ${listen.host}:${listen.port}`,
      async () => {
        if (!isAlive(ref))
          throw new Error(`it exited: ${fs.readFileSync(logFile, "utf8").trim().slice(-500)}`);
        return canConnect(listen.host, listen.port);
      },
      timeoutMs,
      100,
    );
  } catch (e) {
    await stopProcess(ref);
    throw e;
  }
  return ref;
}
