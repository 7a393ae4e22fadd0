/**
 * A small, deterministic YAML writer for the configuration files hakube renders (kubeadm, kubeconfig,
 * audit policy, encryption configuration). Keys keep the order the build* functions give them; undefined
 * values are left out. Strings are plain where YAML cannot misread them, double-quoted (JSON escapes, valid
 * YAML) otherwise. Pure: no Pulumi import.
 */

/** A value the writer accepts. */
export type YamlValue =
  string | number | boolean | null | undefined | YamlValue[] | { [key: string]: YamlValue };

/** YAML 1.1 words that a plain scalar would turn into booleans or null. */
const RESERVED = /^(y|yes|n|no|true|false|on|off|null|~)$/i;
/** Starts with a letter or '/', then only characters that never start YAML syntax in the middle of a scalar. */
const PLAIN = /^[A-Za-z/][A-Za-z0-9._/@+=-]*(:[A-Za-z0-9._/@+=-]+)*$/;

/** A scalar as YAML: plain if unambiguous, else double-quoted. */
export function yamlScalar(v: string | number | boolean | null): string {
  if (v === null) return "null";
  if (typeof v === "number") {
    if (!Number.isFinite(v)) throw new Error(`cannot write ${v} as YAML`);
    return String(v);
  }
  if (typeof v === "boolean") return v ? "true" : "false";
  return PLAIN.test(v) && !RESERVED.test(v) ? v : JSON.stringify(v);
}

function isEmptyContainer(v: YamlValue): boolean {
  if (Array.isArray(v)) return v.length === 0;
  return typeof v === "object" && v !== null && Object.values(v).every((x) => x === undefined);
}

function inline(v: YamlValue): string {
  if (Array.isArray(v)) return "[]";
  if (typeof v === "object" && v !== null) return "{}";
  return yamlScalar(v as string | number | boolean | null);
}

function lines(v: YamlValue, indent: number): string[] {
  const pad = " ".repeat(indent);
  if (Array.isArray(v)) {
    return v.flatMap((item) => {
      if (item === undefined) throw new Error("arrays must not hold undefined");
      if (isEmptyContainer(item) || typeof item !== "object" || item === null)
        return [`${pad}- ${inline(item)}`];
      const inner = lines(item, indent + 2);
      return [`${pad}- ${inner[0].slice(indent + 2)}`, ...inner.slice(1)];
    });
  }
  if (typeof v === "object" && v !== null) {
    return Object.entries(v).flatMap(([k, x]) => {
      if (x === undefined) return [];
      const key = yamlScalar(k);
      if (isEmptyContainer(x) || typeof x !== "object" || x === null) return [`${pad}${key}: ${inline(x)}`];
      // Sequences sit at their key's indentation, as kubectl and kubeadm write them.
      return [`${pad}${key}:`, ...lines(x, Array.isArray(x) ? indent : indent + 2)];
    });
  }
  return [`${pad}${inline(v)}`];
}

/** One YAML document, trailing newline. */
export function toYaml(doc: { [key: string]: YamlValue }): string {
  return lines(doc, 0).join("\n") + "\n";
}

/** Several documents separated by `---`. */
export function toYamlDocuments(docs: ReadonlyArray<{ [key: string]: YamlValue }>): string {
  return docs.map(toYaml).join("---\n");
}
