/**
 * hakube's policy pack: `pulumi preview --policy-pack policy/` (see README.md, "Policy pack"). Each
 * policy's enforcement level can be overridden with `--policy-pack-config <file.json>`, e.g.
 * { "hakube-encrypted-volumes": "advisory" }.
 */
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies";

new PolicyPack("hakube", {
  description:
    "The invariants of a highly available Kubernetes control plane, for stacks with or without hakube.",
  policies,
});
