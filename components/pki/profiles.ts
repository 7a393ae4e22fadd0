/**
 * Pure PKI decisions: key algorithms, key usages per certificate role, validity defaults and SANs.
 * No Pulumi import, so every choice here is unit-tested as plain data.
 */
import { isPending, oneOfProblems, Problem } from "../validation";
import { show } from "../show";

/**
 * The key algorithm for a CA or a certificate. As in Pulumi's generated SDKs, a `const` object and a
 * union of its string values: `KeyAlgorithm.EcdsaP256` and `"ECDSA_P256"` are both accepted.
 */
export const KeyAlgorithm = {
  /** ECDSA on NIST P-256: small, fast, accepted by every TLS stack Kubernetes and etcd use. The default. */
  EcdsaP256: "ECDSA_P256",
  /** ECDSA on NIST P-384. */
  EcdsaP384: "ECDSA_P384",
  /** RSA with a 2048-bit modulus. */
  Rsa2048: "RSA_2048",
  /** RSA with a 3072-bit modulus. */
  Rsa3072: "RSA_3072",
  /** RSA with a 4096-bit modulus. */
  Rsa4096: "RSA_4096",
  /** Ed25519: Go's TLS (etcd, Kubernetes) accepts it; many other clients (browsers, older OpenSSL) do not. */
  Ed25519: "ED25519",
} as const;
export type KeyAlgorithm = (typeof KeyAlgorithm)[keyof typeof KeyAlgorithm];

/** What a certificate is for; decides its key usages. */
export const CertificateRole = {
  /** A TLS server that also acts as a client of its peers' servers (etcd server certs, as kubeadm issues them). */
  Server: "server",
  /** A TLS client only (consumers of etcd, kubelets). */
  Client: "client",
  /** Both ends of a mutual-TLS link between cluster members (etcd peer certs). */
  Peer: "peer",
} as const;
export type CertificateRole = (typeof CertificateRole)[keyof typeof CertificateRole];

/** The inputs of @pulumi/tls' PrivateKey for an algorithm; the curve is always set explicitly. */
export interface TlsKeyParameters {
  algorithm: "ECDSA" | "RSA" | "ED25519";
  ecdsaCurve?: "P256" | "P384";
  rsaBits?: number;
}

/** Map a {@link KeyAlgorithm} to @pulumi/tls PrivateKey inputs. */
export function tlsKeyParameters(algorithm: KeyAlgorithm): TlsKeyParameters {
  switch (algorithm) {
    case KeyAlgorithm.EcdsaP256:
      return { algorithm: "ECDSA", ecdsaCurve: "P256" };
    case KeyAlgorithm.EcdsaP384:
      return { algorithm: "ECDSA", ecdsaCurve: "P384" };
    case KeyAlgorithm.Rsa2048:
      return { algorithm: "RSA", rsaBits: 2048 };
    case KeyAlgorithm.Rsa3072:
      return { algorithm: "RSA", rsaBits: 3072 };
    case KeyAlgorithm.Rsa4096:
      return { algorithm: "RSA", rsaBits: 4096 };
    case KeyAlgorithm.Ed25519:
      return { algorithm: "ED25519" };
  }
  throw new Error(
    `unknown key algorithm ${show(algorithm)}; use one of ${Object.values(KeyAlgorithm).join(", ")}`,
  );
}

/** @pulumi/tls `allowedUses` for a role. key_encipherment is kept for RSA key exchange in TLS 1.2. */
export function allowedUses(role: CertificateRole): string[] {
  switch (role) {
    case CertificateRole.Server:
      return ["digital_signature", "key_encipherment", "server_auth", "client_auth"];
    case CertificateRole.Client:
      return ["digital_signature", "key_encipherment", "client_auth"];
    case CertificateRole.Peer:
      return ["digital_signature", "key_encipherment", "server_auth", "client_auth"];
  }
  throw new Error(`unknown certificate role ${show(role)}`);
}

/** `allowedUses` of a CA certificate. */
export const CA_ALLOWED_USES = ["cert_signing", "crl_signing", "digital_signature"];

/**
 * Validity defaults. The classic guides issue one-year certificates by hand and clusters break when they
 * expire. hakube keeps the one-year leaf lifetime that kubeadm uses, but sets an early-renewal window:
 * any `pulumi up` within the last 90 days of a certificate's life reissues it and rolls it out.
 */
export const DEFAULT_CERT_VALIDITY_HOURS = 365 * 24;
/** Reissue on the first `pulumi up` in the last 90 days of a leaf certificate's life. */
export const DEFAULT_CERT_EARLY_RENEWAL_HOURS = 90 * 24;

/**
 * The early renewal of a leaf certificate valid `validityHours` that gives none: 90 days, or a quarter of
 * the validity when that is shorter (a one-day certificate is reissued in its last 6 hours).
 */
