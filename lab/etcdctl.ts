/**
 * etcdctl on this machine (Debian's etcd-client), talking to the lab's etcd with the client certificate
 * that EtcdCluster issued, as any consumer of the cluster would.
 */
import { spawn } from "node:child_process";
import { ClientFiles } from "./deploy";

export interface EtcdctlResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface EtcdctlOptions {
  /** Client credentials; omit `files` to connect without a client certificate. */
  files?: Partial<ClientFiles>;
  endpoints: string[];
  /** etcdctl's --command-timeout. @default "5s" */
  commandTimeout?: string;
  input?: string;
}

export function etcdctl(args: string[], opts: EtcdctlOptions): Promise<EtcdctlResult> {
  const tls: string[] = [];
  if (opts.files?.ca) tls.push(`--cacert=${opts.files.ca}`);
  if (opts.files?.cert) tls.push(`--cert=${opts.files.cert}`);
  if (opts.files?.key) tls.push(`--key=${opts.files.key}`);
  const argv = [
    `--endpoints=${opts.endpoints.join(",")}`,
    ...tls,
    "--dial-timeout=2s",
    `--command-timeout=${opts.commandTimeout ?? "5s"}`,
    ...args,
  ];
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const p = spawn("etcdctl", argv, { env: { ...process.env, ETCDCTL_API: "3" } });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d) => (stdout += d));
    p.stderr.on("data", (d) => (stderr += d));
    p.on("error", (e) =>
      reject(
        new Error(
          `etcdctl could not start (${e.message}): apt-get install etcd-client, or run scripts/install-deps.sh`,
        ),
      ),
    );
    p.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr, ms: Date.now() - started }));
    // etcdctl may exit before reading its stdin (it reads none unless told to); never let that
    // EPIPE escape as an uncaught error.
    p.stdin.on("error", () => undefined);
    p.stdin.end(opts.input ?? "");
  });
}

/** One member as `endpoint status` sees it. */
export interface EndpointStatus {
  endpoint: string;
  healthy: boolean;
  leader: boolean;
  learner: boolean;
  version?: string;
  dbSize?: string;
  raftIndex?: number;
  /** The raft term: it grows by one at every election (with pre-vote, only at elections that happen). */
  raftTerm?: number;
  error?: string;
}

/** `endpoint status` per endpoint (one call each, so a dead member does not hide the others). */
export async function endpointStatus(files: ClientFiles, endpoints: string[]): Promise<EndpointStatus[]> {
  return Promise.all(
    endpoints.map(async (endpoint): Promise<EndpointStatus> => {
      const [status, health] = await Promise.all([
        etcdctl(["endpoint", "status", "-w", "simple"], {
          files,
          endpoints: [endpoint],
          commandTimeout: "3s",
        }),
        etcdctl(["endpoint", "health"], { files, endpoints: [endpoint], commandTimeout: "3s" }),
      ]);
      if (status.code !== 0) {
        return { endpoint, healthy: false, leader: false, learner: false, error: lastLine(status.stderr) };
      }
      // endpoint, ID, version, db size, is leader, is learner, raft term, raft index, raft applied index, errors
      const f = status.stdout.trim().split(", ");
      return {
        endpoint,
        healthy: health.code === 0,
        version: f[2],
        dbSize: f[3],
        leader: f[4] === "true",
        learner: f[5] === "true",
        raftTerm: Number(f[6]),
        raftIndex: Number(f[7]),
      };
    }),
  );
}

function lastLine(s: string): string {
  return s.trim().split("\n").pop() ?? "";
}

/** The cluster's revision now: the header of a (linearizable) read. */
export async function revision(files: ClientFiles, endpoints: string[]): Promise<number> {
  const r = await etcdctl(["get", "hakube-lab/revision", "-w", "json"], { files, endpoints });
  if (r.code !== 0) throw new Error(`reading the revision failed: ${lastLine(r.stderr)}`);
  return Number((JSON.parse(r.stdout) as { header: { revision: number } }).header.revision);
}

/** How many keys `prefix` has (a linearizable read). */
export async function countKeys(files: ClientFiles, endpoints: string[], prefix: string): Promise<number> {
  // The range's count is the whole range's, whatever the limit (etcdctl 3.4 has no --count-only).
  const r = await etcdctl(["get", prefix, "--prefix", "--keys-only", "--limit=1", "-w", "json"], {
    files,
    endpoints,
  });
  if (r.code !== 0) throw new Error(`counting ${prefix} failed: ${lastLine(r.stderr)}`);
  return Number((JSON.parse(r.stdout) as { count?: number }).count ?? 0);
}
