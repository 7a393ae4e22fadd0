import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import {
  allowedUses,
  CA_ALLOWED_USES,
  CertificateRole,
  DEFAULT_CA_VALIDITY_HOURS,
  DEFAULT_CERT_EARLY_RENEWAL_HOURS,
  DEFAULT_CERT_VALIDITY_HOURS,
  DEFAULT_KEY_ALGORITHM,
  KeyAlgorithm,
  subjectAltNames,
  tlsKeyParameters,
} from "./profiles";
import { isIP } from "../validation";
import { show } from "../show";

/** A CA that can sign: its certificate and private key. A {@link CertificateAuthority} satisfies it. */
export interface CaKeyPairArgs {
  certPem: pulumi.Input<string>;
  /** Made secret by whoever uses it. */
  privateKeyPem: pulumi.Input<string>;
  /** The algorithm of the CA key. @default KeyAlgorithm.EcdsaP256 */
  keyAlgorithm?: KeyAlgorithm;
}

export interface CertificateAuthorityArgs {
  /** The CA certificate's common name, e.g. "etcd-ca". */
  commonName: string;
  /** @default "hakube" */
  organization?: string;
  /** @default KeyAlgorithm.EcdsaP256 */
  keyAlgorithm?: KeyAlgorithm;
  /** @default 87600 (10 years, as kubeadm) */
  validityHours?: number;
}

/**
 * A self-signed certificate authority on @pulumi/tls. Its private key is a Pulumi secret. One CA can sign
 * for several components (the etcd CA is used again by the control plane for its etcd client).
 */
export class CertificateAuthority extends pulumi.ComponentResource implements CaKeyPairArgs {
  public readonly certPem: pulumi.Output<string>;
  public readonly privateKeyPem: pulumi.Output<string>;
  public readonly keyAlgorithm: KeyAlgorithm;

  constructor(name: string, args: CertificateAuthorityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hakube:index:CertificateAuthority", name, {}, opts);
    if (!args || typeof args.commonName !== "string" || args.commonName.trim() === "") {
      throw new pulumi.InputPropertiesError({
        message: `CertificateAuthority ${name}: commonName must be a non-empty string, got ${show(args?.commonName)}`,
        errors: [{ propertyPath: "commonName", reason: "must be a non-empty string" }],
      });
    }
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
  commonName: string;
  organization?: string;
  role: CertificateRole;
  /** DNS names and IP addresses; sorted into the right SAN kind. */
  altNames?: string[];
  /** @default the CA's algorithm, or ECDSA P-256 */
  keyAlgorithm?: KeyAlgorithm;
  /** @default 8760 (1 year) */
  validityHours?: number;
  /** @default 2160 (90 days): a `pulumi up` inside this window reissues the certificate. */
  earlyRenewalHours?: number;
}

/** An issued certificate; the key is a secret. */
export interface IssuedCertificate {
  certPem: pulumi.Output<string>;
  privateKeyPem: pulumi.Output<string>;
}

/**
 * Issue a certificate signed by `ca`: a private key, a CSR and the signed certificate, three @pulumi/tls
 * resources named `${name}-key`, `${name}-csr` and `${name}-cert` under `opts.parent`.
 */
export function issueCertificate(
  name: string,
  ca: CaKeyPairArgs,
  req: CertificateRequestArgs,
  opts: pulumi.CustomResourceOptions,
): IssuedCertificate {
  const key = new tls.PrivateKey(
    `${name}-key`,
    tlsKeyParameters(req.keyAlgorithm ?? ca.keyAlgorithm ?? DEFAULT_KEY_ALGORITHM),
    opts,
  );
  const sans = subjectAltNames(req.altNames ?? [], isIP);
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
      earlyRenewalHours: req.earlyRenewalHours ?? DEFAULT_CERT_EARLY_RENEWAL_HOURS,
      setSubjectKeyId: true,
    },
    opts,
  );
  return { certPem: cert.certPem, privateKeyPem: pulumi.secret(key.privateKeyPem) };
}
