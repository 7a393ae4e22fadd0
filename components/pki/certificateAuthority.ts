import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { argsChecker, enforce } from "../errors";
import {
  allowedUses,
  CA_ALLOWED_USES,
  CertificateRole,
  DEFAULT_CA_VALIDITY_HOURS,
  DEFAULT_CERT_VALIDITY_HOURS,
  defaultEarlyRenewalHours,
  DEFAULT_KEY_ALGORITHM,
  KeyAlgorithm,
  subjectAltNames,
  tlsKeyParameters,
} from "./profiles";
import { validateCertificateAuthorityArgs, validateCertificateRequest } from "./validate";
import { isIP } from "../validation";

/** A CA that can sign: its certificate and private key. A {@link CertificateAuthority} satisfies it. */
export interface CaKeyPairArgs {
  /** The CA certificate (PEM). */
  certPem: pulumi.Input<string>;
  /** Made secret by whoever uses it. */
  privateKeyPem: pulumi.Input<string>;
  /** The algorithm of the CA key. @default KeyAlgorithm.EcdsaP256 */
  keyAlgorithm?: KeyAlgorithm;
}

/** The args of a {@link CertificateAuthority}. */
export interface CertificateAuthorityArgs {
  /** The CA certificate's common name, e.g. "etcd-ca". */
  commonName: string;
  /** The CA certificate's organization (O). @default "hakube" */
  organization?: string;
  /** The algorithm of the CA key. @default KeyAlgorithm.EcdsaP256 */
  keyAlgorithm?: KeyAlgorithm;
  /** A whole number of hours, at least 1. @default 87600 (10 years, as kubeadm) */
  validityHours?: number;
  /**
   * Reissue the CA on a `pulumi up` within this many hours of its expiry; less than `validityHours`.
   * Replacing a CA under a running cluster is a planned, staged operation, hence no renewal by default.
   * @default 0
   */
  earlyRenewalHours?: number;
}

/**
 * A self-signed certificate authority on `@pulumi/tls`. Its private key is a Pulumi secret. One CA can sign
 * for several components; sharing the cluster CA with etcd makes etcd trust every certificate the cluster
 * CA signs (HaControlPlane warns about it).
 */
export class CertificateAuthority extends pulumi.ComponentResource implements CaKeyPairArgs {
  /** The CA certificate (PEM), known once the certificate is made. */
  public readonly certPem: pulumi.Output<string>;
  /** The CA key (PEM). Secret. */
  public readonly privateKeyPem: pulumi.Output<string>;
  /** The algorithm of the CA key; certificates it issues get the same one unless they ask otherwise. */
  public readonly keyAlgorithm: KeyAlgorithm;

  constructor(name: string, args: CertificateAuthorityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hakube:index:CertificateAuthority", name, {}, opts);
    enforce(validateCertificateAuthorityArgs(args), `CertificateAuthority ${name}`, this);
    this.keyAlgorithm = args.keyAlgorithm ?? DEFAULT_KEY_ALGORITHM;
    const key = new tls.PrivateKey(`${name}-key`, tlsKeyParameters(this.keyAlgorithm), { parent: this });
    const cert = new tls.SelfSignedCert(
      `${name}-cert`,
      {
        privateKeyPem: key.privateKeyPem,
        isCaCertificate: true,
        setSubjectKeyId: true,
        allowedUses: CA_ALLOWED_USES,
        validityPeriodHours: args.validityHours ?? DEFAULT_CA_VALIDITY_HOURS,
        ...(args.earlyRenewalHours ? { earlyRenewalHours: args.earlyRenewalHours } : {}),
        subject: { commonName: args.commonName, organization: args.organization ?? "hakube" },
      },
      { parent: this },
    );
    this.certPem = cert.certPem;
    this.privateKeyPem = pulumi.secret(key.privateKeyPem);
    this.registerOutputs({ certPem: this.certPem, privateKeyPem: this.privateKeyPem });
  }
}

/** What to put in one issued certificate. */
export interface CertificateRequestArgs {
  /** The certificate's common name (CN). */
  commonName: string;
  /** The certificate's organization (O); Kubernetes reads it as the user's group. @default none */
  organization?: string;
  /** Server, client or peer: sets the key usages and extended key usages. */
  role: CertificateRole;
  /** DNS names and IP addresses (strings or Outputs, such as a host's address); sorted into the right SAN kind once known. */
  altNames?: pulumi.Input<string>[];
  /** @default the CA's algorithm, or ECDSA P-256 */
  keyAlgorithm?: KeyAlgorithm;
  /** A whole number of hours, at least 1. @default 8760 (1 year) */
  validityHours?: number;
  /**
   * Less than `validityHours`: a `pulumi up` inside this window reissues the certificate.
   * @default 2160 (90 days), or a quarter of `validityHours` when that is shorter
   */
  earlyRenewalHours?: number;
}

/** An issued certificate; the key is a secret. */
export interface IssuedCertificate {
  /** The certificate (PEM). */
  certPem: pulumi.Output<string>;
  /** The certificate's private key (PEM). Secret. */
  privateKeyPem: pulumi.Output<string>;
}

/**
 * Issue a certificate signed by `ca`: a private key, a CSR and the signed certificate, three @pulumi/tls
 * resources named `${name}-key`, `${name}-csr` and `${name}-cert` under `opts.parent`. Invalid arguments
 * throw an InputPropertiesError ("issueCertificate <name> has invalid arguments: ...") before any of them
 * is registered.
 */
export function issueCertificate(
  name: string,
  ca: CaKeyPairArgs,
  req: CertificateRequestArgs,
  opts: pulumi.CustomResourceOptions,
): IssuedCertificate {
  const component = `issueCertificate ${name}`;
  const check = argsChecker((r: CertificateRequestArgs) => validateCertificateRequest(ca, r), component);
  check.now(req);
  const key = new tls.PrivateKey(
    `${name}-key`,
    tlsKeyParameters(req.keyAlgorithm ?? ca.keyAlgorithm ?? DEFAULT_KEY_ALGORITHM),
    opts,
  );
  // SANs given as Outputs are checked by the same rules once they resolve, then sorted.
  const sans = check
    .whenKnown(pulumi.all(req.altNames ?? []).apply((altNames) => ({ ...req, altNames })))
    .apply((known) => subjectAltNames(known.altNames, isIP));
  const csr = new tls.CertRequest(
    `${name}-csr`,
    {
      privateKeyPem: key.privateKeyPem,
      subject: { commonName: req.commonName, organization: req.organization },
      dnsNames: sans.dnsNames,
      ipAddresses: sans.ipAddresses,
    },
    opts,
  );
  const cert = new tls.LocallySignedCert(
    `${name}-cert`,
    {
      certRequestPem: csr.certRequestPem,
      caCertPem: ca.certPem,
      caPrivateKeyPem: pulumi.secret(ca.privateKeyPem),
      allowedUses: allowedUses(req.role),
      validityPeriodHours: req.validityHours ?? DEFAULT_CERT_VALIDITY_HOURS,
      earlyRenewalHours:
        req.earlyRenewalHours ?? defaultEarlyRenewalHours(req.validityHours ?? DEFAULT_CERT_VALIDITY_HOURS),
      setSubjectKeyId: true,
    },
    opts,
  );
  return { certPem: cert.certPem, privateKeyPem: pulumi.secret(key.privateKeyPem) };
}
