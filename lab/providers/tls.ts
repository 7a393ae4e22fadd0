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
import { isIP } from "node:net";
import type { Created, InputReader, ResourceImpl } from "./index";

x509.cryptoProvider.set(webcrypto);
import {
  pem,
  publicOf,
  spkiDer,
  sha1Hex,
  profileOf,
  parseKeyInput,
  importSigningKey,
  importVerifyKey,
  jwkBytes,
  createPrivateKeyResource,
  type KeyProfile,
} from "./tlsKeys";

// ---------------------------------------------------------------------------------------------
// Subjects, SANs, key usages
// ---------------------------------------------------------------------------------------------

/** Subject fields in the order Go's pkix.Name.ToRDNSequence writes them. */
const SUBJECT_FIELDS: readonly (readonly [string, string])[] = [
  ["country", "2.5.4.6"],
  ["province", "2.5.4.8"],
  ["locality", "2.5.4.7"],
  ["streetAddresses", "2.5.4.9"],
  ["postalCode", "2.5.4.17"],
  ["organization", "2.5.4.10"],
  ["organizationalUnit", "2.5.4.11"],
  ["commonName", "2.5.4.3"],
  ["serialNumber", "2.5.4.5"],
  ["emailAddress", "1.2.840.113549.1.9.1"],
];

function subjectValues(read: InputReader, field: string, value: unknown): string[] {
  const values = Array.isArray(value) ? value : [value];
  if (!values.every((item): item is string => typeof item === "string")) {
    throw read.error(`subject.${field}`, "must be a string" + (field === "streetAddresses" ? " list" : ""));
  }
  return values;
}

/** The `subject` input as an X.509 name (empty when unset). */
function readSubject(read: InputReader): x509.Name {
  const subject = read.optionalObject("subject") ?? {};
  const known = SUBJECT_FIELDS.map(([field]) => field);
  const unknown = Object.keys(subject).find((field) => subject[field] != null && !known.includes(field));
  if (unknown) throw read.error(`subject.${unknown}`, `is not a subject field (known: ${known.join(", ")})`);
  const rdns = SUBJECT_FIELDS.filter(([field]) => subject[field] != null)
    .map(([field, oid]) => ({ [oid]: subjectValues(read, field, subject[field]) }))
    .filter((rdn) => Object.values(rdn)[0].length > 0);
  return new x509.Name(rdns);
}

function isEmptyName(name: x509.Name): boolean {
  return name.toJSON().length === 0;
}

interface Sans {
  dnsNames: string[];
  ipAddresses: string[];
  uris: string[];
}

function readSans(read: InputReader): Sans {
  const ipAddresses = read.strings("ipAddresses");
  const badIp = ipAddresses.find((ip) => isIP(ip) === 0);
  if (badIp !== undefined) throw read.error("ipAddresses", `holds "${badIp}", which is not an IP address`);
  const uris = read.strings("uris");
  const badUri = uris.find((uri) => !URL.canParse(uri));
  if (badUri !== undefined) throw read.error("uris", `holds "${badUri}", which is not a URI`);
  const dnsNames = read.strings("dnsNames");
  const badName = dnsNames.find((name) => !/^[\x21-\x7e]+$/.test(name));
  if (badName !== undefined)
    throw read.error("dnsNames", `holds "${badName}", which is not an ASCII DNS name`);
  return { dnsNames, ipAddresses, uris };
}

/** DNS names, IPs and URIs in Go's order; critical only when the subject is empty (RFC 5280). */
function sanExtension(sans: Sans, subjectEmpty: boolean): x509.Extension[] {
  const names: x509.JsonGeneralName[] = [
    ...sans.dnsNames.map((value) => ({ type: "dns" as const, value })),
    ...sans.ipAddresses.map((value) => ({ type: "ip" as const, value })),
    ...sans.uris.map((value) => ({ type: "url" as const, value })),
  ];
  return names.length === 0 ? [] : [new x509.SubjectAlternativeNameExtension(names, subjectEmpty)];
}

const KEY_USAGES: Readonly<Record<string, x509.KeyUsageFlags>> = {
  digital_signature: x509.KeyUsageFlags.digitalSignature,
  content_commitment: x509.KeyUsageFlags.nonRepudiation,
  key_encipherment: x509.KeyUsageFlags.keyEncipherment,
  data_encipherment: x509.KeyUsageFlags.dataEncipherment,
  key_agreement: x509.KeyUsageFlags.keyAgreement,
  cert_signing: x509.KeyUsageFlags.keyCertSign,
  crl_signing: x509.KeyUsageFlags.cRLSign,
  encipher_only: x509.KeyUsageFlags.encipherOnly,
  decipher_only: x509.KeyUsageFlags.decipherOnly,
};

const EXTENDED_KEY_USAGES: Readonly<Record<string, string>> = {
  any_extended: "2.5.29.37.0",
  server_auth: "1.3.6.1.5.5.7.3.1",
  client_auth: "1.3.6.1.5.5.7.3.2",
  code_signing: "1.3.6.1.5.5.7.3.3",
  email_protection: "1.3.6.1.5.5.7.3.4",
  ipsec_end_system: "1.3.6.1.5.5.7.3.5",
  ipsec_tunnel: "1.3.6.1.5.5.7.3.6",
  ipsec_user: "1.3.6.1.5.5.7.3.7",
  timestamping: "1.3.6.1.5.5.7.3.8",
  ocsp_signing: "1.3.6.1.5.5.7.3.9",
  microsoft_server_gated_crypto: "1.3.6.1.4.1.311.10.3.3",
  netscape_server_gated_crypto: "2.16.840.1.113730.4.1",
  microsoft_commercial_code_signing: "1.3.6.1.4.1.311.2.1.22",
  microsoft_kernel_code_signing: "1.3.6.1.4.1.311.61.1.1",
};

interface Usages {
  keyUsage: number;
  extendedKeyUsages: string[];
}

/** `allowedUses` with the provider's snake_case names (e.g. "cert_signing", "server_auth"). */
function readAllowedUses(read: InputReader): Usages {
  const uses = read.strings("allowedUses");
  const bad = uses.find((use) => !(use in KEY_USAGES) && !(use in EXTENDED_KEY_USAGES));
  if (bad !== undefined) {
    const known = [...Object.keys(KEY_USAGES), ...Object.keys(EXTENDED_KEY_USAGES)].sort().join(", ");
    throw read.error("allowedUses", `holds "${bad}"; accepted values: ${known}`);
  }
  return {
    keyUsage: uses.reduce((flags, use) => flags | (KEY_USAGES[use] ?? 0), 0),
    extendedKeyUsages: uses
      .filter((use) => use in EXTENDED_KEY_USAGES)
      .map((use) => EXTENDED_KEY_USAGES[use]),
  };
}

/**
 * Go's generateSubjectKeyID: SHA-1 over the PKCS#1 RSA key, the uncompressed EC point, or the
 * DER OCTET STRING holding the Ed25519 key.
 */
function subjectKeyId(publicKey: KeyObject): string {
  const pub = publicOf(publicKey);
  if (pub.asymmetricKeyType === "rsa") return sha1Hex(pub.export({ type: "pkcs1", format: "der" }));
  const jwk = pub.export({ format: "jwk" });
  if (pub.asymmetricKeyType === "ec") {
    return sha1Hex(Buffer.concat([Buffer.from([4]), jwkBytes(jwk.x), jwkBytes(jwk.y)]));
  }
  return sha1Hex(Buffer.concat([Buffer.from([4, 32]), jwkBytes(jwk.x)]));
}

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
