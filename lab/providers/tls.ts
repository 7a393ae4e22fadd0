/**
 * The lab's stand-in for the @pulumi/tls provider (PrivateKey, SelfSignedCert, CertRequest,
 * LocallySignedCert). It produces real keys and certificates with node:crypto and @peculiar/x509,
 * following terraform-provider-tls (the provider @pulumi/tls bridges): PEM flavours, OpenSSH
 * formats, fingerprints, extensions and their criticality, ids. Used only by the lab runner through
 * ./index.ts, never by the published library.
 */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { createPublicKey, randomBytes, webcrypto } from "node:crypto";
import type { KeyObject } from "node:crypto";
import type { Created, InputReader, ResourceImpl } from "./index";

x509.cryptoProvider.set(webcrypto);
import {
  pem,
  spkiDer,
  sha1Hex,
  profileOf,
  parseKeyInput,
  importSigningKey,
  importVerifyKey,
  createPrivateKeyResource,
  type KeyProfile,
} from "./tlsKeys";
import {
  isEmptyName,
  readAllowedUses,
  readSans,
  readSubject,
  sanExtension,
  subjectKeyId,
  type Sans,
  type Usages,
} from "./tlsFields";

// ---------------------------------------------------------------------------------------------
// Certificates
// ---------------------------------------------------------------------------------------------

/** The certificate settings shared by SelfSignedCert and LocallySignedCert. */
interface CertPolicy {
  validityPeriodHours: number;
  earlyRenewalHours: number;
  usages: Usages;
  isCa: boolean;
  maxPathLength?: number;
  setSubjectKeyId: boolean;
}

function readCertPolicy(read: InputReader): CertPolicy {
  return {
    validityPeriodHours: read.integer("validityPeriodHours", 0),
    earlyRenewalHours: read.integer("earlyRenewalHours", 0, 0),
    usages: readAllowedUses(read),
    isCa: read.boolean("isCaCertificate", false),
    maxPathLength: read.has("maxPathLength") ? read.integer("maxPathLength", -1) : undefined,
    setSubjectKeyId: read.boolean("setSubjectKeyId", false),
  };
}

/** Who the certificate is for and who signs it. */
interface CertParties {
  subject: x509.Name;
  sans: Sans;
  publicKey: KeyObject;
  issuer: x509.Name;
  signer: { key: KeyObject; profile: KeyProfile };
  /** Hex key id of the issuer, for the authority key identifier; none when undefined. */
  authorityKeyId?: string;
}

/** The extensions Go's x509.CreateCertificate writes, in its order and with its criticality. */
function certExtensions(
  policy: CertPolicy,
  parties: CertParties,
  ownKeyId: string | undefined,
): x509.Extension[] {
  const { usages, isCa, maxPathLength } = policy;
  const pathLength = isCa && maxPathLength !== undefined && maxPathLength > 0 ? maxPathLength : undefined;
  return [
    ...(usages.keyUsage ? [new x509.KeyUsagesExtension(usages.keyUsage, true)] : []),
    ...(usages.extendedKeyUsages.length
      ? [new x509.ExtendedKeyUsageExtension(usages.extendedKeyUsages, false)]
      : []),
    new x509.BasicConstraintsExtension(isCa, pathLength, true),
    ...(ownKeyId ? [new x509.SubjectKeyIdentifierExtension(ownKeyId, false)] : []),
    ...(parties.authorityKeyId
      ? [new x509.AuthorityKeyIdentifierExtension(parties.authorityKeyId, false)]
      : []),
    ...sanExtension(parties.sans, isEmptyName(parties.subject)),
  ];
}

/** A random serial below 2^128, as hex, as the provider draws it (leading zeros are dropped in DER). */
function serialNumberHex(): string {
  return randomBytes(16).toString("hex");
}

function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

function ownSubjectKeyId(policy: CertPolicy, publicKey: KeyObject): string | undefined {
  return policy.isCa || policy.setSubjectKeyId ? subjectKeyId(publicKey) : undefined;
}

