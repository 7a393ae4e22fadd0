/**
 * Pure validation of CertificateAuthorityArgs and of issueCertificate's request: every rule returns problems
 * that name the argument and the value. Runs before any key or certificate exists.
 */
import {
  isIP,
  isPending,
  isSanDnsName,
  notAnObject,
  oneOfProblems,
  Problem,
  show,
  ValidationResult,
} from "../validation";
import {
  caKeyPairProblems,
  CertificateRole,
  DEFAULT_CA_VALIDITY_HOURS,
  DEFAULT_CERT_VALIDITY_HOURS,
  defaultEarlyRenewalHours,
  lifetimeProblems,
} from "./profiles";

/** What both a CA and a certificate carry in their subject. */
function subjectProblems(a: { commonName?: unknown; organization?: unknown }): Problem[] {
  const problems: Problem[] = [];
  if (typeof a.commonName !== "string" || a.commonName.trim() === "") {
    problems.push({
      path: "commonName",
      message: `commonName must be a non-empty string, got ${show(a.commonName)}`,
    });
  }
  if (a.organization !== undefined && (typeof a.organization !== "string" || a.organization.trim() === "")) {
    problems.push({
      path: "organization",
      message: `organization must be a non-empty string, got ${show(a.organization)}`,
    });
  }
  return problems;
}

/** CertificateAuthorityArgs: commonName, organization, keyAlgorithm, validityHours, earlyRenewalHours. */
export function validateCertificateAuthorityArgs(args: unknown): ValidationResult {
  const wrong = notAnObject(args, "commonName");
  if (wrong) return wrong;
  const a = args as Record<string, unknown>;
  return {
    errors: [...subjectProblems(a), ...lifetimeProblems(a, "", DEFAULT_CA_VALIDITY_HOURS, () => 0)],
    warnings: [],
  };
}

/** issueCertificate's CA and request: the CA's shape, subject, role, SANs, algorithm and lifetime. */
export function validateCertificateRequest(ca: unknown, req: unknown): ValidationResult {
  const errors = caKeyPairProblems(ca, "ca");
  if (ca === undefined) errors.push({ path: "ca", message: "ca is required, got undefined" });
  const wrong = notAnObject(req, "commonName and role");
  if (wrong) return { errors: [...errors, ...wrong.errors], warnings: [] };
  const r = req as Record<string, unknown>;
  errors.push(...subjectProblems(r));
  if (r.role === undefined) {
    errors.push({
      path: "role",
      message: `role is required: one of ${Object.values(CertificateRole).join(", ")}, got undefined`,
    });
  }
  errors.push(...oneOfProblems(r.role, CertificateRole, "role"));
  if (r.altNames !== undefined && !Array.isArray(r.altNames)) {
    errors.push({ path: "altNames", message: `altNames must be a list, got ${show(r.altNames)}` });
  } else {
    ((r.altNames as unknown[]) ?? []).forEach((n, i) => {
      if (!isPending(n) && !isIP(n) && !isSanDnsName(n)) {
        errors.push({
          path: `altNames[${i}]`,
          message: `altNames[${i}] must be an IP address or a DNS name, got ${show(n)}`,
        });
      }
    });
  }
  errors.push(...lifetimeProblems(r, "", DEFAULT_CERT_VALIDITY_HOURS, defaultEarlyRenewalHours));
  return { errors, warnings: [] };
}
