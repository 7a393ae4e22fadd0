/**
 * The certificate fields of the lab's @pulumi/tls stand-in (./tls.ts): subjects, SANs, key usages and
 * the subject key id, read from a resource's inputs and turned into @peculiar/x509 values.
 */
import * as x509 from "@peculiar/x509";
import type { KeyObject } from "node:crypto";
import { isIP } from "node:net";
import type { InputReader } from "./index";
import { jwkBytes, publicOf, sha1Hex } from "./tlsKeys";

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
export function readSubject(read: InputReader): x509.Name {
  const subject = read.optionalObject("subject") ?? {};
  const known = SUBJECT_FIELDS.map(([field]) => field);
  const unknown = Object.keys(subject).find((field) => subject[field] != null && !known.includes(field));
  if (unknown) throw read.error(`subject.${unknown}`, `is not a subject field (known: ${known.join(", ")})`);
  const rdns = SUBJECT_FIELDS.filter(([field]) => subject[field] != null)
    .map(([field, oid]) => ({ [oid]: subjectValues(read, field, subject[field]) }))
    .filter((rdn) => Object.values(rdn)[0].length > 0);
  return new x509.Name(rdns);
}

export function isEmptyName(name: x509.Name): boolean {
  return name.toJSON().length === 0;
}

export interface Sans {
  dnsNames: string[];
  ipAddresses: string[];
  uris: string[];
}

export function readSans(read: InputReader): Sans {
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
export function sanExtension(sans: Sans, subjectEmpty: boolean): x509.Extension[] {
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

export interface Usages {
  keyUsage: number;
  extendedKeyUsages: string[];
}

/** `allowedUses` with the provider's snake_case names (e.g. "cert_signing", "server_auth"). */
export function readAllowedUses(read: InputReader): Usages {
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
export function subjectKeyId(publicKey: KeyObject): string {
  const pub = publicOf(publicKey);
  if (pub.asymmetricKeyType === "rsa") return sha1Hex(pub.export({ type: "pkcs1", format: "der" }));
  const jwk = pub.export({ format: "jwk" });
  if (pub.asymmetricKeyType === "ec") {
    return sha1Hex(Buffer.concat([Buffer.from([4]), jwkBytes(jwk.x), jwkBytes(jwk.y)]));
  }
  return sha1Hex(Buffer.concat([Buffer.from([4, 32]), jwkBytes(jwk.x)]));
}
