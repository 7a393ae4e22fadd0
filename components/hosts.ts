import * as pulumi from "@pulumi/pulumi";
import { lateInvalidArguments } from "./errors";
import { connectionProblems } from "./validation";

/**
 * How to reach a machine over SSH without a further hop: a bastion, or (via {@link ConnectionArgs}) a
 * host. The fields are those of `@pulumi/command`'s connection.
 */
export interface ProxyConnectionArgs {
  /** The address to connect to. */
  host: pulumi.Input<string>;
  /** The SSH port. @default 22 */
  port?: pulumi.Input<number>;
  /** The user to log in as. @default "root" */
  user?: pulumi.Input<string>;
  /** A password; prefer keys. Treated as a secret. */
  password?: pulumi.Input<string>;
  /** The private key in PEM or OpenSSH format. Treated as a secret. */
  privateKey?: pulumi.Input<string>;
  /** The passphrase of `privateKey`. Treated as a secret. */
  privateKeyPassword?: pulumi.Input<string>;
  /** An SSH agent socket to use instead of a key. */
  agentSocketPath?: pulumi.Input<string>;
  /** How many times to retry dialling. @default 10 (@pulumi/command's default) */
  dialErrorLimit?: pulumi.Input<number>;
  /** Seconds per dial attempt. @default 15 (@pulumi/command's default) */
  perDialTimeout?: pulumi.Input<number>;
  /**
   * The machine's public key as an authorized_keys line ("ssh-ed25519 AAAA..."). When set the connection
   * is refused unless the server presents exactly this key. Strongly recommended.
   */
  hostKey?: pulumi.Input<string>;
}

/**
 * How to reach a host over SSH. The fields are those of `@pulumi/command`'s `remote.ConnectionArgs`, so a
 * value of that type can be passed as it is.
 */
export interface ConnectionArgs extends ProxyConnectionArgs {
  /** A bastion (jump host) to connect through. */
  proxy?: pulumi.Input<ProxyConnectionArgs>;
}

/** A machine that a component configures over SSH. */
export interface HostArgs {
  /**
   * The host's name: unique within a component and a DNS label (lower-case letters, digits and '-',
   * at most 63 characters, starting and ending with a letter or digit). Resource names derive from it.
   */
  name: string;
  /**
   * The IPv4 or IPv6 address that other members and clients use to reach this host: a string, or an
   * Output such as an EC2 instance's `privateIp`. A plain value is checked before anything is created; an
   * Output is checked with the same rules when it resolves, before any command or configuration uses it.
   */
  address: pulumi.Input<string>;
  /** How to reach the host over SSH. */
  connection: ConnectionArgs;
}

/**
 * The connection as @pulumi/command expects it, with the credentials marked secret whatever the caller
 * passed, so that a plain-text key never lands in the state in the clear.
 */
export function secretConnection(c: ConnectionArgs): ConnectionArgs {
  const secretIfSet = <T>(v: pulumi.Input<T> | undefined) => (v === undefined ? undefined : pulumi.secret(v));
  return {
    ...c,
    user: c.user ?? "root",
    password: secretIfSet(c.password),
    privateKey: secretIfSet(c.privateKey),
    privateKeyPassword: secretIfSet(c.privateKeyPassword),
  };
}

/** A host whose address is known: what the renderers get once every Output resolved. */
export type KnownHost<H extends HostArgs = HostArgs> = Omit<H, "address"> & { address: string };

/** The hosts with their addresses resolved (every other field, the connection included, as given). */
export function knownHosts<H extends HostArgs>(hosts: readonly H[]): pulumi.Output<KnownHost<H>[]> {
  return pulumi
    .all(hosts.map((h) => h.address))
    .apply((addresses) => hosts.map((h, i): KnownHost<H> => ({ ...h, address: addresses[i] })));
}

/**
 * The connection a host's commands get: credentials secret (see {@link secretConnection}), available only
 * once `after` has resolved (a component passes its args, checked once known: so no command starts before
 * that check passed) and once the connection's own Outputs (host, port, hostKey) resolved and passed the
 * same checks, with the same message, as plain values get in the constructor.
 *
 * @param path the connection's property path in the component's args ("members[0].connection")
 */
export function checkedConnection(
  c: ConnectionArgs,
  path: string,
  component: string,
  after: pulumi.Output<unknown>,
): pulumi.Output<pulumi.Unwrap<ConnectionArgs>> {
  return pulumi.all([after, pulumi.output(secretConnection(c))]).apply(([, conn]) => {
    const problems = connectionProblems(conn, path);
    if (problems.length > 0) throw lateInvalidArguments(component, problems);
    return conn;
  });
}

/**
 * Inputs every host command gets. hakube's scripts never read their previous output, and passing it
 * (@pulumi/command's default) needs `AcceptEnv` in the hosts' sshd: without it updates and deletes fail.
 */
export const COMMAND_DEFAULTS = { addPreviousOutputInEnv: false } as const;
