/**
 * The Pulumi program of this repository (Pulumi.yaml's `main`): selects the environment's stack by the
 * config key `hakube:platform`. Each stack is a thin program under stacks/<platform>/.
 */
import * as pulumi from "@pulumi/pulumi";
import { labStack, LabEtcdReleaseArgs, LabHostArgs } from "./lab/program";

const config = new pulumi.Config("hakube");
const platform = config.require("platform");

function lab() {
  return labStack({
    hosts: config.requireObject<LabHostArgs[]>("hosts"),
    privateKey: config.requireSecret("sshPrivateKey"),
    etcdMembers: config.requireObject<string[]>("etcdMembers"),
    etcdRelease: config.requireObject<LabEtcdReleaseArgs>("etcdRelease"),
  });
}

const programs: Record<string, () => Record<string, unknown>> = { lab };
const program = programs[platform];
if (!program) {
  throw new Error(
    `hakube:platform must be one of ${Object.keys(programs).join(", ")}, got ${JSON.stringify(platform)}`,
  );
}
module.exports = program();
