import { KnownHost } from "../../../components/hosts";

/** n hosts m1..mn at 10.0.0.11.. with a (fake) private key; addresses plain strings. */
export function hosts(n: number): KnownHost[] {
  return Array.from({ length: n }, (_, i) => ({
    name: `m${i + 1}`,
    address: `10.0.0.${11 + i}`,
    connection: {
      host: `10.0.0.${11 + i}`,
      privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nFAKE-PRIVATE-KEY\n",
    },
  }));
}
