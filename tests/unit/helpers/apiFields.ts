/**
 * Field trees of the configuration APIs hakube writes (tests/fixtures/kubeadm-api/*.json, read from kubeadm's,
 * the kubelet's and kube-proxy's published types), and a walker that names every field of a document that its
 * API version does not have, or whose value has the wrong shape (a list where the API takes a map).
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** One API version's types: type name -> field name -> field type (see the fixtures' README). */
export interface ApiFieldTree {
  source: { [what: string]: string };
  /** Lists only the fields hakube writes. */
  partial?: boolean;
  apiVersion: string;
  /** kind -> the type of its document */
  kinds: { [kind: string]: string };
  types: { [type: string]: { [field: string]: string } };
}

const dir = path.join(__dirname, "..", "..", "fixtures", "kubeadm-api");

/** Every field tree in tests/fixtures/kubeadm-api, by apiVersion. */
export function loadApiFieldTrees(): Map<string, ApiFieldTree> {
  const trees = new Map<string, ApiFieldTree>();
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith(".json"))) {
    const tree = JSON.parse(fs.readFileSync(path.join(dir, file), "utf8")) as ApiFieldTree;
    trees.set(tree.apiVersion, tree);
  }
  return trees;
}

const SCALARS: { [type: string]: (v: unknown) => boolean } = {
  string: (v) => typeof v === "string",
  duration: (v) => typeof v === "string" && /^([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+$/.test(v),
  time: (v) => typeof v === "string",
  integer: (v) => Number.isInteger(v),
  boolean: (v) => typeof v === "boolean",
  object: (v) => typeof v === "object" && v !== null,
};

const isMap = (v: unknown): v is { [k: string]: unknown } =>
  typeof v === "object" && v !== null && !Array.isArray(v);

function describe(v: unknown): string {
  if (Array.isArray(v)) return "a list";
  if (v === null) return "null";
  return typeof v === "object" ? "a map" : `${typeof v} ${JSON.stringify(v)}`;
}

/** Type names a tree refers to that it does not define (a fixture's own consistency). */
export function undefinedTypes(tree: ApiFieldTree): string[] {
  const named = (t: string): string[] => {
    if (t.startsWith("[]")) return named(t.slice(2));
    return t.startsWith("map[") || t in SCALARS ? [] : [t];
  };
  const refs = [
    ...Object.values(tree.kinds),
    ...Object.values(tree.types).flatMap((fields) => Object.values(fields).flatMap(named)),
  ];
  return [...new Set(refs.filter((t) => !(t in tree.types)))];
}

function walk(tree: ApiFieldTree, type: string, value: unknown, at: string, out: string[]): void {
  const where = at === "" ? "the document" : at;
  if (type.startsWith("[]")) {
    if (!Array.isArray(value)) {
      out.push(`${where} must be ${type}, got ${describe(value)}`);
      return;
    }
    value.forEach((item, i) => walk(tree, type.slice(2), item, `${at}[${i}]`, out));
    return;
  }
  const map = /^map\[string\](string|bool)$/.exec(type);
  if (map) {
    const want = map[1] === "bool" ? "boolean" : "string";
    if (!isMap(value)) out.push(`${where} must be ${type}, got ${describe(value)}`);
    else {
      for (const [k, v] of Object.entries(value)) {
        if (typeof v !== want) out.push(`${at}.${k} must be ${want} (in ${type}), got ${describe(v)}`);
      }
    }
    return;
  }
  if (type in SCALARS) {
    if (!SCALARS[type](value)) out.push(`${where} must be ${type}, got ${describe(value)}`);
    return;
  }
  const fields = tree.types[type];
  if (!isMap(value)) {
    out.push(`${where} must be ${type} (a map of fields), got ${describe(value)}`);
    return;
  }
  for (const [field, v] of Object.entries(value)) {
    const fieldPath = at === "" ? field : `${at}.${field}`;
    if (!(field in fields)) out.push(`${fieldPath} is not a field of ${type}`);
    else walk(tree, fields[field], v, fieldPath, out);
  }
}

/**
 * What is wrong with one parsed document: each problem names its API version and kind, then the field path.
 * An unknown apiVersion or kind is a problem too.
 */
export function fieldProblems(doc: unknown, trees: Map<string, ApiFieldTree>): string[] {
  if (!isMap(doc)) return [`a document must be a map, got ${describe(doc)}`];
  const apiVersion = String(doc.apiVersion);
  const kind = String(doc.kind);
  const tree = trees.get(apiVersion);
  if (!tree) return [`no field tree for apiVersion ${apiVersion} (kind ${kind})`];
  const type = tree.kinds[kind];
  if (!type) return [`${apiVersion} has no kind ${kind}`];
  const out: string[] = [];
  walk(tree, type, doc, "", out);
  return out.map((p) => `${apiVersion} ${kind}: ${p}`);
}
