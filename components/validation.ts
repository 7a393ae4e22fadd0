/**
 * Shared, pure validation helpers. Validators return a list of problems, each naming the property path
 * and the value received; components turn the list into one error before any resource exists. The
 * address, port and DNS name checks live in components/net.ts and are re-exported here.
 */
import { isDnsLabel, isIP } from "./net";
import { show } from "./show";

export { isDnsLabel, isIP, isIPv4, isIPv6, isPort, urlHost } from "./net";
export { show } from "./show";

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
