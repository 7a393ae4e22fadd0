/** Values the HaControlPlane renderer tests share. */
import { EtcdTopology, KnownHaControlPlaneArgs } from "../../../components/controlplane/types";

/** A fake token and hash: the renderers do not check them beyond the token's format. */
export const TOKEN = "abcdef.0123456789abcdef";
export const HASH = `sha256:${"0123456789abcdef".repeat(4)}`;

/** External etcd with three members and placeholder PEMs. */
export const EXTERNAL = {
  topology: EtcdTopology.External,
  endpoints: ["https://10.0.0.21:2379", "https://10.0.0.22:2379", "https://10.0.0.23:2379"],
  caCertPem: "ETCD CA",
  clientCertPem: "ETCD CLIENT CERT",
  clientKeyPem: "ETCD CLIENT KEY",
};

/** The "oidc" goldens' options: OIDC, extra SANs, extra API server flags and ignored preflight checks. */
export const OIDC_AND_EXTRAS: Partial<KnownHaControlPlaneArgs> = {
  apiServer: {
    extraSans: ["api.example.com", "*.api.example.com", "192.0.2.10"],
    oidc: {
      issuerUrl: "https://login.example.com",
      clientId: "kubernetes",
      usernameClaim: "email",
      groupsClaim: "groups",
      groupsPrefix: "oidc:",
    },
    extraArgs: { "default-not-ready-toleration-seconds": "30", "anonymous-auth": "true" },
  },
  ignorePreflightErrors: ["NumCPU", "Mem"],
};
