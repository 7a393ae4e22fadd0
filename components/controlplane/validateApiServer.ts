/** HaControlPlane's kube-apiserver checks: SANs, extra flags (none hakube sets), audit, OIDC. Pure. */
import { isHttpUrl, isIP, isPort, isWholeInRange, Problem, show, stringListProblems } from "../validation";
import { isSanDnsName } from "../net";
import { HaControlPlaneArgs, SecretsEncryptionProvider } from "./types";

/** kube-apiserver flags that hakube sets; `apiServer.extraArgs` may not set them. */
export const MANAGED_API_SERVER_FLAGS = [
  "advertise-address",
  "secure-port",
  "etcd-servers",
  "etcd-cafile",
  "etcd-certfile",
  "etcd-keyfile",
  "service-cluster-ip-range",
  "client-ca-file",
  "tls-cert-file",
  "tls-private-key-file",
  "service-account-key-file",
  "service-account-signing-key-file",
  "service-account-issuer",
  "audit-policy-file",
  "audit-log-path",
  "audit-log-maxage",
  "audit-log-maxbackup",
  "audit-log-maxsize",
  "encryption-provider-config",
  "oidc-issuer-url",
  "oidc-client-id",
  "oidc-username-claim",
  "oidc-username-prefix",
  "oidc-groups-claim",
  "oidc-groups-prefix",
];

/** A string that can go into a flag value or YAML safely: no whitespace, quotes, backslashes. */
function isToken(v: unknown): boolean {
  return typeof v === "string" && /^[^\s"'\\]+$/.test(v);
}

export function apiServerProblems(args: HaControlPlaneArgs): Problem[] {
  const problems: Problem[] = [];
  const api = args.apiServer ?? {};
  problems.push(
    ...stringListProblems(
      api.extraSans,
      "apiServer.extraSans",
      (v) => isIP(v) || isSanDnsName(v),
      `an IP address or a DNS name (lower case; a wildcard as "*.example.com")`,
    ),
  );
  if (api.bindPort !== undefined && !isPort(api.bindPort)) {
    problems.push({
      path: "apiServer.bindPort",
      message: `apiServer.bindPort must be a port number 1-65535, got ${show(api.bindPort)}`,
    });
  }
  if (api.oidc !== undefined) {
    const o = api.oidc;
    if (!isHttpUrl(o?.issuerUrl, true)) {
      problems.push({
        path: "apiServer.oidc.issuerUrl",
        message: `apiServer.oidc.issuerUrl must be an https URL (kube-apiserver accepts no other), got ${show(o?.issuerUrl)}`,
      });
    }
    for (const key of [
      "clientId",
      "usernameClaim",
      "usernamePrefix",
      "groupsClaim",
      "groupsPrefix",
    ] as const) {
      const v = o?.[key];
      if ((key === "clientId" || v !== undefined) && !isToken(v)) {
        problems.push({
          path: `apiServer.oidc.${key}`,
          message: `apiServer.oidc.${key} must be a non-empty string without spaces, quotes or backslashes, got ${show(v)}`,
        });
      }
    }
  }
  const audit = api.audit ?? {};
  if (audit.enabled !== undefined && typeof audit.enabled !== "boolean") {
    problems.push({
      path: "apiServer.audit.enabled",
      message: `apiServer.audit.enabled must be true or false, got ${show(audit.enabled)}`,
    });
  }
  if (audit.enabled === false) {
    for (const key of ["policy", "maxAgeDays", "maxBackups", "maxSizeMb"] as const) {
      if (audit[key] !== undefined) {
        problems.push({
          path: `apiServer.audit.${key}`,
          message: `apiServer.audit.${key} only applies when the audit log is enabled, got it with apiServer.audit.enabled false`,
        });
      }
    }
  } else {
    if (
      audit.policy !== undefined &&
      (typeof audit.policy !== "string" || !/^kind: *Policy *$/m.test(audit.policy))
    ) {
      problems.push({
        path: "apiServer.audit.policy",
        message: `apiServer.audit.policy must be an audit.k8s.io/v1 Policy in YAML (with a line "kind: Policy"), got ${show(audit.policy)}`,
      });
    }
    for (const key of ["maxAgeDays", "maxBackups", "maxSizeMb"] as const) {
      if (audit[key] !== undefined && !isWholeInRange(audit[key], 1)) {
        problems.push({
          path: `apiServer.audit.${key}`,
          message: `apiServer.audit.${key} must be a whole number, at least 1, got ${show(audit[key])}`,
        });
      }
    }
  }
  const enc = api.secretsEncryption ?? {};
  if (enc.enabled !== undefined && typeof enc.enabled !== "boolean") {
    problems.push({
      path: "apiServer.secretsEncryption.enabled",
      message: `apiServer.secretsEncryption.enabled must be true or false, got ${show(enc.enabled)}`,
    });
  }
  const providers = Object.values(SecretsEncryptionProvider) as string[];
  if (enc.provider !== undefined) {
    if (enc.enabled === false) {
      problems.push({
        path: "apiServer.secretsEncryption.provider",
        message: `apiServer.secretsEncryption.provider only applies when encryption is enabled, got it with apiServer.secretsEncryption.enabled false`,
      });
    } else if (!providers.includes(enc.provider)) {
      problems.push({
        path: "apiServer.secretsEncryption.provider",
        message: `apiServer.secretsEncryption.provider must be one of ${providers.join(", ")}, got ${show(enc.provider)}`,
      });
    }
  }
  for (const [flag, value] of Object.entries(api.extraArgs ?? {})) {
    const path = `apiServer.extraArgs[${JSON.stringify(flag)}]`;
    if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(flag)) {
      problems.push({
        path,
        message: `apiServer.extraArgs keys must be kube-apiserver flag names without dashes in front, such as "default-not-ready-toleration-seconds", got ${show(flag)}`,
      });
    } else if (MANAGED_API_SERVER_FLAGS.includes(flag)) {
      problems.push({
        path,
        message: `apiServer.extraArgs may not set ${show(flag)}: hakube manages it (see ApiServerArgs)`,
      });
    } else if (flag === "anonymous-auth" && value === "false") {
      problems.push({
        path,
        message: `apiServer.extraArgs may not set "anonymous-auth" to "false": the readiness gate and load balancers' health checks read /readyz without credentials`,
      });
    }
    if (typeof value !== "string" || /[\n\r]/.test(value)) {
      problems.push({ path, message: `${path} must be a string without line breaks, got ${show(value)}` });
    }
  }
  return problems;
}
