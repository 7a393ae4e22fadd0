/**
 * The Kubernetes API as kubectl reaches it with the kubeconfig HaControlPlane output: HTTPS to its server
 * (the VIP), the server verified against the kubeconfig's CA, the client certificate presented. For the
 * tests and benchmarks, which need many small requests (kubectl costs a process each).
 */
import * as fs from "node:fs";
import * as https from "node:https";
import * as yaml from "js-yaml";

/** What a kubeconfig gives a client. */
export interface KubeCredentials {
  /** "https://10.77.0.10:8443" */
  server: string;
  ca: string;
  cert: string;
  key: string;
}

interface Kubeconfig {
  clusters: Array<{ cluster: { server: string; "certificate-authority-data": string } }>;
  users: Array<{ user: { "client-certificate-data": string; "client-key-data": string } }>;
}

/** The first cluster and user of a kubeconfig (HaControlPlane writes exactly one of each). */
export function readKubeconfig(fileOrText: string): KubeCredentials {
  const text = fileOrText.includes("\n") ? fileOrText : fs.readFileSync(fileOrText, "utf8");
  const k = yaml.load(text) as Kubeconfig;
  const b64 = (s: string) => Buffer.from(s, "base64").toString("utf8");
  return {
    server: k.clusters[0].cluster.server,
    ca: b64(k.clusters[0].cluster["certificate-authority-data"]),
    cert: b64(k.users[0].user["client-certificate-data"]),
    key: b64(k.users[0].user["client-key-data"]),
  };
}

export interface ApiResponse {
  status: number;
  body: string;
  ms: number;
  error?: string;
}

/** One request on a new connection; never throws (a transport error is status 0 with `error`). */
export function apiRequest(
  creds: KubeCredentials,
  method: string,
  path: string,
  body?: unknown,
  timeoutMs = 5000,
): Promise<ApiResponse> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    let done = false;
    const finish = (r: Omit<ApiResponse, "ms">) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ ...r, ms: Date.now() - t0 });
    };
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = https.request(
      `${creds.server}${path}`,
      {
        method,
        ca: creds.ca,
        cert: creds.cert,
        key: creds.key,
        agent: false,
        headers: data
          ? { "content-type": "application/json", "content-length": Buffer.byteLength(data) }
          : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          finish({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
        );
        res.on("error", (e) => finish({ status: 0, body: "", error: e.message }));
      },
    );
    req.on("error", (e) => finish({ status: 0, body: "", error: e.message }));
    const timer = setTimeout(() => {
      finish({ status: 0, body: "", error: "timeout" });
      req.destroy();
    }, timeoutMs);
    req.end(data);
  });
}

/** A kube-system lease as its holder last wrote it. */
export interface Lease {
  /** The holder's node ("m2" of "m2_<uuid>"), or null when nobody holds it. */
  holder: string | null;
  /** When the holder acquired it (ms since the epoch; the holder's clock). */
  acquiredAt?: number;
  leaseDurationSeconds?: number;
  /** How many times the lease changed hands since it was made (spec.leaseTransitions). */
  transitions: number;
}

/** Reads a kube-system lease (kube-controller-manager, kube-scheduler); undefined when unreadable. */
export async function readLease(creds: KubeCredentials, name: string): Promise<Lease | undefined> {
  const r = await apiRequest(
    creds,
    "GET",
    `/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/${name}`,
    undefined,
    3000,
  );
  if (r.status !== 200) return undefined;
  type Spec = {
    holderIdentity?: string;
    acquireTime?: string;
    leaseDurationSeconds?: number;
    leaseTransitions?: number;
  };
  const spec = (JSON.parse(r.body) as { spec?: Spec }).spec ?? {};
  return {
    holder: spec.holderIdentity ? spec.holderIdentity.split("_")[0] : null,
    acquiredAt: spec.acquireTime ? Date.parse(spec.acquireTime) : undefined,
    leaseDurationSeconds: spec.leaseDurationSeconds,
    transitions: spec.leaseTransitions ?? 0,
  };
}

/** The holder of a kube-system lease ("m2_<uuid>" -> "m2"), or null when unreadable. */
export async function leaseHolderVia(creds: KubeCredentials, name: string): Promise<string | null> {
  return (await readLease(creds, name))?.holder ?? null;
}
