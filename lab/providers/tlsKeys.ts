/**
 * The keys of the lab's @pulumi/tls stand-in (./tls.ts): key profiles, parsing, generation, the OpenSSH
 * formats and fingerprints, and the PrivateKey resource, as terraform-provider-tls makes them.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPair,
  randomBytes,
  webcrypto,
} from "node:crypto";
import type { KeyObject } from "node:crypto";
import { promisify } from "node:util";
import type { Created, InputReader } from "./index";

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
export function pem(label: string, der: Buffer): string {
  const lines = der.toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/** The public half of a private key, or the key itself when already public. */
export function publicOf(key: KeyObject): KeyObject {
  return key.type === "public" ? key : createPublicKey(key);
}

export function spkiDer(key: KeyObject): Buffer {
  return publicOf(key).export({ type: "spki", format: "der" });
}

export function sha1Hex(data: Buffer): string {
  return createHash("sha1").update(data).digest("hex");
}

/** How a key is used with WebCrypto: import parameters and the signature algorithm Go would pick. */
export interface KeyProfile {
  algorithm: KeyAlgorithm;
  importParams: webcrypto.RsaHashedImportParams | webcrypto.EcKeyImportParams | webcrypto.Algorithm;
  signingAlgorithm: webcrypto.Algorithm | webcrypto.EcdsaParams;
  curve?: Curve;
}

function curveOfNodeName(nodeName: string | undefined): Curve | undefined {
  return Object.values(CURVES).find((curve) => curve.node === nodeName);
}

/** The profile of an RSA, ECDSA (P-256/384/521) or Ed25519 key; throws naming `input` otherwise. */
export function profileOf(key: KeyObject, read: InputReader, input: string): KeyProfile {
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
export function parseKeyInput(read: InputReader, input: string): { key: KeyObject; profile: KeyProfile } {
  const writeOnly = `${input}Wo`;
  if (read.has(input) === read.has(writeOnly)) {
    throw read.error(input, `or "${writeOnly}": exactly one must be set`);
  }
  return parsePrivateKey(read, read.has(input) ? input : writeOnly);
}

export async function importSigningKey(key: KeyObject, profile: KeyProfile): Promise<webcrypto.CryptoKey> {
  const der = key.export({ type: "pkcs8", format: "der" });
  return webcrypto.subtle.importKey("pkcs8", der, profile.importParams, false, ["sign"]);
}

export async function importVerifyKey(key: KeyObject, profile: KeyProfile): Promise<webcrypto.CryptoKey> {
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

export function jwkBytes(value: string | undefined): Buffer {
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

export async function createPrivateKeyResource(read: InputReader): Promise<Created> {
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
