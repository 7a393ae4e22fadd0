/**
 * The request loop that lab tests and benchmarks send through the VIP: GET `url` every `everyMs`, not
 * waiting for earlier requests (a population of clients: one stuck on a dead connection does not hold
 * the others back), a new TLS connection each (as a fresh client would open), the server verified
 * against `ca`, `timeoutMs` at most per request. Bounded in count and time. Traffic goes only to the
 * lab's own addresses (the caller's `url`).
 */
import * as https from "node:https";
import { monitorEventLoopDelay } from "node:perf_hooks";

/** One request: when it started, whether it answered 200, how long it took (or until it failed). */
export interface ProbeResult {
  at: number;
  ok: boolean;
  ms: number;
  error?: string;
}

/** What a stopped loop saw. */
export interface ProbeSummary {
  total: number;
  failed: number;
  /** The slowest request (a failed one counts with its time until it failed). */
  slowestMs: number;
  /** The distinct errors of the failed requests. */
  errors: string[];
  /** The failed requests, in start order. */
  failures: ProbeResult[];
  /** The Node.js event loop's largest delay meanwhile (a stalled client would look like a stalled server). */
  maxLagMs: number;
}

export class Prober {
  readonly results: ProbeResult[] = [];
  private readonly inflight = new Set<Promise<void>>();
  private timer?: NodeJS.Timeout;
  private sent = 0;
  private readonly lag = monitorEventLoopDelay({ resolution: 10 });

  constructor(
    private readonly url: string,
    private readonly ca: string,
    private readonly everyMs = 25,
    private readonly timeoutMs = 5000,
    private readonly maxRequests = 8000,
    private readonly maxMs = 150_000,
    /** A client certificate and key (PEM): requests as kubectl makes them with a kubeconfig. */
    private readonly client?: { cert: string; key: string },
  ) {}

  start(): this {
    const t0 = Date.now();
    this.lag.enable();
    this.timer = setInterval(() => {
      if (this.sent >= this.maxRequests || Date.now() - t0 > this.maxMs)
        return void clearInterval(this.timer);
      this.sent++;
      const p = this.one().finally(() => this.inflight.delete(p));
      this.inflight.add(p);
    }, this.everyMs);
    return this;
  }

  private one(): Promise<void> {
    const at = Date.now();
    return new Promise((resolve) => {
      let done = false;
      const finish = (ok: boolean, error?: string) => {
        if (done) return;
        done = true;
        clearTimeout(deadline);
        this.results.push({ at, ok, ms: Date.now() - at, error });
        resolve();
      };
      const req = https.get(this.url, { ca: this.ca, agent: false, ...this.client }, (res) => {
        res.resume();
        res.on("end", () =>
          finish(res.statusCode === 200, res.statusCode === 200 ? undefined : `status ${res.statusCode}`),
        );
        res.on("error", (e) => finish(false, e.message));
      });
      req.on("error", (e) => finish(false, e.message));
      const deadline = setTimeout(() => {
        finish(false, "timeout");
        req.destroy();
      }, this.timeoutMs);
    });
  }

  /** Stops sending and waits for the requests in flight (each ends within its timeout). Idempotent. */
  async stop(): Promise<ProbeSummary> {
    clearInterval(this.timer);
    while (this.inflight.size > 0) await Promise.all([...this.inflight]);
    this.lag.disable();
    const failures = this.results.filter((r) => !r.ok).sort((a, b) => a.at - b.at);
    return {
      total: this.results.length,
      failed: failures.length,
      slowestMs: Math.max(0, ...this.results.map((r) => r.ms)),
      errors: [...new Set(failures.map((r) => r.error ?? ""))],
      failures,
      maxLagMs: this.lag.max / 1e6,
    };
  }
}
