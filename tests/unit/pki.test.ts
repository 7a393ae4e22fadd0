import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { CertificateAuthority, issueCertificate } from "../../components/pki/certificateAuthority";
import {
  allowedUses,
  CertificateRole,
  KeyAlgorithm,
  subjectAltNames,
  tlsKeyParameters,
} from "../../components/pki/profiles";
import { isIP } from "../../components/validation";
import { isSecretInput, Recorder, resolve, unwrap } from "./helpers/mocks";

describe("PKI profiles", () => {
  it("always sets the curve or the size explicitly", () => {
    assert.deepEqual(tlsKeyParameters(KeyAlgorithm.EcdsaP256), { algorithm: "ECDSA", ecdsaCurve: "P256" });
    assert.deepEqual(tlsKeyParameters(KeyAlgorithm.EcdsaP384), { algorithm: "ECDSA", ecdsaCurve: "P384" });
    assert.deepEqual(tlsKeyParameters(KeyAlgorithm.Rsa4096), { algorithm: "RSA", rsaBits: 4096 });
    assert.deepEqual(tlsKeyParameters(KeyAlgorithm.Ed25519), { algorithm: "ED25519" });
    assert.throws(
      () => tlsKeyParameters("P224" as KeyAlgorithm),
      /unknown key algorithm "P224"; use one of ECDSA_P256/,
    );
  });
  it("gives each role its extended key usages", () => {
    assert.ok(allowedUses(CertificateRole.Server).includes("server_auth"));
    assert.ok(allowedUses(CertificateRole.Peer).includes("client_auth"));
    assert.ok(!allowedUses(CertificateRole.Client).includes("server_auth"));
  });
  it("sorts SANs into IPs and DNS names without duplicates", () => {
    assert.deepEqual(subjectAltNames(["10.0.0.1", "m1", "fd00::1", "m1", "localhost"], isIP), {
      dnsNames: ["m1", "localhost"],
      ipAddresses: ["10.0.0.1", "fd00::1"],
    });
  });
});

describe("CertificateAuthority (mocks)", () => {
  it("creates a key and a self-signed CA certificate with a secret key", async () => {
    const rec = new Recorder();
    await rec.install();
    const ca = new CertificateAuthority("ca", {
      commonName: "etcd-ca",
      keyAlgorithm: KeyAlgorithm.EcdsaP384,
    });
    const leaf = issueCertificate(
      "leaf",
      ca,
      { commonName: "x", role: CertificateRole.Client, validityHours: 24, earlyRenewalHours: 6 },
      {},
    );
    await rec.idle();
    assert.deepEqual(rec.names(), ["ca-cert", "ca-key", "leaf-cert", "leaf-csr", "leaf-key"]);
    const cert = unwrap(rec.get("ca-cert").inputs) as Record<string, unknown>;
    assert.equal(cert.isCaCertificate, true);
    assert.deepEqual(cert.allowedUses, ["cert_signing", "crl_signing", "digital_signature"]);
    assert.equal(cert.validityPeriodHours, 87600);
    assert.deepEqual(cert.subject, { commonName: "etcd-ca", organization: "hakube" });
    assert.deepEqual(
      unwrap(rec.get("leaf-key").inputs),
      { algorithm: "ECDSA", ecdsaCurve: "P384" },
      "leaf follows the CA",
    );
    assert.equal((unwrap(rec.get("leaf-cert").inputs) as Record<string, unknown>).validityPeriodHours, 24);
    assert.ok(isSecretInput(rec.get("leaf-cert").inputs.caPrivateKeyPem));
    assert.ok(await pulumi.isSecret(ca.privateKeyPem));
    assert.ok(await pulumi.isSecret(leaf.privateKeyPem));
    assert.match(await resolve(ca.certPem), /ca-cert/);
  });
  it("refuses an empty common name", async () => {
    const rec = new Recorder();
    await rec.install();
    assert.throws(
      () => new CertificateAuthority("ca", { commonName: " " }),
      /commonName must be a non-empty string, got " "/,
    );
  });
});
