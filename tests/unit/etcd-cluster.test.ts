import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { EtcdCluster } from "../../components/etcd/etcdCluster";
import { EtcdClusterArgs } from "../../components/etcd/types";
import { CertificateAuthority } from "../../components/pki/certificateAuthority";
import { hosts } from "./helpers/hosts";
import {
  CMD,
  CSR,
  isSecretInput,
  KEY,
  Recorder,
  resolve,
  SELF,
  SIGNED,
  underMocks,
  unwrap,
} from "./helpers/mocks";
import { commandText } from "./helpers/recorded";

const SHA = "a".repeat(64);

async function deploy(n: number, over: Partial<EtcdClusterArgs> = {}, jitterMs = 0) {
  const { rec, out: etcd } = await underMocks(
    () => new EtcdCluster("etcd", { members: hosts(n), install: { sha256: SHA }, ...over }),
    { jitterMs },
  );
  return { rec, etcd };
}

describe("EtcdCluster (mocks)", () => {
  for (const n of [1, 3, 5]) {
    it(`creates the expected children for ${n} member(s)`, async () => {
      const { rec } = await deploy(n);
      const perMember = ["install", "upgrade", "configure", "member"];
      const expectedCommands = [
        ...Array.from({ length: n }, (_, i) => perMember.map((s) => `etcd-m${i + 1}-${s}`)).flat(),
        "etcd-health",
      ].sort();
      assert.deepEqual(rec.names(CMD), expectedCommands);
      // CA (key + self-signed cert), client (key, csr, cert), and per member server + peer (key, csr, cert).
      assert.equal(rec.byType(KEY).length, 2 + 2 * n);
      assert.equal(rec.byType(CSR).length, 1 + 2 * n);
      assert.equal(rec.byType(SIGNED).length, 1 + 2 * n);
      assert.deepEqual(rec.names(SELF), ["etcd-ca-cert"]);
      assert.equal(rec.resources.length, 4 * n + 1 + 2 + 3 + 6 * n);
    });
  }

  it("orders certificates -> configure -> member -> health gate, and members one after another", async () => {
    const { rec } = await deploy(3, {}, 15);
    const after = (later: string, earlier: string) =>
      assert.ok(
        rec.get(later).registeredAt >= rec.get(earlier).resolvedAt,
        `${later} was registered before ${earlier} was created`,
      );
    for (const m of ["m1", "m2", "m3"]) {
      after(`etcd-${m}-configure`, `etcd-${m}-server-cert`);
      after(`etcd-${m}-configure`, `etcd-${m}-peer-cert`);
      after(`etcd-${m}-configure`, `etcd-${m}-install`);
      after(`etcd-${m}-member`, `etcd-${m}-configure`);
      after("etcd-health", `etcd-${m}-member`);
    }
    after("etcd-m2-member", "etcd-m1-member");
    after("etcd-m3-member", "etcd-m2-member");
    after("etcd-m2-configure", "etcd-m1-configure");
    // Installs do not wait for each other: the downloads run in parallel.
    const installs = ["m1", "m2", "m3"].map((m) => rec.get(`etcd-${m}-install`));
    assert.ok(
      Math.max(...installs.map((r) => r.registeredAt)) < Math.min(...installs.map((r) => r.resolvedAt)) + 15,
    );
  });

  it("signs server certificates for the member IP and name plus loopback, peers for IP and name", async () => {
    const { rec } = await deploy(3);
    const server = unwrap(rec.get("etcd-m2-server-csr").inputs) as Record<string, unknown>;
    assert.deepEqual(server.ipAddresses, ["10.0.0.12", "127.0.0.1"]);
    assert.deepEqual(server.dnsNames, ["m2", "localhost"]);
    const peer = unwrap(rec.get("etcd-m2-peer-csr").inputs) as Record<string, unknown>;
    assert.deepEqual(peer.ipAddresses, ["10.0.0.12"]);
    assert.deepEqual(peer.dnsNames, ["m2"]);
    const key = unwrap(rec.get("etcd-m2-peer-key").inputs) as Record<string, unknown>;
    assert.deepEqual(key, { algorithm: "ECDSA", ecdsaCurve: "P256" });
    const cert = unwrap(rec.get("etcd-m2-server-cert").inputs) as Record<string, unknown>;
    assert.deepEqual(cert.allowedUses, [
      "digital_signature",
      "key_encipherment",
      "server_auth",
      "client_auth",
    ]);
    assert.equal(cert.validityPeriodHours, 8760);
    assert.equal(cert.earlyRenewalHours, 2160);
    const client = unwrap(rec.get("etcd-client-cert").inputs) as Record<string, unknown>;
    assert.deepEqual(client.allowedUses, ["digital_signature", "key_encipherment", "client_auth"]);
  });

  it("keeps every key, connection and key-bearing input secret", async () => {
    const { rec, etcd } = await deploy(3);
    for (const r of rec.byType(CMD)) {
      assert.ok(isSecretInput(r.inputs.connection), `${r.name}: connection must be secret`);
    }
    for (const m of ["m1", "m2", "m3"]) {
      assert.ok(
        isSecretInput(rec.get(`etcd-${m}-configure`).inputs.stdin),
        `etcd-${m}-configure stdin must be secret`,
      );
      assert.equal(
        (unwrap(rec.get(`etcd-${m}-configure`).inputs) as Record<string, unknown>).logging,
        "stderr",
      );
    }
    for (const r of rec.byType(SIGNED)) {
      assert.ok(isSecretInput(r.inputs.caPrivateKeyPem), `${r.name}: CA key must be secret`);
    }
    assert.ok(await pulumi.isSecret(etcd.clientKeyPem));
    assert.ok(!(await pulumi.isSecret(etcd.clientCertPem)));
  });

  it("never puts a private key in a command line", async () => {
    const { rec } = await deploy(3);
    const stdin = unwrap(rec.get("etcd-m1-configure").inputs.stdin) as string;
    assert.match(
      Buffer.from(stdin.split(" ")[3], "base64").toString(),
      /CERTIFICATE/,
      "the bundle holds the CA",
    );
    const keyLine = stdin.split("\n").find((l) => l.startsWith("/etc/etcd/pki/server.key "));
    assert.ok(keyLine, "the server key travels on stdin");
    assert.match(Buffer.from(keyLine.split(" ")[3], "base64").toString(), /FAKE-PRIVATE-KEY/);
    for (const r of rec.byType(CMD)) {
      assert.doesNotMatch(
        commandText(r),
        /PRIVATE-KEY|PRIVATE KEY/,
        `${r.name} carries a key in its command`,
      );
      assert.doesNotMatch(JSON.stringify(unwrap(r.inputs.environment ?? {})), /PRIVATE/);
    }
  });

  it("feeds the roster on stdin and rolls out the same member script on update", async () => {
    const { rec } = await deploy(3);
    const member = unwrap(rec.get("etcd-m3-member").inputs) as Record<string, string>;
    assert.equal(member.create, member.update);
    assert.equal(member.stdin.split("\n").filter(Boolean).length, 3);
    assert.match(member.delete, /member remove/);
    const gate = unwrap(rec.get("etcd-health").inputs) as Record<string, unknown>;
    assert.equal((gate.connection as Record<string, unknown>).host, "10.0.0.11");
    // Each member's upgrade, configure and member step.
    assert.equal((gate.triggers as unknown[]).length, 9);
  });

  it("exposes endpoints, names and the CA", async () => {
    const { etcd } = await deploy(3);
    assert.deepEqual(await resolve(etcd.clientEndpoints), [
      "https://10.0.0.11:2379",
      "https://10.0.0.12:2379",
      "https://10.0.0.13:2379",
    ]);
    assert.deepEqual(await resolve(etcd.memberNames), ["m1", "m2", "m3"]);
    assert.match(await resolve(etcd.caCertPem), /etcd-ca-cert/);
  });

  it("uses a CA it is given instead of making one", async () => {
    const rec = new Recorder();
    await rec.install();
    const ca = new CertificateAuthority("shared-ca", { commonName: "shared" });
    new EtcdCluster("etcd", { members: hosts(3), install: { sha256: SHA }, ca });
    await rec.idle();
    assert.deepEqual(rec.names(SELF), ["shared-ca-cert"]);
    const signed = unwrap(rec.get("etcd-m1-server-cert").inputs) as Record<string, unknown>;
    assert.match(String(signed.caCertPem), /shared-ca-cert/);
  });

  it("refuses bad args before creating anything, naming argument and value", async () => {
    const rec = new Recorder();
    await rec.install();
    assert.throws(
      () => new EtcdCluster("etcd", { members: hosts(3), install: { sha256: SHA }, peerPort: 2379 }),
      (e: Error) =>
        pulumi.InputPropertiesError.isInstance(e) &&
        /peerPort must differ from clientPort, both are 2379/.test(e.message),
    );
    await rec.idle();
    assert.equal(rec.resources.length, 0);
  });
});

describe("host commands (mocks)", () => {
  it("never ask for the previous output in the environment (it needs AcceptEnv in sshd)", async () => {
    const { rec } = await deploy(3);
    const commands = rec.byType(CMD);
    assert.ok(commands.length > 0);
    for (const r of commands) {
      assert.equal((unwrap(r.inputs) as Record<string, unknown>).addPreviousOutputInEnv, false, r.name);
    }
  });
});