/** Signs the certificate; returns the provider's computed outputs and id (the decimal serial). */
async function issueCertificate(
  read: InputReader,
  policy: CertPolicy,
  parties: CertParties,
): Promise<Created> {
  if (policy.isCa && isEmptyName(parties.subject)) {
    throw read.error("subject", "must hold at least one distinguished name when isCaCertificate is true");
  }
  const notBefore = new Date(Math.floor(Date.now() / 1000) * 1000);
  const notAfter = new Date(notBefore.getTime() + policy.validityPeriodHours * 3_600_000);
  const serialNumber = serialNumberHex();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber,
    subject: parties.subject,
    issuer: parties.issuer,
    notBefore,
    notAfter,
    publicKey: spkiDer(parties.publicKey),
    signingKey: await importSigningKey(parties.signer.key, parties.signer.profile),
    signingAlgorithm: parties.signer.profile.signingAlgorithm,
    extensions: certExtensions(policy, parties, ownSubjectKeyId(policy, parties.publicKey)),
  });
  const outputs = {
    ...read.echo(["privateKeyPemWo", "caPrivateKeyPemWo"]),
    earlyRenewalHours: policy.earlyRenewalHours,
    isCaCertificate: policy.isCa,
    setSubjectKeyId: policy.setSubjectKeyId,
    certPem: pem("CERTIFICATE", Buffer.from(cert.rawData)),
    validityStartTime: rfc3339(notBefore),
    validityEndTime: rfc3339(notAfter),
    readyForRenewal: false,
  };
  return { id: BigInt(`0x${serialNumber}`).toString(), outputs };
}

async function createSelfSignedCert(read: InputReader): Promise<Created> {
  const signer = parseKeyInput(read, "privateKeyPem");
  const policy = readCertPolicy(read);
  const subject = readSubject(read);
  let authorityKeyId: string | undefined;
  if (read.boolean("setAuthorityKeyId", false)) {
    authorityKeyId = ownSubjectKeyId(policy, signer.key);
    if (!authorityKeyId) {
      throw read.error("setAuthorityKeyId", "needs a subject key id: set setSubjectKeyId or isCaCertificate");
    }
  }
  const parties = {
    subject,
    sans: readSans(read),
    publicKey: signer.key,
    issuer: subject,
    signer,
    authorityKeyId,
  };
  const created = await issueCertificate(read, policy, parties);
  const extra = { keyAlgorithm: signer.profile.algorithm, setAuthorityKeyId: authorityKeyId !== undefined };
  return { id: created.id, outputs: { ...created.outputs, ...extra } };
}

// ---------------------------------------------------------------------------------------------
// CertRequest and LocallySignedCert
// ---------------------------------------------------------------------------------------------

async function createCertRequest(read: InputReader): Promise<Created> {
  const { key, profile } = parseKeyInput(read, "privateKeyPem");
  const name = readSubject(read);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name,
    extensions: sanExtension(readSans(read), false),
    signingAlgorithm: profile.signingAlgorithm,
    keys: {
      privateKey: await importSigningKey(key, profile),
      publicKey: await importVerifyKey(key, profile),
    },
  });
  const der = Buffer.from(csr.rawData);
  const outputs = {
    ...read.echo(["privateKeyPemWo"]),
    certRequestPem: pem("CERTIFICATE REQUEST", der),
    keyAlgorithm: profile.algorithm,
  };
  return { id: sha1Hex(der), outputs };
}

async function parseCertRequest(read: InputReader): Promise<x509.Pkcs10CertificateRequest> {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(read.string("certRequestPem"));
  } catch (err) {
    throw read.error("certRequestPem", `is not a certificate request PEM: ${(err as Error).message}`);
  }
  if (!(await csr.verify())) throw read.error("certRequestPem", "has an invalid signature");
  return csr;
}

