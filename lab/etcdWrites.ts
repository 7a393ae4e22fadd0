/**
 * Writes to the lab's etcd that benchmarks and tests share: a population of writers (one `etcdctl put`
 * started every `everyMs`, each with its own timeout, none waiting for the others, so that their gaps are
 * the cluster's and not one retrying client's timeouts), the longest gap between acknowledgements, the
 * acknowledged writes checked back, and keys written in bulk.
 */
import type { ClientFiles } from "./deploy";
import { etcdctl } from "./etcdctl";

export interface Write {
  key: string;
  value: string;
  /** When the put was started and when it returned (ms). */
  at: number;
  end: number;
  ok: boolean;
}

export interface WritersOptions {
  /** Keys are `<prefix><n>`. @default "bench/" */
  prefix?: string;
  /** One put started this often. @default 100 */
  everyMs?: number;
  /** Each put's etcdctl --command-timeout. @default "3s" */
  timeout?: string;
}

/** A population of writers through `endpoints`: start() ... stop() gives every write's times. */
export function writers(files: ClientFiles, endpoints: string[], opts: WritersOptions = {}) {
  const { prefix = "bench/", everyMs = 100, timeout = "3s" } = opts;
  const writes: Write[] = [];
  const pending = new Set<Promise<void>>();
  let n = 0;
  const timer = setInterval(() => {
    const at = Date.now();
    const i = n++;
    const key = `${prefix}${String(i).padStart(6, "0")}`;
    const value = String(i);
    const done = (ok: boolean) => void writes.push({ key, value, at, end: Date.now(), ok });
    const p = etcdctl(["put", key, value], { files, endpoints, commandTimeout: timeout })
      .then((r) => done(r.code === 0))
      .catch(() => done(false))
      .finally(() => pending.delete(p));
    pending.add(p);
  }, everyMs);
  return {
    /** The writes finished so far. */
    writes,
    async stop(): Promise<Write[]> {
      clearInterval(timer);
      while (pending.size > 0) await Promise.all([...pending]);
      return writes.sort((a, b) => a.at - b.at);
    },
  };
}

/**
 * The longest time between two consecutive acknowledgements (returns of successful puts) that ends within
 * [from, to], and when it ended: as long as the cluster committed nothing, plus the writers' cadence.
 */
export function longestAckGap(writes: Write[], from: number, to: number): { ms: number; endedAt: number } {
  const acks = writes
    .filter((w) => w.ok)
    .map((w) => w.end)
    .sort((a, b) => a - b);
  let best = { ms: NaN, endedAt: NaN };
  for (let k = 1; k < acks.length; k++) {
    if (acks[k] < from || acks[k] > to) continue;
    const ms = acks[k] - acks[k - 1];
    if (Number.isNaN(best.ms) || ms > best.ms) best = { ms, endedAt: acks[k] };
  }
  return best;
}

/** The keys under `prefix` and their values, read through `endpoints` (linearizable). */
export async function readPrefix(
  files: ClientFiles,
  endpoints: string[],
  prefix: string,
): Promise<Map<string, string>> {
  const r = await etcdctl(["get", prefix, "--prefix"], { files, endpoints, commandTimeout: "30s" });
  if (r.code !== 0) throw new Error(`get ${prefix} --prefix failed: ${r.stderr.trim()}`);
  const lines = r.stdout.trim().split("\n");
  const stored = new Map<string, string>();
  for (let k = 0; k + 1 < lines.length; k += 2) stored.set(lines[k], lines[k + 1]);
  return stored;
}

/** Those of `acked` (all under `prefix`) whose key does not hold its value now: lost writes. */
export async function missingWrites(
  files: ClientFiles,
  endpoints: string[],
  prefix: string,
  acked: ReadonlyArray<{ key: string; value: string }>,
): Promise<string[]> {
  const stored = await readPrefix(files, endpoints, prefix);
  return acked.filter((w) => stored.get(w.key) !== w.value).map((w) => w.key);
}

/** etcd's default --max-txn-ops is 128. */
const PUTS_PER_TXN = 100;

/**
 * `count` keys `<prefix><i>` with `bytes`-long values (the letter of i's last digit, repeated), in
 * transactions of 100 puts: megabytes of data in a few seconds, for snapshots of some size.
 */
export async function putMany(
  files: ClientFiles,
  endpoints: string[],
  prefix: string,
  count: number,
  bytes: number,
): Promise<void> {
  for (let first = 0; first < count; first += PUTS_PER_TXN) {
    const ops: string[] = [];
    for (let i = first; i < Math.min(count, first + PUTS_PER_TXN); i++)
      ops.push(`put ${prefix}${i} ${bulkValue(i, bytes)}`);
    // `etcdctl txn` reads compares, then success ops, then failure ops, each list ended by an empty line.
    const r = await etcdctl(["txn"], {
      files,
      endpoints,
      commandTimeout: "30s",
      input: `\n${ops.join("\n")}\n\n\n`,
    });
    if (r.code !== 0 || !/SUCCESS/.test(r.stdout))
      throw new Error(`txn of ${prefix}${first}..: ${r.stderr.trim() || r.stdout.trim()}`);
  }
}

/** The value putMany gives key i. */
export function bulkValue(i: number, bytes: number): string {
  return "abcdefghij"[i % 10].repeat(bytes);
}
