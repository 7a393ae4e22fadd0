/** Helpers for the lab tests: HTTPS probes with and without client certificates, polling, etcd I/O. */
import * as https from "node:https";
import { ClientFiles } from "../../lab/deploy";
import { etcdctl, EtcdctlResult } from "../../lab/etcdctl";
import * as providers from "../../lab/providers";
import { sleep, waitFor as pollUntil } from "../../lab/hosts/run";

export interface TlsClient {
  ca: string;
  cert?: string;
  key?: string;
}

/** GET url over HTTPS/1.1, verifying the server against `ca`; resolves with the status or the error. */
export function httpsGet(
  url: string,
  tls: TlsClient,
  timeoutMs = 5000,
): Promise<{ status?: number; error?: string }> {
  return new Promise((resolve) => {
    const req = https.get(
      url,
      { ca: tls.ca, cert: tls.cert, key: tls.key, timeout: timeoutMs, agent: false },
      (res) => {
        res.resume();
        res.on("end", () => resolve({ status: res.statusCode }));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (e) => resolve({ error: e.message }));
  });
}

/** A CA and a client certificate that have nothing to do with the cluster's CA. */
export async function foreignClient(): Promise<{ ca: string; cert: string; key: string }> {
  const key = async () =>
    String(
      (await providers.create("tls:index/privateKey:PrivateKey", { algorithm: "ECDSA", ecdsaCurve: "P256" }))
        .outputs.privateKeyPem,
    );
  const caKey = await key();
  const ca = await providers.create("tls:index/selfSignedCert:SelfSignedCert", {
    privateKeyPem: caKey,
    isCaCertificate: true,
    allowedUses: ["cert_signing", "digital_signature"],
    validityPeriodHours: 24,
    subject: { commonName: "foreign-ca" },
  });
  const clientKey = await key();
  const csr = await providers.create("tls:index/certRequest:CertRequest", {
    privateKeyPem: clientKey,
    subject: { commonName: "intruder" },
  });
  const cert = await providers.create("tls:index/locallySignedCert:LocallySignedCert", {
    certRequestPem: csr.outputs.certRequestPem,
    caCertPem: ca.outputs.certPem,
    caPrivateKeyPem: caKey,
    allowedUses: ["digital_signature", "client_auth"],
    validityPeriodHours: 24,
  });
  return { ca: String(ca.outputs.certPem), cert: String(cert.outputs.certPem), key: clientKey };
}

export { sleep };

/**
 * Poll `check` until it returns a value other than undefined/false, or throw after `timeoutMs`: the lab's
 * own waitFor (lab/hosts/run.ts), with the tests' argument order and a 200 ms default interval.
 */
export function waitFor<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined | false>,
  everyMs = 200,
): Promise<T> {
  return pollUntil(what, check, timeoutMs, everyMs);
}

export class Etcd {
  constructor(
    readonly files: ClientFiles,
    public endpoints: string[],
  ) {}

  async put(
    key: string,
    value: string,
    endpoints = this.endpoints,
    commandTimeout = "5s",
  ): Promise<EtcdctlResult> {
    return etcdctl(["put", key, value], { files: this.files, endpoints, commandTimeout });
  }

  /** A read; `serializable` answers from the member's own copy (shows whether it caught up). */
  async get(key: string, endpoints = this.endpoints, serializable = false): Promise<string | undefined> {
    const args = ["get", key, "--print-value-only", ...(serializable ? ["--consistency=s"] : [])];
    const r = await etcdctl(args, { files: this.files, endpoints });
    if (r.code !== 0)
      throw new Error(`get ${key} via ${endpoints.join(",")} failed: ${r.stderr.trim().split("\n").pop()}`);
    return r.stdout.trim() === "" ? undefined : r.stdout.trim();
  }

  async mustPut(key: string, value: string, endpoints = this.endpoints): Promise<void> {
    const r = await this.put(key, value, endpoints);
    if (r.code !== 0)
      throw new Error(`put ${key} via ${endpoints.join(",")} failed: ${r.stderr.trim().split("\n").pop()}`);
  }

  /** `member list`: name, isLearner per member. */
  async members(): Promise<
    Array<{ id: string; status: string; name: string; peer: string; learner: boolean }>
  > {
    const r = await etcdctl(["member", "list", "-w", "simple"], {
      files: this.files,
      endpoints: this.endpoints,
    });
    if (r.code !== 0) throw new Error(`member list failed: ${r.stderr}`);
    return r.stdout
      .trim()
      .split("\n")
      .map((l) => l.split(", "))
      .map((f) => ({ id: f[0], status: f[1], name: f[2], peer: f[3], learner: f[5] === "true" }));
  }
}

/**
 * Writes a key every `everyMs` until stopped; records each write's outcome, so a test can assert how long
 * writes failed in a row (the cluster had no quorum or no leader).
 */
export class Writer {
  private stopped = false;
  private readonly results: Array<{ at: number; ok: boolean; error?: string }> = [];
  private loop?: Promise<void>;
  private n = 0;

  constructor(
    private readonly etcd: Etcd,
    private readonly prefix: string,
    private readonly everyMs = 200,
    private readonly maxWrites = 3000,
  ) {}

  start(): this {
    this.loop = (async () => {
      while (!this.stopped && this.n < this.maxWrites) {
        const i = this.n++;
        const r = await this.etcd.put(
          `${this.prefix}/${String(i).padStart(5, "0")}`,
          String(i),
          this.etcd.endpoints,
          "3s",
        );
        this.results.push({
          at: Date.now(),
          ok: r.code === 0,
          error: r.code === 0 ? undefined : r.stderr.trim().split("\n").pop(),
        });
        await sleep(this.everyMs);
      }
    })();
    return this;
  }

  async stop(): Promise<{
    ok: number;
    failed: number;
    longestFailureMs: number;
    /** The longest time between two acknowledged writes in a row (a write that hangs counts too). */
    longestGapMs: number;
    writtenKeys: string[];
    errors: string[];
  }> {
    this.stopped = true;
    await this.loop;
    let longest = 0;
    let since: number | undefined;
    for (const r of this.results) {
      if (!r.ok && since === undefined) since = r.at;
      if (r.ok && since !== undefined) {
        longest = Math.max(longest, r.at - since);
        since = undefined;
      }
    }
    if (since !== undefined) longest = Math.max(longest, Date.now() - since);
    const acks = this.results.filter((r) => r.ok).map((r) => r.at);
    const longestGapMs = Math.max(0, ...acks.slice(1).map((at, i) => at - acks[i]));
    return {
      ok: this.results.filter((r) => r.ok).length,
      failed: this.results.filter((r) => !r.ok).length,
      longestFailureMs: longest,
      longestGapMs,
      writtenKeys: this.results
        .map((r, i) => (r.ok ? `${this.prefix}/${String(i).padStart(5, "0")}` : ""))
        .filter(Boolean),
      errors: [...new Set(this.results.filter((r) => !r.ok).map((r) => r.error ?? ""))],
    };
  }
}