/** The DNS names, IPs and URIs of the CSR's subjectAltName (Go drops the other name types). */
function csrSans(csr: x509.Pkcs10CertificateRequest): Sans {
  const ext = csr.getExtension("2.5.29.17");
  const names = ext ? new x509.SubjectAlternativeNameExtension(ext.rawData).names.toJSON() : [];
  const ofType = (type: string): string[] => names.filter((n) => n.type === type).map((n) => n.value);
  return { dnsNames: ofType("dns"), ipAddresses: ofType("ip"), uris: ofType("url") };
}

function parseCaCert(read: InputReader): x509.X509Certificate {
  try {
    return new x509.X509Certificate(read.string("caCertPem"));
  } catch (err) {
    throw read.error("caCertPem", `is not a certificate PEM: ${(err as Error).message}`);
  }
}

function sameDer(a: x509.Name, b: x509.Name): boolean {
  return Buffer.from(a.toArrayBuffer()).equals(Buffer.from(b.toArrayBuffer()));
}

async function createLocallySignedCert(read: InputReader): Promise<Created> {
  const csr = await parseCertRequest(read);
  const caCert = parseCaCert(read);
  const signer = parseKeyInput(read, "caPrivateKeyPem");
  if (!spkiDer(signer.key).equals(Buffer.from(caCert.publicKey.rawData))) {
    const input = read.has("caPrivateKeyPem") ? "caPrivateKeyPem" : "caPrivateKeyPemWo";
    throw read.error(input, "does not match the public key of caCertPem");
  }
  const publicKey = createPublicKey({ key: Buffer.from(csr.publicKey.rawData), format: "der", type: "spki" });
  profileOf(publicKey, read, "certRequestPem");
  const caKeyId = caCert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  const parties: CertParties = {
    subject: csr.subjectName,
    sans: csrSans(csr),
    publicKey,
    issuer: caCert.subjectName,
    signer,
    authorityKeyId: sameDer(csr.subjectName, caCert.subjectName) ? undefined : caKeyId,
  };
  const created = await issueCertificate(read, readCertPolicy(read), parties);
  return { id: created.id, outputs: { ...created.outputs, caKeyAlgorithm: signer.profile.algorithm } };
}

// ---------------------------------------------------------------------------------------------
// Registry
// ---------------------------------------------------------------------------------------------

const CERT_INPUTS = [
  "allowedUses",
  "earlyRenewalHours",
  "isCaCertificate",
  "maxPathLength",
  "setSubjectKeyId",
  "validityPeriodHours",
];
const KEY_INPUTS = ["privateKeyPem", "privateKeyPemWo", "privateKeyPemWoVersion"];
const SUBJECT_INPUTS = ["subject", "dnsNames", "ipAddresses", "uris"];

export const tlsResources: Readonly<Record<string, ResourceImpl>> = {
  "tls:index/privateKey:PrivateKey": {
    inputs: ["algorithm", "ecdsaCurve", "rsaBits"],
    secretOutputs: ["privateKeyOpenssh", "privateKeyPem", "privateKeyPemPkcs8"],
    create: createPrivateKeyResource,
  },
  "tls:index/selfSignedCert:SelfSignedCert": {
    inputs: [...CERT_INPUTS, ...KEY_INPUTS, ...SUBJECT_INPUTS, "setAuthorityKeyId"],
    secretOutputs: ["privateKeyPem", "privateKeyPemWo"],
    create: createSelfSignedCert,
  },
  "tls:index/certRequest:CertRequest": {
    inputs: [...KEY_INPUTS, ...SUBJECT_INPUTS],
    secretOutputs: ["privateKeyPem", "privateKeyPemWo"],
    create: createCertRequest,
  },
  "tls:index/locallySignedCert:LocallySignedCert": {
    inputs: [
      ...CERT_INPUTS,
      "caCertPem",
      "caPrivateKeyPem",
      "caPrivateKeyPemWo",
      "caPrivateKeyPemWoVersion",
      "certRequestPem",
    ],
    secretOutputs: ["caPrivateKeyPem", "caPrivateKeyPemWo"],
    create: createLocallySignedCert,
  },
};
