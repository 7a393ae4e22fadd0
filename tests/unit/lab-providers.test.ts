/**
 * Tests of the lab's stand-in @pulumi/tls and @pulumi/random providers (lab/providers): the keys,
 * certificates and random values must be real, checked with openssl, node:crypto, node:tls and ssh2.
 */
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { createHash, createPrivateKey, createPublicKey, X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tls from "node:tls";
import { utils as sshUtils } from "ssh2";
import type { ParsedKey } from "ssh2";
import { create, handles, secretOutputs } from "../../lab/providers";
import {
  CSR,
  KEY,
  RANDOM_BYTES,
  RANDOM_ID,
  RANDOM_PASSWORD,
  RANDOM_STRING,
  SELF,
  SIGNED,
} from "./helpers/mocks";

const SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
const CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";

type Outputs = Record<string, unknown>;
type KeySpec = Record<string, unknown>;

async function outputs(type: string, inputs: Record<string, unknown>): Promise<Outputs> {
  return (await create(type, inputs)).outputs;
}

function text(values: Outputs, name: string): string {
  const value = values[name];
  assert.equal(typeof value, "string", `output ${name} should be a string`);
  return value as string;
}

interface Issued {
  keyPem: string;
  certPem: string;
}

async function makeCa(key: KeySpec, commonName: string): Promise<Issued> {
  const keyPem = text(await outputs(KEY, key), "privateKeyPem");
  const cert = await outputs(SELF, {
    privateKeyPem: keyPem,
    subject: { commonName, organization: "hakube lab" },
    validityPeriodHours: 48,
    isCaCertificate: true,
    allowedUses: ["cert_signing", "crl_signing", "digital_signature"],
  });
  return { keyPem, certPem: text(cert, "certPem") };
}

interface LeafRequest {
  key: KeySpec;
  commonName: string;
  dnsNames?: string[];
  ipAddresses?: string[];
  allowedUses: string[];
  validityPeriodHours?: number;
}

async function issue(ca: Issued, request: LeafRequest): Promise<Issued & { cert: Outputs }> {
  const keyPem = text(await outputs(KEY, request.key), "privateKeyPem");
  const csr = await outputs(CSR, {
    privateKeyPem: keyPem,
    subject: { commonName: request.commonName, organization: "hakube" },
    dnsNames: request.dnsNames,
    ipAddresses: request.ipAddresses,
  });
  const cert = await outputs(SIGNED, {
    certRequestPem: text(csr, "certRequestPem"),
    caCertPem: ca.certPem,
    caPrivateKeyPem: ca.keyPem,
    validityPeriodHours: request.validityPeriodHours ?? 24,
    allowedUses: request.allowedUses,
  });
  return { keyPem, certPem: text(cert, "certPem"), cert };
}

function openssl(args: string[]): string {
  return execFileSync("openssl", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** Runs `body` with a fresh temporary directory, removed afterwards. */
function withTempDir<T>(body: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), "lab-providers-"));
  try {
    return body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function opensslVerify(caPem: string, certPem: string): boolean {
  return withTempDir((dir) => {
    writeFileSync(join(dir, "ca.pem"), caPem);
    writeFileSync(join(dir, "cert.pem"), certPem);
    try {
      return openssl(["verify", "-CAfile", join(dir, "ca.pem"), join(dir, "cert.pem")]).includes(": OK");
    } catch {
      return false;
    }
  });
}

function opensslText(certPem: string): string {
  return withTempDir((dir) => {
    writeFileSync(join(dir, "cert.pem"), certPem);
    return openssl(["x509", "-in", join(dir, "cert.pem"), "-noout", "-text"]);
  });
}

/** The hex key id printed by `openssl x509 -text` under the given extension heading. */
function keyIdAfter(opensslOutput: string, heading: string): string | undefined {
  const match = new RegExp(`${heading}:\\s*\\n\\s*(?:keyid:)?([0-9A-F:]+)`).exec(opensslOutput);
  return match?.[1];
}

/** A mutual-TLS exchange on 127.0.0.1: resolves with the server's greeting, rejects on failure. */
async function mtlsExchange(caPem: string, server: Issued, client: Issued): Promise<string> {
  const listener = tls.createServer(
    { key: server.keyPem, cert: server.certPem, ca: [caPem], requestCert: true, rejectUnauthorized: true },
    (socket) => socket.end("hello from server"),
  );
  listener.on("tlsClientError", () => undefined);
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  const { port } = listener.address() as AddressInfo;
  try {
    return await new Promise<string>((resolve, reject) => {
      const socket = tls.connect({
        host: "127.0.0.1",
        port,
        ca: [caPem],
        key: client.keyPem,
        cert: client.certPem,
      });
      let received = "";
      socket.setEncoding("utf8");
      socket.setTimeout(3000, () => socket.destroy(new Error("timeout")));
      socket.on("data", (chunk: string) => (received += chunk));
      socket.on("error", reject);
      socket.on("close", () => {
        if (received) resolve(received);
        else reject(new Error("connection closed before the server's greeting"));
      });
    });
  } finally {
    await new Promise((resolve) => listener.close(resolve));
  }
}

function parseSshKey(data: string): ParsedKey {
  const parsed = sshUtils.parseKey(data);
  if (parsed instanceof Error) throw parsed;
  return parsed;
}

describe("lab providers: tls PrivateKey", () => {
  const cases: { name: string; inputs: KeySpec; pemLabel: string; sshType: string }[] = [
    { name: "RSA", inputs: { algorithm: "RSA" }, pemLabel: "RSA PRIVATE KEY", sshType: "ssh-rsa" },
    {
      name: "ECDSA P256",
      inputs: { algorithm: "ECDSA", ecdsaCurve: "P256" },
      pemLabel: "EC PRIVATE KEY",
      sshType: "ecdsa-sha2-nistp256",
    },
    {
      name: "ECDSA P384",
      inputs: { algorithm: "ECDSA", ecdsaCurve: "P384" },
      pemLabel: "EC PRIVATE KEY",
      sshType: "ecdsa-sha2-nistp384",
    },
    { name: "ED25519", inputs: { algorithm: "ED25519" }, pemLabel: "PRIVATE KEY", sshType: "ssh-ed25519" },
  ];

  for (const { name, inputs, pemLabel, sshType } of cases) {
    it(`${name}: PEM flavours, public key and id agree`, async () => {
      const { id, outputs: out } = await create(KEY, inputs);
      const privateKeyPem = text(out, "privateKeyPem");
      assert.match(
        privateKeyPem,
        new RegExp(`^-----BEGIN ${pemLabel}-----\\n[\\s\\S]+-----END ${pemLabel}-----\\n$`),
      );
      assert.match(text(out, "privateKeyPemPkcs8"), /^-----BEGIN PRIVATE KEY-----\n/);
      const derived = createPublicKey(createPrivateKey(privateKeyPem)).export({
        type: "spki",
        format: "pem",
      });
      assert.equal(text(out, "publicKeyPem"), derived);
      const spki = createPublicKey(text(out, "publicKeyPem")).export({ type: "spki", format: "der" });
      assert.equal(id, createHash("sha1").update(spki).digest("hex"));
      assert.equal(out.algorithm, inputs.algorithm);
    });

    it(`${name}: OpenSSH keys parse with ssh2, match, and sign/verify`, async () => {
      const out = await outputs(KEY, inputs);
      const publicLine = text(out, "publicKeyOpenssh");
      assert.match(publicLine, new RegExp(`^${sshType} [A-Za-z0-9+/]+=*\\n$`));
      assert.match(text(out, "privateKeyOpenssh"), /^-----BEGIN OPENSSH PRIVATE KEY-----\n/);
      const privateKey = parseSshKey(text(out, "privateKeyOpenssh"));
      const publicKey = parseSshKey(publicLine);
      assert.equal(privateKey.type, sshType);
      assert.ok(privateKey.isPrivateKey());
      const blob = Buffer.from(publicLine.split(" ")[1], "base64");
      assert.deepEqual(privateKey.getPublicSSH(), blob);
      assert.deepEqual(publicKey.getPublicSSH(), blob);
      const fromOpenssh = createPrivateKey(privateKey.getPrivatePEM()).export({ format: "jwk" });
      assert.deepEqual(fromOpenssh, createPrivateKey(text(out, "privateKeyPem")).export({ format: "jwk" }));
      const data = Buffer.from("lab login challenge");
      assert.ok(publicKey.verify(data, privateKey.sign(data)));
      const sha256 = createHash("sha256").update(blob).digest("base64").replace(/=+$/, "");
      assert.equal(out.publicKeyFingerprintSha256, `SHA256:${sha256}`);
      const md5 = createHash("md5").update(blob).digest("hex").match(/../g)?.join(":");
      assert.equal(out.publicKeyFingerprintMd5, md5);
    });
  }

  it("honours rsaBits", async () => {
    const out = await outputs(KEY, { algorithm: "RSA", rsaBits: 3072 });
    const key = createPrivateKey(text(out, "privateKeyPem"));
    assert.equal(key.asymmetricKeyDetails?.modulusLength, 3072);
    assert.equal(out.rsaBits, 3072);
  });

  it("rejects a missing, P224 or unknown ecdsaCurve and an unknown algorithm, naming the input", async () => {
    await assert.rejects(create(KEY, { algorithm: "ECDSA" }), /PrivateKey: input "ecdsaCurve".*P224/);
    await assert.rejects(
      create(KEY, { algorithm: "ECDSA", ecdsaCurve: "P224" }),
      /input "ecdsaCurve" "P224" is not supported.*WebCrypto/,
    );
    await assert.rejects(create(KEY, { algorithm: "ECDSA", ecdsaCurve: "P999" }), /input "ecdsaCurve"/);
    await assert.rejects(
      create(KEY, { algorithm: "DSA" }),
      /input "algorithm" must be RSA, ECDSA or ED25519/,
    );
    await assert.rejects(create(KEY, {}), /input "algorithm" is required/);
  });

  it("marks the private key outputs secret", () => {
    assert.deepEqual(secretOutputs(KEY).sort(), ["privateKeyOpenssh", "privateKeyPem", "privateKeyPemPkcs8"]);
  });
});

describe("lab providers: tls certificate chain", () => {
  let ca: Issued;
  let otherCa: Issued;
  let server: Issued & { cert: Outputs };
  let client: Issued & { cert: Outputs };
  let foreignClient: Issued;
  let serverOnlyClient: Issued;

  before(async () => {
    ca = await makeCa({ algorithm: "RSA" }, "hakube lab CA");
    otherCa = await makeCa({ algorithm: "ECDSA", ecdsaCurve: "P384" }, "other CA");
    server = await issue(ca, {
      key: { algorithm: "ECDSA", ecdsaCurve: "P256" },
      commonName: "server",
      dnsNames: ["server.lab.test", "localhost"],
      ipAddresses: ["127.0.0.1", "10.0.0.5"],
      allowedUses: ["digital_signature", "key_encipherment", "server_auth"],
      validityPeriodHours: 10,
    });
    client = await issue(ca, {
      key: { algorithm: "ED25519" },
      commonName: "client",
      allowedUses: ["digital_signature", "client_auth"],
    });
    serverOnlyClient = await issue(ca, {
      key: { algorithm: "ECDSA", ecdsaCurve: "P256" },
      commonName: "not a client",
      allowedUses: ["digital_signature", "server_auth"],
    });
    foreignClient = await issue(otherCa, {
      key: { algorithm: "ECDSA", ecdsaCurve: "P256" },
      commonName: "client",
      allowedUses: ["digital_signature", "client_auth"],
    });
  });

  it("verifies with openssl verify -CAfile, and not against another CA", () => {
    assert.ok(opensslVerify(ca.certPem, ca.certPem), "CA");
    assert.ok(opensslVerify(ca.certPem, server.certPem), "server");
    assert.ok(opensslVerify(ca.certPem, client.certPem), "client");
    assert.ok(opensslVerify(otherCa.certPem, foreignClient.certPem), "foreign client, own CA");
    assert.equal(opensslVerify(ca.certPem, foreignClient.certPem), false, "foreign client, our CA");
  });

  it("issues exactly the requested SANs, EKUs and key usages, with CA flags", () => {
    const cert = new X509Certificate(server.certPem);
    assert.equal(
      cert.subjectAltName,
      "DNS:server.lab.test, DNS:localhost, IP Address:127.0.0.1, IP Address:10.0.0.5",
    );
    assert.deepEqual(cert.keyUsage, [SERVER_AUTH]);
    assert.deepEqual(new X509Certificate(client.certPem).keyUsage, [CLIENT_AUTH]);
    assert.equal(new X509Certificate(client.certPem).subjectAltName, undefined);
    assert.equal(cert.ca, false);
    assert.equal(new X509Certificate(ca.certPem).ca, true);
    assert.match(cert.subject, /CN=server/);
    assert.match(cert.issuer, /CN=hakube lab CA/);
    const details = opensslText(server.certPem);
    assert.match(details, /X509v3 Key Usage: critical\n\s+Digital Signature, Key Encipherment\n/);
    assert.match(details, /X509v3 Basic Constraints: critical\n\s+CA:FALSE\n/);
    assert.match(opensslText(ca.certPem), /Certificate Sign, CRL Sign/);
  });

  it("sets the authority key id to the CA's subject key id", () => {
    const caKeyId = keyIdAfter(opensslText(ca.certPem), "X509v3 Subject Key Identifier");
    assert.ok(caKeyId, "CA has a subject key id");
    assert.equal(keyIdAfter(opensslText(server.certPem), "X509v3 Authority Key Identifier"), caKeyId);
  });

  it("has a validity window of validityPeriodHours, reported as RFC3339", () => {
    const cert = new X509Certificate(server.certPem);
    const start = text(server.cert, "validityStartTime");
    const end = text(server.cert, "validityEndTime");
    assert.match(start, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(Date.parse(start), Date.parse(cert.validFrom));
    assert.equal(Date.parse(end), Date.parse(cert.validTo));
    assert.equal(Date.parse(end) - Date.parse(start), 10 * 3_600_000);
    assert.ok(Math.abs(Date.parse(start) - Date.now()) < 60_000);
    assert.equal(server.cert.readyForRenewal, false);
    assert.equal(server.cert.caKeyAlgorithm, "RSA");
  });

  it("uses the decimal serial number as id", async () => {
    const { id, outputs: out } = await create(SELF, {
      privateKeyPem: ca.keyPem,
      subject: { commonName: "x" },
      validityPeriodHours: 1,
      allowedUses: [],
    });
    assert.equal(id, BigInt(`0x${new X509Certificate(text(out, "certPem")).serialNumber}`).toString());
    assert.equal(out.keyAlgorithm, "RSA");
  });

  it("completes a mutual-TLS handshake on 127.0.0.1 with the issued certificates", async () => {
    assert.equal(await mtlsExchange(ca.certPem, server, client), "hello from server");
  });

  it("fails the mutual-TLS handshake with a client certificate from another CA", async () => {
    await assert.rejects(
      mtlsExchange(ca.certPem, server, foreignClient),
      /closed before the server's greeting/,
    );
  });

  it("fails the mutual-TLS handshake with a client certificate lacking client_auth", async () => {
    await assert.rejects(
      mtlsExchange(ca.certPem, server, serverOnlyClient),
      /closed before the server's greeting/,
    );
  });

  it("rejects bad certificate inputs, naming them", async () => {
    const base = { privateKeyPem: ca.keyPem, subject: { commonName: "x" }, validityPeriodHours: 1 };
    await assert.rejects(
      create(SELF, { ...base, allowedUses: ["certSigning"] }),
      /input "allowedUses" holds "certSigning"/,
    );
    await assert.rejects(
      create(SELF, { ...base, allowedUses: [], ipAddresses: ["10.0.0.300"] }),
      /input "ipAddresses" holds "10.0.0.300"/,
    );
    await assert.rejects(
      create(SELF, { ...base, subject: {}, allowedUses: [], isCaCertificate: true }),
      /input "subject" must hold at least one distinguished name/,
    );
    await assert.rejects(
      create(SELF, { ...base, allowedUses: [], setAuthorityKeyId: true }),
      /input "setAuthorityKeyId"/,
    );
    await assert.rejects(
      create(SELF, { ...base, allowedUses: [], privateKeyPem: "nope" }),
      /input "privateKeyPem"/,
    );
    await assert.rejects(
      create(SELF, { ...base, allowedUses: [], subject: { cn: "x" } }),
      /input "subject.cn"/,
    );
    await assert.rejects(
      create(SELF, { ...base, allowedUses: [], bogus: 1 }),
      /input "bogus" is not supported/,
    );
  });

  it("rejects a CA private key that does not belong to caCertPem", async () => {
    const csr = await outputs(CSR, { privateKeyPem: otherCa.keyPem, subject: { commonName: "x" } });
    await assert.rejects(
      create(SIGNED, {
        certRequestPem: csr.certRequestPem,
        caCertPem: ca.certPem,
        caPrivateKeyPem: otherCa.keyPem,
        validityPeriodHours: 1,
        allowedUses: [],
      }),
      /input "caPrivateKeyPem" does not match/,
    );
  });

  it("marks the provider's secret inputs secret", () => {
    assert.deepEqual(secretOutputs(SIGNED), ["caPrivateKeyPem", "caPrivateKeyPemWo"]);
    assert.ok(secretOutputs(SELF).includes("privateKeyPem"));
  });
});

describe("lab providers: random", () => {
  it("RandomPassword has the requested length, charset and minimums, and differs between calls", async () => {
    const inputs = {
      length: 40,
      special: true,
      overrideSpecial: "_%@",
      minUpper: 5,
      minNumeric: 5,
      minSpecial: 3,
    };
    const first = await create(RANDOM_PASSWORD, inputs);
    const second = await create(RANDOM_PASSWORD, inputs);
    const result = text(first.outputs, "result");
    assert.equal(result.length, 40);
    assert.match(result, /^[A-Za-z0-9_%@]+$/);
    assert.ok((result.match(/[A-Z]/g) ?? []).length >= 5);
    assert.ok((result.match(/[0-9]/g) ?? []).length >= 5);
    assert.ok((result.match(/[_%@]/g) ?? []).length >= 3);
    assert.notEqual(result, second.outputs.result);
    assert.equal(first.id, "none");
    assert.deepEqual(secretOutputs(RANDOM_PASSWORD), ["bcryptHash", "result"]);
  });

  it("RandomString honours disabled classes and uses the result as id", async () => {
    const { id, outputs: out } = await create(RANDOM_STRING, {
      length: 64,
      special: false,
      upper: false,
      numeric: false,
    });
    assert.match(text(out, "result"), /^[a-z]{64}$/);
    assert.equal(id, out.result);
    assert.equal(out.number, false);
    assert.deepEqual(secretOutputs(RANDOM_STRING), []);
  });

  it("RandomString rejects impossible requests, naming the input", async () => {
    await assert.rejects(create(RANDOM_STRING, { length: 3, minUpper: 2, minLower: 2 }), /input "length"/);
    await assert.rejects(create(RANDOM_STRING, { length: 0 }), /input "length" must be at least 1/);
    await assert.rejects(create(RANDOM_STRING, { length: "8" }), /input "length" must be an integer/);
  });

  it("RandomId encodes the same bytes as hex, b64Url, b64Std and dec, with the prefix", async () => {
    const { id, outputs: out } = await create(RANDOM_ID, { byteLength: 12, prefix: "etcd-" });
    const hex = text(out, "hex").replace(/^etcd-/, "");
    assert.match(hex, /^[0-9a-f]{24}$/);
    const bytes = Buffer.from(hex, "hex");
    assert.equal(id, bytes.toString("base64url"));
    assert.equal(out.b64Url, `etcd-${bytes.toString("base64url")}`);
    assert.equal(out.b64Std, `etcd-${bytes.toString("base64")}`);
    assert.equal(out.dec, `etcd-${BigInt(`0x${hex}`).toString()}`);
    assert.notEqual((await create(RANDOM_ID, { byteLength: 12 })).id, id);
  });

  it("RandomBytes returns length bytes as base64 and hex", async () => {
    const out = await outputs(RANDOM_BYTES, { length: 32 });
    const bytes = Buffer.from(text(out, "base64"), "base64");
    assert.equal(bytes.length, 32);
    assert.equal(out.hex, bytes.toString("hex"));
    assert.deepEqual(secretOutputs(RANDOM_BYTES), ["base64", "hex"]);
  });
});

describe("lab providers: dispatch", () => {
  it("handles exactly the implemented types", () => {
    for (const type of [KEY, SELF, CSR, SIGNED, RANDOM_ID, RANDOM_PASSWORD, RANDOM_STRING]) {
      assert.ok(handles(type), type);
    }
    assert.equal(handles("tls:index/getPublicKey:getPublicKey"), false);
    assert.equal(handles("random:index/randomPet:RandomPet"), false);
  });

  it("rejects unknown types", async () => {
    await assert.rejects(create("random:index/randomPet:RandomPet", {}), /RandomPet: not implemented/);
    assert.throws(() => secretOutputs("random:index/randomPet:RandomPet"), /not implemented/);
  });
});
