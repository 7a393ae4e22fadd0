/**
 * The lab's stand-in for the @pulumi/tls provider (PrivateKey, SelfSignedCert, CertRequest,
 * LocallySignedCert). It produces real keys and certificates with node:crypto and @peculiar/x509,
 * following terraform-provider-tls (the provider @pulumi/tls bridges): PEM flavours, OpenSSH
 * formats, fingerprints, extensions and their criticality, ids. Used only by the lab runner through
 * ./index.ts, never by the published library.
 */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPair,
  randomBytes,
  webcrypto,
} from "node:crypto";
import type { KeyObject } from "node:crypto";
import { isIP } from "node:net";
import { promisify } from "node:util";
import type { Created, InputReader, ResourceImpl } from "./index";

x509.cryptoProvider.set(webcrypto);

const generateKeyPairAsync = promisify(generateKeyPair);

type KeyAlgorithm = "RSA" | "ECDSA" | "ED25519";

/** The ECDSA curves usable here (P224 is valid upstream but WebCrypto cannot sign with it). */
const CURVES = {
  P256: { node: "prime256v1", web: "P-256", ssh: "nistp256", hash: "SHA-256" },
  P384: { node: "secp384r1", web: "P-384", ssh: "nistp384", hash: "SHA-384" },
  P521: { node: "secp521r1", web: "P-521", ssh: "nistp521", hash: "SHA-512" },
} as const;
type CurveName = keyof typeof CURVES;
type Curve = (typeof CURVES)[CurveName];

// ---------------------------------------------------------------------------------------------
// PEM and key profiles
// ---------------------------------------------------------------------------------------------

/** PEM the way Go's pem.EncodeToMemory writes it: 64-character lines and a trailing newline. */
function pem(label: string, der: Buffer): string {
  const lines = der.toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/** The public half of a private key, or the key itself when already public. */
function publicOf(key: KeyObject): KeyObject {
  return key.type === "public" ? key : createPublicKey(key);
}

function spkiDer(key: KeyObject): Buffer {
  return publicOf(key).export({ type: "spki", format: "der" });
}

function sha1Hex(data: Buffer): string {
  return createHash("sha1").update(data).digest("hex");
}

/** How a key is used with WebCrypto: import parameters and the signature algorithm Go would pick. */
interface KeyProfile {
  algorithm: KeyAlgorithm;
  importParams: webcrypto.RsaHashedImportParams | webcrypto.EcKeyImportParams | webcrypto.Algorithm;
  signingAlgorithm: webcrypto.Algorithm | webcrypto.EcdsaParams;
  curve?: Curve;
}

function curveOfNodeName(nodeName: string | undefined): Curve | undefined {
  return Object.values(CURVES).find((curve) => curve.node === nodeName);
}

/** The profile of an RSA, ECDSA (P-256/384/521) or Ed25519 key; throws naming `input` otherwise. */
function profileOf(key: KeyObject, read: InputReader, input: string): KeyProfile {
  switch (key.asymmetricKeyType) {
    case "rsa": {
      const params = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
      return { algorithm: "RSA", importParams: params, signingAlgorithm: params };
    }
    case "ec": {
      const curve = curveOfNodeName(key.asymmetricKeyDetails?.namedCurve);
      if (!curve) {
        throw read.error(
          input,
          `uses curve ${key.asymmetricKeyDetails?.namedCurve}; the lab supports P-256, P-384, P-521`,
        );
      }
      return {
        algorithm: "ECDSA",
        importParams: { name: "ECDSA", namedCurve: curve.web },
        signingAlgorithm: { name: "ECDSA", hash: curve.hash },
        curve,
      };
    }
    case "ed25519":
      return {
        algorithm: "ED25519",
        importParams: { name: "Ed25519" },
        signingAlgorithm: { name: "Ed25519" },
      };
    default:
      throw read.error(input, `holds a ${key.asymmetricKeyType} key; supported: RSA, ECDSA, ED25519`);
  }
}

/** Parses a private key PEM (PKCS#1, SEC1 or PKCS#8, unencrypted); errors name the input. */
function parsePrivateKey(read: InputReader, input: string): { key: KeyObject; profile: KeyProfile } {
  const text = read.string(input);
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: text, format: "pem" });
  } catch (err) {
    throw read.error(input, `is not a usable private key PEM: ${(err as Error).message}`);
  }
  return { key, profile: profileOf(key, read, input) };
}