export function defaultEarlyRenewalHours(validityHours: number): number {
  return Math.min(DEFAULT_CERT_EARLY_RENEWAL_HOURS, Math.floor(validityHours / 4));
}
/**
 * CA lifetime: 10 years, as kubeadm's CAs. No early renewal by default: replacing a CA under a running
 * cluster is a planned, staged operation (trust both, then switch), never an automatic side effect.
 */
export const DEFAULT_CA_VALIDITY_HOURS = 10 * 365 * 24;
export const DEFAULT_KEY_ALGORITHM = KeyAlgorithm.EcdsaP256;

/** The SANs of a certificate, split as @pulumi/tls wants them. */
export interface SubjectAltNames {
  dnsNames: string[];
  ipAddresses: string[];
}

/**
 * Split names into DNS names and IP addresses, dropping duplicates and keeping first-seen order.
 * `isIp` decides which is which (injected so this file stays free of validation imports).
 */
export function subjectAltNames(names: readonly string[], isIp: (s: string) => boolean): SubjectAltNames {
  const unique = [...new Set(names)];
  return { dnsNames: unique.filter((n) => !isIp(n)), ipAddresses: unique.filter((n) => isIp(n)) };
}

/** The lifetime settings of a CA or a certificate, as CertificateAuthorityArgs, CertificateRequestArgs and EtcdCertificateArgs name them. */
export interface LifetimeArgs {
  keyAlgorithm?: unknown;
  validityHours?: unknown;
  earlyRenewalHours?: unknown;
}

/**
 * Problems in a key algorithm and lifetime at `path` ("" for top-level args, "certificates."): an unknown
 * algorithm, a validity that is not a whole number of hours of at least 1, an early renewal that is not a
 * whole number of hours below the validity (a certificate always inside its renewal window would be
 * reissued by every `pulumi up`).
 */
export function lifetimeProblems(
  a: LifetimeArgs,
  prefix: string,
  defaultValidityHours: number,
  defaultEarly: (validityHours: number) => number,
): Problem[] {
  const problems = oneOfProblems(a.keyAlgorithm, KeyAlgorithm, `${prefix}keyAlgorithm`);
  const whole = (v: unknown, min: number) => typeof v === "number" && Number.isInteger(v) && v >= min;
  const validity = a.validityHours ?? defaultValidityHours;
  if (!whole(validity, 1)) {
    problems.push({
      path: `${prefix}validityHours`,
      message: `${prefix}validityHours must be a whole number of hours, at least 1, got ${show(validity)}`,
    });
    if (a.earlyRenewalHours === undefined) return problems; // no default to compare with
  }
  const early = a.earlyRenewalHours ?? defaultEarly(validity as number);
  if (!whole(early, 0)) {
    problems.push({
      path: `${prefix}earlyRenewalHours`,
      message: `${prefix}earlyRenewalHours must be a whole number of hours, 0 or more, got ${show(early)}`,
    });
  } else if (whole(validity, 1) && (early as number) >= (validity as number)) {
    problems.push({
      path: `${prefix}earlyRenewalHours`,
      message: `${prefix}earlyRenewalHours must be less than ${prefix}validityHours (${validity}): a certificate always inside its renewal window is reissued by every \`pulumi up\`, got ${early}`,
    });
  }
  return problems;
}

/**
 * Problems in a CA given to a component (`ca`): not an object with certPem and privateKeyPem, a plain
 * certPem that is no PEM certificate, an unknown keyAlgorithm. Outputs are not looked into.
 */
export function caKeyPairProblems(ca: unknown, path: string): Problem[] {
  if (ca === undefined) return [];
  if (ca === null || typeof ca !== "object" || Array.isArray(ca) || isPending(ca)) {
    return [
      {
        path,
        message: `${path} must be a CA key pair: a CertificateAuthority, or an object with certPem, privateKeyPem and keyAlgorithm, got ${show(ca)}`,
      },
    ];
  }
  const c = ca as Record<string, unknown>;
  const problems: Problem[] = [];
  for (const key of ["certPem", "privateKeyPem"]) {
    if (c[key] === undefined || c[key] === null || c[key] === "") {
      problems.push({ path: `${path}.${key}`, message: `${path}.${key} is required, got ${show(c[key])}` });
    }
  }
  if (
    typeof c.certPem === "string" &&
    c.certPem !== "" &&
    !c.certPem.includes("-----BEGIN CERTIFICATE-----")
  ) {
    problems.push({
      path: `${path}.certPem`,
      message: `${path}.certPem must be a PEM certificate ("-----BEGIN CERTIFICATE-----..."), got ${show(c.certPem)}`,
    });
  }
  problems.push(...oneOfProblems(c.keyAlgorithm, KeyAlgorithm, `${path}.keyAlgorithm`));
  return problems;
}
