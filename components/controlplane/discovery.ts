/**
 * kubeadm's discovery-token CA certificate hash, computed in the program from the CA certificate so that
 * joining nodes need nothing read back from the first master. Pure: node:crypto only, no Pulumi import.
 */
import { createHash, X509Certificate } from "node:crypto";

/**
 * "sha256:<hex>" of the DER-encoded SubjectPublicKeyInfo of the CA certificate, the format of kubeadm's
 * `discovery.bootstrapToken.caCertHashes` (the same as
 * `openssl x509 -pubkey | openssl pkey -pubin -outform der | sha256sum`).
 * Throws with a clear message if `caCertPem` is not a PEM certificate.
 */
export function discoveryTokenCaCertHash(caCertPem: string): string {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(caCertPem);
  } catch (e) {
    throw new Error(`the cluster CA certificate is not a PEM X.509 certificate: ${(e as Error).message}`);
  }
  const spki = cert.publicKey.export({ type: "spki", format: "der" });
  return `sha256:${createHash("sha256").update(spki).digest("hex")}`;
}