/** The `privateKeyPem` / `privateKeyPemWo` pair: exactly one must be set, as upstream. */
function parseKeyInput(read: InputReader, input: string): { key: KeyObject; profile: KeyProfile } {
  const writeOnly = `${input}Wo`;
  if (read.has(input) === read.has(writeOnly)) {
    throw read.error(input, `or "${writeOnly}": exactly one must be set`);
  }
  return parsePrivateKey(read, read.has(input) ? input : writeOnly);
}

async function importSigningKey(key: KeyObject, profile: KeyProfile): Promise<webcrypto.CryptoKey> {
  const der = key.export({ type: "pkcs8", format: "der" });
  return webcrypto.subtle.importKey("pkcs8", der, profile.importParams, false, ["sign"]);
}

async function importVerifyKey(key: KeyObject, profile: KeyProfile): Promise<webcrypto.CryptoKey> {
  return webcrypto.subtle.importKey("spki", spkiDer(key), profile.importParams, true, ["verify"]);
}

// ---------------------------------------------------------------------------------------------
// OpenSSH formats (what golang.org/x/crypto/ssh writes)
// ---------------------------------------------------------------------------------------------

function sshUint32(value: number): Buffer {
  const buf = Buffer.alloc(4);
  buf.writeUInt32BE(value);
  return buf;
}

function sshString(data: Buffer | string): Buffer {
  const bytes = typeof data === "string" ? Buffer.from(data) : data;
  return Buffer.concat([sshUint32(bytes.length), bytes]);
}

