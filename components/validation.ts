/**
 * Shared, pure validation helpers. Validators return a list of problems, each naming the property path
 * and the value received; components turn the list into one error before any resource exists. The
 * address, port and DNS name checks live in components/net.ts and are re-exported here.
 */
import { addressKey, isDnsLabel, isIP, isPort } from "./net";
import { show } from "./show";

export { isDnsLabel, isIP, isIPv4, isIPv6, isPort, isSanDnsName, urlHost } from "./net";
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

/** A whole number in [min, max]. */
export function isWholeInRange(v: unknown, min: number, max = Infinity): boolean {
  return typeof v === "number" && Number.isInteger(v) && v >= min && v <= max;
}

/** An http(s) URL (https only with `httpsOnly`) with a host, without spaces, quotes or backslashes. */
export function isHttpUrl(v: unknown, httpsOnly = false): boolean {
  if (typeof v !== "string" || /[\s'"\\]/.test(v)) return false;
  try {
    const u = new URL(v);
    return (u.protocol === "https:" || (!httpsOnly && u.protocol === "http:")) && u.hostname !== "";
  } catch {
    return false;
  }
}

/** A sha256 as 64 lower-case hex digits. */
export function isSha256(v: unknown): boolean {
  return typeof v === "string" && /^[0-9a-f]{64}$/.test(v);
}

/** An absolute path on a host: letters, digits, '.', '_', '-' and '/', neither "/" nor with "..". */
export function isAbsolutePath(v: unknown): boolean {
  return typeof v === "string" && /^\/[A-Za-z0-9._/-]*$/.test(v) && v !== "/" && !v.includes("..");
}

/** "`path` must be one of a, b, c, got x" when `value` is not among `choices`. */
export function oneOfProblem(value: unknown, choices: readonly string[], path: string): Problem | undefined {
  if (choices.includes(value as string)) return undefined;
  return { path, message: `${path} must be one of ${choices.join(", ")}, got ${show(value)}` };
}

/** The problem of oneOfProblem() with an enum-like object's values, when `value` is given at all. */
export function oneOfProblems(value: unknown, values: object, path: string): Problem[] {
  const bad = value === undefined ? undefined : oneOfProblem(value, Object.values(values), path);
  return bad ? [bad] : [];
}

/**
 * True for a value that is not known yet: a Pulumi Output or a Promise (an `Input<string>` such as an EC2
 * instance's `privateIp`). Validators skip such values; the component checks them with the same rules
 * once they resolve (components/errors.ts `checkWhenKnown`). Pure: recognises an Output by the marker
 * property Pulumi sets on every Output, without importing Pulumi.
 */
export function isPending(v: unknown): boolean {
  if (v === null || typeof v !== "object") return false;
  const o = v as { __pulumiOutput?: unknown; then?: unknown };
  return o.__pulumiOutput === true || typeof o.then === "function";
}

/** Key types an SSH server presents, as OpenSSH names them in a public key line. */
const SSH_KEY_TYPES = [
  "ssh-ed25519",
  "ssh-rsa",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "sk-ssh-ed25519@openssh.com",
  "sk-ecdsa-sha2-nistp256@openssh.com",
];

/**
 * An OpenSSH public key line, "<type> <base64> [comment]", as `ssh-keyscan` prints it after the host name
 * and as @pulumi/command's `hostKey` takes it: a known type, and base64 whose first field names that type.
 */
export function isOpenSshPublicKey(v: unknown): boolean {
  if (typeof v !== "string") return false;
  const m = /^(\S+) ([A-Za-z0-9+/]+={0,2})(?: [^\r\n]*)?$/.exec(v.trim());
  if (!m || !SSH_KEY_TYPES.includes(m[1])) return false;
  const blob = Buffer.from(m[2], "base64");
  if (blob.length < 4) return false;
  return blob.subarray(4, 4 + blob.readUInt32BE(0)).toString("latin1") === m[1];
}

/** A connection target: an IP address or a host name, nothing with spaces or quotes. */
function isConnectionHost(v: unknown): boolean {
  return typeof v === "string" && /^[A-Za-z0-9.:_%[\]-]+$/.test(v);
}

/**
 * Problems in a host's SSH connection (and its proxy) at `path`: missing, a host that is no address or
 * name, a port outside 1-65535, a `hostKey` that is no OpenSSH public key line, retry settings that are
 * not whole numbers. Values not known yet are skipped (see {@link isPending}). Credentials are never
 * checked or shown.
 */
export function connectionProblems(c: unknown, path: string, proxy = false): Problem[] {
  if (isPending(c)) return [];
  if (c === null || typeof c !== "object" || Array.isArray(c)) {
    return [
      {
        path,
        message: `${path} must be an object with at least host (how to reach the machine over SSH), got ${show(c)}`,
      },
    ];
  }
  const problems: Problem[] = [];
  const conn = c as Record<string, unknown>;
  const known = (key: string) => conn[key] !== undefined && !isPending(conn[key]);
  if (!isPending(conn.host) && !isConnectionHost(conn.host)) {
    problems.push({
      path: `${path}.host`,
      message: `${path}.host must be the IP address or DNS name to connect to, got ${show(conn.host)}`,
    });
  }
  if (known("port") && !isPort(conn.port)) {
    problems.push({
      path: `${path}.port`,
      message: `${path}.port must be a port number 1-65535, got ${show(conn.port)}`,
    });
  }
  if (known("user") && (typeof conn.user !== "string" || !/^[A-Za-z0-9._-]+$/.test(conn.user))) {
    problems.push({
      path: `${path}.user`,
      message: `${path}.user must be a user name (letters, digits, '.', '_', '-'), got ${show(conn.user)}`,
    });
  }
  if (known("hostKey") && !isOpenSshPublicKey(conn.hostKey)) {
    problems.push({
      path: `${path}.hostKey`,
      message: `${path}.hostKey must be the host's OpenSSH public key line, "<type> <base64>" as ssh-keyscan prints it after the host name (such as "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI..."), got ${show(conn.hostKey)}`,
    });
  }
  for (const key of ["dialErrorLimit", "perDialTimeout"]) {
    const v = conn[key];
    if (known(key) && !(typeof v === "number" && Number.isInteger(v) && v >= 1)) {
      problems.push({
        path: `${path}.${key}`,
        message: `${path}.${key} must be a whole number, at least 1, got ${show(v)}`,
      });
    }
  }
  if (conn.proxy !== undefined) {
    if (proxy) {
      problems.push({
        path: `${path}.proxy`,
        message: `${path}.proxy has a proxy of its own: @pulumi/command connects through one bastion only, got ${show(conn.proxy)}`,
      });
    } else {
      problems.push(...connectionProblems(conn.proxy, `${path}.proxy`, true));
    }
  }
  return problems;
}

/** A component's args that are no object (or a list): the one problem to report, naming the args it wants. */
export function notAnObject(args: unknown, what: string): ValidationResult | undefined {
  if (args !== null && typeof args === "object" && !Array.isArray(args)) return undefined;
  return {
    errors: [{ path: "", message: `args must be an object with ${what}, got ${show(args)}` }],
    warnings: [],
  };
}

/**
 * The name of item `index` of the list at `path`: a DNS label that no earlier item uses. `seen` holds the
 * earlier items' names with their index; a good name is added to it.
 */
export function uniqueNameProblems(
  seen: Map<unknown, number>,
  name: unknown,
  path: string,
  index: number,
): Problem[] {
  const at = `${path}[${index}].name`;
  if (!isDnsLabel(name)) {
    return [
      {
        path: at,
        message: `${at} must be a DNS label (lower-case letters, digits and '-', 1-63 characters, starting and ending with a letter or digit), got ${show(name)}`,
      },
    ];
  }
  if (seen.has(name)) {
    return [{ path: at, message: `${at} ${show(name)} is already used by ${path}[${seen.get(name)}]` }];
  }
  seen.set(name, index);
  return [];
}

/**
 * Problems in a list of hosts: empty, names not DNS labels, invalid or duplicate names and addresses, and
 * each host's connection. Addresses not known yet are skipped (checked again once they resolve).
 */
export function hostListProblems(
  hosts: ReadonlyArray<{ name?: unknown; address?: unknown; connection?: unknown }> | undefined,
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
    if (h === null || typeof h !== "object" || Array.isArray(h)) {
      problems.push({
        path: at,
        message: `${at} must be a host: an object with name, address and connection, got ${show(h)}`,
      });
      return;
    }
    problems.push(...uniqueNameProblems(seenNames, h.name, path, i));
    if (isPending(h.address)) {
      // Not known yet: checked with the same rules once it resolves.
    } else if (!isIP(h.address)) {
      problems.push({
        path: `${at}.address`,
        message: `${at}.address must be an IPv4 or IPv6 address, got ${show(h.address)}`,
      });
    } else if (seenAddresses.has(addressKey(h.address))) {
      problems.push({
        path: `${at}.address`,
        message: `${at}.address ${show(h.address)} is already used by ${path}[${seenAddresses.get(addressKey(h.address))}]`,
      });
    } else {
      seenAddresses.set(addressKey(h.address), i);
    }
    problems.push(...connectionProblems(h.connection, `${at}.connection`));
  });
  return problems;
}

/** Problems of a list at `path` whose items must pass `ok` ("must be <what>"); none when unset. */
export function stringListProblems(
  list: unknown,
  path: string,
  ok: (v: unknown) => boolean,
  what: string,
): Problem[] {
  if (list === undefined) return [];
  if (!Array.isArray(list)) return [{ path, message: `${path} must be a list, got ${show(list)}` }];
  return list.flatMap((v, i) =>
    ok(v) ? [] : [{ path: `${path}[${i}]`, message: `${path}[${i}] must be ${what}, got ${show(v)}` }],
  );
}
