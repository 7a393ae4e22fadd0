/**
 * kubectl on this machine, talking to the lab's cluster through its VIP with the kubeconfig that
 * HaControlPlane output (the one users get). The binary is the lab's own Kubernetes build (lab/hosts/
 * kubernetes.ts), so it matches the cluster's version.
 */
import { spawn } from "node:child_process";
import * as path from "node:path";
import { cacheDir } from "./hosts/paths";
import { LAB_KUBERNETES_VERSION } from "./hosts/kubernetes";

/** The lab's kubectl (unpacked by createLab with kubernetes). */
export function kubectlPath(): string {
  return path.join(
    cacheDir(),
    "release",
    "kubernetes",
    `v${LAB_KUBERNETES_VERSION}`,
    "bin",
    "linux",
    "amd64",
    "kubectl",
  );
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs kubectl with the kubeconfig; never throws on a non-zero exit. */
export function kubectl(
  kubeconfig: string,
  args: string[],
  opts: { input?: string; timeoutMs?: number } = {},
): Promise<KubectlResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const p = spawn(kubectlPath(), [`--kubeconfig=${kubeconfig}`, ...args], {
      env: { PATH: "/usr/bin:/bin", HOME: "/root" },
    });
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(() => p.kill("SIGKILL"), opts.timeoutMs ?? 30_000);
    p.stdout.on("data", (d) => (stdout += d));
    p.stderr.on("data", (d) => (stderr += d));
    p.on("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`kubectl could not start (${e.message}): create the lab with Kubernetes first`));
    });
    p.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr, ms: Date.now() - started });
    });
    p.stdin.on("error", () => undefined);
    p.stdin.end(opts.input ?? "");
  });
}

/** kubectl that must succeed; returns stdout. */
export async function kubectlOk(
  kubeconfig: string,
  args: string[],
  opts: { input?: string; timeoutMs?: number } = {},
) {
  const r = await kubectl(kubeconfig, args, opts);
  if (r.code !== 0)
    throw new Error(`kubectl ${args.join(" ")} exited ${r.code}: ${r.stderr.trim().slice(-500)}`);
  return r.stdout;
}

/** One node as `kubectl get nodes` sees it. */
export interface NodeStatus {
  name: string;
  ready: boolean;
  roles: string[];
  version: string;
  address: string;
  podCidr?: string;
}

export async function nodeStatus(kubeconfig: string): Promise<NodeStatus[]> {
  const out = await kubectlOk(kubeconfig, ["get", "nodes", "-o", "json"], { timeoutMs: 10_000 });
  const items = (JSON.parse(out) as { items: K8sNode[] }).items;
  return items.map((n) => ({
    name: n.metadata.name,
    ready: n.status.conditions.some((c) => c.type === "Ready" && c.status === "True"),
    roles: Object.keys(n.metadata.labels ?? {})
      .filter((l) => l.startsWith("node-role.kubernetes.io/"))
      .map((l) => l.slice("node-role.kubernetes.io/".length)),
    version: n.status.nodeInfo.kubeletVersion,
    address: n.status.addresses.find((a) => a.type === "InternalIP")?.address ?? "",
    podCidr: n.spec.podCIDR,
  }));
}

interface K8sNode {
  metadata: { name: string; labels?: Record<string, string> };
  spec: { podCIDR?: string };
  status: {
    conditions: Array<{ type: string; status: string }>;
    nodeInfo: { kubeletVersion: string };
    addresses: Array<{ type: string; address: string }>;
  };
}

/** Who holds a kube-system leader lease (kube-controller-manager, kube-scheduler): "m2_<uuid>" -> "m2". */
export async function leaseHolder(kubeconfig: string, name: string): Promise<string | null> {
  const r = await kubectl(
    kubeconfig,
    ["-n", "kube-system", "get", "lease", name, "-o", "jsonpath={.spec.holderIdentity}"],
    { timeoutMs: 10_000 },
  );
  if (r.code !== 0 || r.stdout.trim() === "") return null;
  return r.stdout.trim().split("_")[0];
}
