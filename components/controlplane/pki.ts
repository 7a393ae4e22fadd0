import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import * as tls from "@pulumi/tls";
import { CaKeyPairArgs, CertificateAuthority, issueCertificate } from "../pki/certificateAuthority";
import { CertificateRole, KeyAlgorithm, tlsKeyParameters } from "../pki/profiles";
import { ADMIN_COMMON_NAME, SECRETS_ENCRYPTION_KEY_BYTES } from "./defaults";
import { discoveryTokenCaCertHash } from "./discovery";

/** What {@link ControlPlanePki} makes; resolved by HaControlPlane from its args. */
export interface ControlPlanePkiArgs {
  /** The prefix of every resource's name (the HaControlPlane's name): `<prefix>-ca`, `<prefix>-sa-key`, ... */
  prefix: string;
  /** The cluster CA to use; a new one "<prefix>-ca" when unset. */
  ca?: CaKeyPairArgs;
  keyAlgorithm: KeyAlgorithm;
  serviceAccountKeyAlgorithm: KeyAlgorithm;
  /** Stacked etcd: an etcd CA too. */
  etcdCa: boolean;
  /** The admin certificate's organization (its group, by Kubernetes minor). */
  adminGroup: string;
  /** Encryption of Secrets at rest: a 32-byte key too. */
  encryptionKey: boolean;
}

/**
 * HaControlPlane's PKI, made once (@pulumi/tls, @pulumi/random) and the same on every master: the cluster
 * CA (unless given), the front-proxy CA, the etcd CA (stacked etcd), the service-account key pair, the
 * admin certificate, the bootstrap token and the key that encrypts Secrets at rest.
 *
 * Its resources keep the names they had as HaControlPlane's children, and each has an alias to that
 * parent: stacks made before this component existed see no replacement.
 */
export class ControlPlanePki extends pulumi.ComponentResource {
  public readonly ca: CaKeyPairArgs;
  public readonly frontProxyCa: CertificateAuthority;
  public readonly etcdCa?: CertificateAuthority;
  public readonly serviceAccountKey: tls.PrivateKey;
  /** The admin client certificate ("kubernetes-admin"). */
  public readonly admin: { certPem: pulumi.Output<string>; privateKeyPem: pulumi.Output<string> };
  /** The bootstrap token "[a-z0-9]{6}.[a-z0-9]{16}". Secret. */
  public readonly token: pulumi.Output<string>;
  /** The discovery hash of the cluster CA ("sha256:..."): with the token, all a joining node needs. */
  public readonly caCertHash: pulumi.Output<string>;
  /** The key that encrypts Secrets at rest (base64), when encryption is on. */
  public readonly encryptionKey?: pulumi.Output<string>;

  /** @param opts must name the HaControlPlane as parent: it is the parent the aliases point at. */
  constructor(name: string, args: ControlPlanePkiArgs, opts: pulumi.ComponentResourceOptions) {
    super("hakube:index:ControlPlanePki", name, {}, opts);
    const { prefix, keyAlgorithm } = args;
    // Every child was HaControlPlane's before: the alias keeps its URN.
    const child: pulumi.CustomResourceOptions = { parent: this, aliases: [{ parent: opts.parent }] };

    this.ca =
      args.ca ?? new CertificateAuthority(`${prefix}-ca`, { commonName: "kubernetes", keyAlgorithm }, child);
    this.frontProxyCa = new CertificateAuthority(
      `${prefix}-front-proxy-ca`,
      { commonName: "front-proxy-ca", keyAlgorithm },
      child,
    );
    this.etcdCa = args.etcdCa
      ? new CertificateAuthority(`${prefix}-etcd-ca`, { commonName: "etcd-ca", keyAlgorithm }, child)
      : undefined;
    this.serviceAccountKey = new tls.PrivateKey(
      `${prefix}-sa-key`,
      tlsKeyParameters(args.serviceAccountKeyAlgorithm),
      child,
    );
    this.admin = issueCertificate(
      `${prefix}-admin`,
      this.ca,
      {
        commonName: ADMIN_COMMON_NAME,
        organization: args.adminGroup,
        role: CertificateRole.Client,
        keyAlgorithm,
      },
      child,
    );

    const tokenId = new random.RandomString(
      `${prefix}-token-id`,
      { length: 6, upper: false, special: false, lower: true, numeric: true },
      child,
    );
    const tokenSecret = new random.RandomPassword(
      `${prefix}-token-secret`,
      { length: 16, upper: false, special: false, lower: true, numeric: true },
      child,
    );
    this.token = pulumi.secret(
      pulumi.all([tokenId.result, tokenSecret.result]).apply(([i, t]) => `${i}.${t}`),
    );
    this.caCertHash = pulumi.output(this.ca.certPem).apply(discoveryTokenCaCertHash);
    this.encryptionKey = args.encryptionKey
      ? new random.RandomBytes(`${prefix}-encryption-key`, { length: SECRETS_ENCRYPTION_KEY_BYTES }, child)
          .base64
      : undefined;
    this.registerOutputs({});
  }
}
