import { strict as assert } from "node:assert";
import { InstallMethod } from "../../components/install";
import { EtcdClusterArgs } from "../../components/etcd/types";
import { validateEtcdClusterArgs } from "../../components/etcd/validate";
import { hosts } from "./helpers/hosts";

const SHA = "a".repeat(64);
function args(over: Partial<EtcdClusterArgs> = {}): EtcdClusterArgs {
  return { members: hosts(3), install: { sha256: SHA }, ...over };
}
function errors(a: EtcdClusterArgs | undefined) {
  return validateEtcdClusterArgs(a).errors.map((e) => `${e.path}: ${e.message}`);
}
function warnings(a: EtcdClusterArgs) {
  return validateEtcdClusterArgs(a).warnings.map((e) => e.message);
}

describe("EtcdCluster validation", () => {
  it("accepts 3 members with the defaults and a checksum", () => {
    assert.deepEqual(validateEtcdClusterArgs(args()), { errors: [], warnings: [] });
  });
  it("refuses missing args", () => {
    assert.deepEqual(errors(undefined), [": args must be an object with members, got undefined"]);
  });
  it("refuses an empty member list", () => {
    assert.deepEqual(errors(args({ members: [] })), ["members: members must list at least one host, got []"]);
  });
  it("refuses duplicate names and addresses", () => {
    const m = hosts(3);
    m[2] = { ...m[2], name: "m1", address: "10.0.0.11" };
    assert.deepEqual(errors(args({ members: m })), [
      'members[2].name: members[2].name "m1" is already used by members[0]',
      'members[2].address: members[2].address "10.0.0.11" is already used by members[0]',
    ]);
  });
  it("warns on even counts with the fault tolerance", () => {
    assert.deepEqual(warnings(args({ members: hosts(4) })), [
      "members has an even count (4): 4 members need a quorum of 3 and tolerate 1 failure, no more than 3 would; use an odd number (1, 3, 5, 7)",
    ]);
  });
  it("warns that 1 and 2 members tolerate no failure", () => {
    assert.deepEqual(warnings(args({ members: hosts(1) })), [
      "members has 1: 1 member needs a quorum of 1 and tolerates no failure; use 3 or more for high availability",
    ]);
    assert.equal(warnings(args({ members: hosts(2) })).length, 2);
    assert.match(
      warnings(args({ members: hosts(2) }))[1],
      /2 members need a quorum of 2 and tolerate no failure/,
    );
  });
  it("warns above 7 members", () => {
    assert.deepEqual(warnings(args({ members: hosts(9) })), [
      "members has 9: 9 members need a quorum of 5 and tolerate 4 failures, but every write waits for 5 members; etcd advises at most 7",
    ]);
  });
  it("refuses ports out of range and equal ports", () => {
    assert.deepEqual(errors(args({ clientPort: 0 })), [
      "clientPort: clientPort must be a port number 1-65535, got 0",
    ]);
    assert.deepEqual(errors(args({ peerPort: 70000 })), [
      "peerPort: peerPort must be a port number 1-65535, got 70000",
    ]);
    assert.deepEqual(errors(args({ peerPort: 2379 })), [
      "peerPort: peerPort must differ from clientPort, both are 2379",
    ]);
    assert.deepEqual(errors(args({ metricsPort: 2380 })), [
      "metricsPort: metricsPort must differ from peerPort, both are 2380",
    ]);
  });
  it("requires the election timeout to be at least 5x the heartbeat", () => {
    assert.deepEqual(errors(args({ heartbeatIntervalMs: 250, electionTimeoutMs: 1000 })), [
      "electionTimeoutMs: electionTimeoutMs must be at least 5x heartbeatIntervalMs (1250), got 1000 with heartbeatIntervalMs 250",
    ]);
    assert.deepEqual(errors(args({ heartbeatIntervalMs: 250, electionTimeoutMs: 1250 })), []);
    assert.deepEqual(errors(args({ heartbeatIntervalMs: 0 })), [
      "heartbeatIntervalMs: heartbeatIntervalMs must be a positive whole number of milliseconds, got 0",
    ]);
    assert.deepEqual(errors(args({ electionTimeoutMs: 60000 })), [
      "electionTimeoutMs: electionTimeoutMs must be at most 50000 (etcd's limit), got 60000",
    ]);
  });
  it("requires a sha256 for release installs and nothing release-only for others", () => {
    assert.deepEqual(errors(args({ install: {} })), [], "the default version's official sha256 is known");
    assert.deepEqual(errors(args({ version: "3.6.14", install: { arch: "arm64" } })), []);
    assert.deepEqual(errors(args({ version: "3.4.23", install: {} })), [
      "install.sha256: install.sha256 is required for etcd 3.4.23 on amd64: hakube knows the official sha256 of the releases 3.5.6 to 3.6.14 (amd64, arm64) only; give the release tarball's sha256 (64 lower-case hex digits) so that nothing unverified is installed, got undefined",
    ]);
    assert.deepEqual(errors(args({ install: { method: InstallMethod.Package, sha256: SHA } })), [
      'install.sha256: install.sha256 only applies to install.method "release", got it with "package"',
    ]);
    assert.deepEqual(errors(args({ install: { method: InstallMethod.Preinstalled } })), []);
    assert.deepEqual(errors(args({ install: { method: "docker" as InstallMethod } })), [
      'install.method: install.method must be one of release, package, preinstalled, got "docker"',
    ]);
    assert.deepEqual(errors(args({ install: { sha256: SHA, baseUrl: "ftp://x" } })), [
      'install.baseUrl: install.baseUrl must be an http(s) URL without spaces, quotes or backslashes, got "ftp://x"',
    ]);
  });
  it("checks the version format and minimum", () => {
    assert.deepEqual(errors(args({ version: "3.5" })), [
      'version: version must look like "3.5.21" (or "v3.5.21"), got "3.5"',
    ]);
    assert.deepEqual(errors(args({ version: "3.3.27" })), [
      'version: version must be 3.4 or later (hakube joins members as learners), got "3.3.27"',
    ]);
    assert.deepEqual(errors(args({ version: "v3.4.23" })), []);
  });
  it("refuses relative paths and odd characters", () => {
    assert.deepEqual(errors(args({ dataDir: "var/lib/etcd" })), [
      "dataDir: dataDir must be an absolute path of letters, digits, '.', '_', '-' and '/', got \"var/lib/etcd\"",
    ]);
    assert.equal(errors(args({ dataDir: "/var/lib/$(reboot)" })).length, 1);
  });
  it("refuses extra flags that hakube manages or that could break the env file", () => {
    assert.deepEqual(errors(args({ extraFlags: { "client-cert-auth": "false" } })), [
      'extraFlags["client-cert-auth"]: extraFlags may not set "client-cert-auth": hakube manages it (see EtcdClusterArgs)',
    ]);
    assert.deepEqual(errors(args({ extraFlags: { "--quota-backend-bytes": "1" } })), [
      'extraFlags["--quota-backend-bytes"]: extraFlags keys must be etcd flag names without dashes in front, such as "auto-compaction-retention", got "--quota-backend-bytes"',
    ]);
    assert.deepEqual(errors(args({ extraFlags: { "auto-compaction-retention": "8\nETCD_X=1" } })), [
      'extraFlags["auto-compaction-retention"]: extraFlags["auto-compaction-retention"] must be a string without quotes, backslashes or line breaks, got "8\\nETCD_X=1"',
    ]);
    assert.deepEqual(errors(args({ extraFlags: { "auto-compaction-retention": "8" } })), []);
  });
  it("reports every problem at once", () => {
    assert.equal(errors(args({ members: [], clientPort: -1, version: "3.4.23", install: {} })).length, 3);
  });
});
