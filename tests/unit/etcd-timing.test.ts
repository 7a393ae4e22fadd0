import { strict as assert } from "node:assert";
import { buildEnv } from "../../components/etcd/render/config";
import { resolveEtcdCluster, resolveEtcdTimings } from "../../components/etcd/settings";
import { EtcdClusterArgs, EtcdTimingProfile } from "../../components/etcd/types";
import { validateEtcdClusterArgs } from "../../components/etcd/validate";
import { hosts } from "./helpers/hosts";

const base = (over: Partial<EtcdClusterArgs> = {}): EtcdClusterArgs => ({ members: hosts(3), ...over });
const env = (over: Partial<EtcdClusterArgs>) =>
  Object.fromEntries(buildEnv(resolveEtcdCluster("etcd", base(over) as never, "tok").members[0]));
const errors = (a: EtcdClusterArgs) =>
  validateEtcdClusterArgs(a).errors.map((e) => `${e.path}: ${e.message}`);

describe("EtcdCluster timing profiles", () => {
  it("defaults to etcd's upstream timings without pre-vote", () => {
    const e = env({});
    assert.equal(e.ETCD_HEARTBEAT_INTERVAL, "100");
    assert.equal(e.ETCD_ELECTION_TIMEOUT, "1000");
    assert.equal(e.ETCD_PRE_VOTE, undefined);
  });
  it("Fast: 100/500 ms with pre-vote on (3.4 has it off by default)", () => {
    const e = env({ timingProfile: EtcdTimingProfile.Fast });
    assert.deepEqual(
      [e.ETCD_HEARTBEAT_INTERVAL, e.ETCD_ELECTION_TIMEOUT, e.ETCD_PRE_VOTE],
      ["100", "500", "true"],
    );
  });
  it("Wan: kubespray's 250/5000 ms", () => {
    const e = env({ timingProfile: "Wan" });
    assert.deepEqual(
      [e.ETCD_HEARTBEAT_INTERVAL, e.ETCD_ELECTION_TIMEOUT, e.ETCD_PRE_VOTE],
      ["250", "5000", undefined],
    );
  });
  it("explicit timings and extraFlags override the profile's", () => {
    assert.deepEqual(resolveEtcdTimings({ timingProfile: "Fast", electionTimeoutMs: 800 }), {
      heartbeatIntervalMs: 100,
      electionTimeoutMs: 800,
      preVote: true,
    });
    assert.equal(env({ timingProfile: "Fast", extraFlags: { "pre-vote": "false" } }).ETCD_PRE_VOTE, "false");
  });
  it("checks overrides against the profile's other value, and refuses an unknown profile", () => {
    assert.deepEqual(errors(base({ timingProfile: "Wan", electionTimeoutMs: 1000 })), [
      "electionTimeoutMs: electionTimeoutMs must be at least 5x heartbeatIntervalMs (1250), got 1000 with heartbeatIntervalMs 250",
    ]);
    assert.deepEqual(errors(base({ timingProfile: "Quick" as never })), [
      'timingProfile: timingProfile must be one of Upstream, Fast, Wan, got "Quick"',
    ]);
    assert.deepEqual(errors(base({ timingProfile: "Fast" })), []);
  });
});