/** An SSH mpint from a JWK base64url unsigned big-endian integer. */
function sshMpint(base64url: string | undefined): Buffer {
  let bytes = Buffer.from(base64url ?? "", "base64url");
  let start = 0;
  while (start < bytes.length && bytes[start] === 0) start++;
  bytes = bytes.subarray(start);
  if (bytes.length > 0 && bytes[0] & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return sshString(bytes);
}

function jwkBytes(value: string | undefined): Buffer {
  return Buffer.from(value ?? "", "base64url");
}

/** A key's SSH type name and the fields of its public blob and of its private-key section. */
interface SshKey {
  keyType: string;
  publicBlob: Buffer;
  privateFields: Buffer;
}

function sshKey(privateKey: KeyObject, profile: KeyProfile): SshKey {
  const jwk = privateKey.export({ format: "jwk" });
  if (profile.algorithm === "RSA") {
    const keyType = "ssh-rsa";
    const [n, e] = [sshMpint(jwk.n), sshMpint(jwk.e)];
    const privateFields = [
      sshString(keyType),
      n,
      e,
      sshMpint(jwk.d),
      sshMpint(jwk.qi),
      sshMpint(jwk.p),
      sshMpint(jwk.q),
    ];
    return {
      keyType,
      publicBlob: Buffer.concat([sshString(keyType), e, n]),
      privateFields: Buffer.concat(privateFields),
    };
  }
  if (profile.algorithm === "ECDSA" && profile.curve) {
    const keyType = `ecdsa-sha2-${profile.curve.ssh}`;
    const point = Buffer.concat([Buffer.from([4]), jwkBytes(jwk.x), jwkBytes(jwk.y)]);
    const publicBlob = Buffer.concat([sshString(keyType), sshString(profile.curve.ssh), sshString(point)]);
    return { keyType, publicBlob, privateFields: Buffer.concat([publicBlob, sshMpint(jwk.d)]) };
  }
  const keyType = "ssh-ed25519";
  const publicKey = jwkBytes(jwk.x);
  const publicBlob = Buffer.concat([sshString(keyType), sshString(publicKey)]);
  const secret = Buffer.concat([jwkBytes(jwk.d), publicKey]);
  return { keyType, publicBlob, privateFields: Buffer.concat([publicBlob, sshString(secret)]) };
}

/** "openssh-key-v1", unencrypted, empty comment, padded to 8 bytes, as ssh.MarshalPrivateKey does. */
function opensshPrivateKey(key: SshKey): string {
  const check = randomBytes(4);
  const section = Buffer.concat([check, check, key.privateFields, sshString("")]);
  const padding = Buffer.from(Array.from({ length: (8 - (section.length % 8)) % 8 }, (_, i) => i + 1));
  const blob = Buffer.concat([
    Buffer.from("openssh-key-v1\0"),
    sshString("none"),
    sshString("none"),
    sshString(""),
    sshUint32(1),
    sshString(key.publicBlob),
    sshString(Buffer.concat([section, padding])),
  ]);
  return pem("OPENSSH PRIVATE KEY", blob);
}

function sshPublicOutputs(key: SshKey): Record<string, string> {
  const md5 = createHash("md5").update(key.publicBlob).digest("hex");
  const sha256 = createHash("sha256").update(key.publicBlob).digest("base64").replace(/=+$/, "");
  return {
    publicKeyOpenssh: `${key.keyType} ${key.publicBlob.toString("base64")}\n`,
    publicKeyFingerprintMd5: md5.match(/../g)?.join(":") ?? "",
    publicKeyFingerprintSha256: `SHA256:${sha256}`,
  };
}

// ---------------------------------------------------------------------------------------------
// PrivateKey
// ---------------------------------------------------------------------------------------------

/** The provider's own validation of `ecdsaCurve`, applied whatever the algorithm. */
function checkCurveName(read: InputReader): void {
  const curve = read.optionalString("ecdsaCurve");
  if (curve !== undefined && curve !== "P224" && !(curve in CURVES)) {
    throw read.error("ecdsaCurve", `must be P224, P256, P384 or P521, got "${curve}"`);
  }
}

/** The curve for an ECDSA key: P256, P384 or P521, which WebCrypto can sign with. */
function readCurve(read: InputReader): CurveName {
  const curve = read.optionalString("ecdsaCurve");
  const supported = "P256, P384 or P521";
  if (curve === undefined) {
    throw read.error(
      "ecdsaCurve",
      `must be set for ECDSA in the lab: the provider's default P224 is not supported by WebCrypto; use ${supported}`,
    );
  }
  if (curve === "P224") {
    throw read.error(
      "ecdsaCurve",
      `"P224" is not supported in the lab (WebCrypto has no P-224); use ${supported}`,
    );
  }
  return curve as CurveName;
}

async function generatePrivateKey(read: InputReader): Promise<KeyObject> {
  checkCurveName(read);
  const algorithm = read.string("algorithm");
  switch (algorithm) {
    case "RSA": {
      const modulusLength = read.integer("rsaBits", 1024, 2048);
      return (await generateKeyPairAsync("rsa", { modulusLength, publicExponent: 0x10001 })).privateKey;
    }
    case "ECDSA": {
      const namedCurve = CURVES[readCurve(read)].node;
      return (await generateKeyPairAsync("ec", { namedCurve })).privateKey;
    }
    case "ED25519":
      return (await generateKeyPairAsync("ed25519", {})).privateKey;
    default:
      throw read.error("algorithm", `must be RSA, ECDSA or ED25519, got "${algorithm}"`);
  }
}

/** RSA as PKCS#1, ECDSA as SEC1, Ed25519 as PKCS#8: the provider's `privateKeyPem` flavours. */
function traditionalPem(key: KeyObject, algorithm: KeyAlgorithm): string {
  const type = algorithm === "RSA" ? "pkcs1" : algorithm === "ECDSA" ? "sec1" : "pkcs8";
  return key.export({ type, format: "pem" }).toString();
}

async function createPrivateKeyResource(read: InputReader): Promise<Created> {
  const key = await generatePrivateKey(read);
  const profile = profileOf(key, read, "algorithm");
  const ssh = sshKey(key, profile);
  const outputs = {
    ...read.echo(),
    ecdsaCurve: read.optionalString("ecdsaCurve") ?? "P224",
    rsaBits: read.integer("rsaBits", 0, 2048),
    privateKeyPem: traditionalPem(key, profile.algorithm),
    privateKeyPemPkcs8: key.export({ type: "pkcs8", format: "pem" }).toString(),
    privateKeyOpenssh: opensshPrivateKey(ssh),
    publicKeyPem: pem("PUBLIC KEY", spkiDer(key)),
    ...sshPublicOutputs(ssh),
  };
  return { id: sha1Hex(spkiDer(key)), outputs };
}

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
