/**
 * Shared, pure validation helpers. Validators return a list of problems, each naming the property path
 * and the value received; components turn the list into one error before any resource exists.
 */

/** One thing wrong with the args: where (a property path such as "members[1].address") and what. */
export interface Problem {
  path: string;
  message: string;
}

/** The outcome of validating args: errors stop the deployment, warnings are logged. */
export interface ValidationResult {
  errors: Problem[];
  warnings: Problem[];
}

/** Quote a received value for a message: strings in double quotes, everything else as JSON. */
export function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value === undefined) return "undefined";
  return JSON.stringify(value);
}

const dnsLabel = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** True for a DNS label (RFC 1123): lower-case letters, digits and '-', 1-63 characters. */
export function isDnsLabel(name: unknown): boolean {
  return typeof name === "string" && dnsLabel.test(name);
}

/** True for a dotted-quad IPv4 address without leading zeros. */
export function isIPv4(s: unknown): boolean {
  if (typeof s !== "string") return false;
  const parts = s.split(".");
  return parts.length === 4 && parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255);
}

/** True for an IPv6 address in any of its textual forms (without zone or prefix). */
export function isIPv6(s: unknown): boolean {
  if (typeof s !== "string" || !s.includes(":")) return false;
  // Delegate to the URL parser, which implements RFC 4291's textual forms exactly.
  try {
    return new URL(`http://[${s}]/`).hostname.length > 2;
  } catch {
    return false;
  }
}

/** True for an IPv4 or IPv6 address. */
export function isIP(s: unknown): boolean {
  return isIPv4(s) || isIPv6(s);
}

/** True for a TCP/UDP port number 1-65535. */
export function isPort(p: unknown): boolean {
  return typeof p === "number" && Number.isInteger(p) && p >= 1 && p <= 65535;
}

/** An address as it stands in a URL: IPv6 in brackets. */
export function urlHost(address: string): string {
  return isIPv6(address) ? `[${address}]` : address;
}

/** Problems in a list of hosts: empty, names not DNS labels, invalid or duplicate names and addresses. */
export function hostListProblems(
  hosts: ReadonlyArray<{ name?: unknown; address?: unknown }> | undefined,
  path: string,
): Problem[] {
  const problems: Problem[] = [];
  if (!Array.isArray(hosts) || hosts.length === 0) {
    problems.push({ path, message: `${path} must list at least one host, got ${show(hosts)}` });
    return problems;
  }
  const seenNames = new Map<unknown, number>();
  const seenAddresses = new Map<unknown, number>();
  hosts.forEach((h, i) => {
    const at = `${path}[${i}]`;
    if (!isDnsLabel(h?.name)) {
      problems.push({
        path: `${at}.name`,
        message: `${at}.name must be a DNS label (lower-case letters, digits and '-', 1-63 characters, starting and ending with a letter or digit), got ${show(h?.name)}`,
      });
    } else if (seenNames.has(h.name)) {
      problems.push({
        path: `${at}.name`,
        message: `${at}.name ${show(h.name)} is already used by ${path}[${seenNames.get(h.name)}]`,
      });
    } else {
      seenNames.set(h.name, i);
    }
    if (!isIP(h?.address)) {
      problems.push({
        path: `${at}.address`,
        message: `${at}.address must be an IPv4 or IPv6 address, got ${show(h?.address)}`,
      });
    } else if (seenAddresses.has(h.address)) {
      problems.push({
        path: `${at}.address`,
        message: `${at}.address ${show(h.address)} is already used by ${path}[${seenAddresses.get(h.address)}]`,
      });
    } else {
      seenAddresses.set(h.address, i);
    }
  });
  return problems;
}
