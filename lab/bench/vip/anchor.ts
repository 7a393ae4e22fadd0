/** Puts an anchor (lab/bench/anchors.ts) in place on every master, over SSH, after a normal hakube deploy. */
import { ssh } from "../../hosts";
import { heredoc } from "../../../components/shell";
import { DEFAULT_HAPROXY_HEALTH_PORT } from "../../../components/loadbalancer/defaults";
import { LAB_API_PORT } from "../../stack/program";
import { AnchorKind, anchorFiles, anchorReplaces, anchorSetup, AnchorSite } from "../anchors";
import { LAB_IFACE } from "./monitor";
import { Ctx } from "./steady";

/** kube-apiserver's port on every master (kubeadm's default). */
const API_SERVER_PORT = 6443;
/** The lab's VRRP group (lab/stack/program.ts). */
const VIRTUAL_ROUTER_ID = 51;

/** Writes the anchor's files on every master over SSH and (re)starts what it replaces. */
export async function applyAnchor(ctx: Ctx, kind: AnchorKind): Promise<void> {
  const { keepalived, haproxy } = anchorReplaces(kind);
  const site: AnchorSite = {
    hosts: ctx.masters.map((name) => ({
      name,
      address: ctx.lab.hosts.find((h) => h.name === name)!.address,
    })),
    vip: ctx.vip,
    port: LAB_API_PORT,
    apiPort: API_SERVER_PORT,
    interface: LAB_IFACE,
    virtualRouterId: VIRTUAL_ROUTER_ID,
    apiCaFile: "/etc/kubernetes/pki/ca.crt",
    adminKubeconfig: "/etc/kubernetes/admin.conf",
    scriptUser: "keepalived_script",
  };
  const sshMust = async (host: string, cmd: string) => {
    const r = await ssh(ctx.lab, host, cmd, { timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(`${host}: anchor ${kind}: rc ${r.code}: ${r.stderr.trim()}`);
    return r.stdout;
  };
  // keepalived off everywhere first, so that hakube's VRRPv3 members never meet the anchor's.
  if (keepalived) await Promise.all(site.hosts.map((h) => sshMust(h.name, "systemctl stop keepalived")));
  for (const [i, h] of site.hosts.entries()) {
    const writes = anchorFiles(kind, site, i, DEFAULT_HAPROXY_HEALTH_PORT).map((f) =>
      heredoc(`install -m ${f.mode} /dev/stdin ${f.path}`, f.content),
    );
    const steps = ["set -eu", ...anchorSetup(kind, site), ...writes];
    if (haproxy) {
      steps.push("haproxy -c -q -f /etc/haproxy/haproxy.cfg", "systemctl restart haproxy");
    }
    if (keepalived) {
      // The distribution's keepalived.service again (the anchors run it as their guides say: enable --now).
      steps.push(
        "rm -f /etc/systemd/system/keepalived.service /etc/keepalived/hakube-check.sh",
        "systemctl daemon-reload",
        "systemctl enable --now keepalived",
      );
    }
    const out = await sshMust(h.name, steps.join("\n"));
    if (out.trim()) ctx.log(`      ${h.name}: ${out.trim()}`);
  }
}
