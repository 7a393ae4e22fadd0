// Property values as the lab runner sees them: Pulumi's secret wrappers, assets and archives, and the plain
// JSON form kept in the state file.
//
// Inputs reach the runner the way Pulumi's mock monitor deserializes them: a secret is an object
// `{ "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: <plain> }` (the whole
// containing value becomes one secret: `triggers: [1, secret("t")]` arrives as one secret array), and assets
// and archives are @pulumi/pulumi asset objects whose fields (`text`, `path`, `uri`, `assets`) are Promises.
// Returning such a wrapper to the runtime makes the output secret again (`pulumi.isSecret` is true).

import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";

export const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

export type PropertyMap = Record<string, unknown>;

export interface SecretWrapper {
  [SECRET_SIG_KEY]: typeof SECRET_SIG;
  value: unknown;
}

export function isSecretWrapper(v: unknown): v is SecretWrapper {
  return isRecord(v) && v[SECRET_SIG_KEY] === SECRET_SIG;
}

export function wrapSecret(value: unknown): SecretWrapper {
  return isSecretWrapper(value) ? value : { [SECRET_SIG_KEY]: SECRET_SIG, value };
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Plain (JSON) form of an asset or archive in the state file. */
export type PlainAsset =
  | { $asset: "string"; text: string; sha256: string }
  | { $asset: "file"; path: string; sha256: string }
  | { $asset: "remote"; uri: string }
  | { $archive: "file"; path: string; sha256: string }
  | { $archive: "assets"; assets: Record<string, PlainAsset> }
  | { $archive: "remote"; uri: string };

export function isPlainAsset(v: unknown): v is PlainAsset {
  return isRecord(v) && (typeof v.$asset === "string" || typeof v.$archive === "string");
}

/** Result of resolving raw inputs: the plain value plus every secret string found in it (for redaction). */
export interface Resolved {
  plain: PropertyMap;
  secretStrings: string[];
}

/**
 * Connection fields that are secret only because @pulumi/command marks the whole `connection` secret: they are
 * not collected for redaction (the log must be able to say which host a command ran on).
 */
const NOT_SENSITIVE = new Set([
  "host",
  "port",
  "user",
  "agentSocketPath",
  "hostKey",
  "dialErrorLimit",
  "perDialTimeout",
]);

function sensitive(path: string[]): boolean {
  const inConnection =
    path[0] === "connection" && (path.length === 2 || (path.length === 3 && path[1] === "proxy"));
  return !(inConnection && NOT_SENSITIVE.has(path[path.length - 1]));
}

/**
 * Turns raw mock inputs into plain JSON: secret wrappers removed, asset promises awaited and assets replaced by
 * their {@link PlainAsset} form (with a content hash, so a changed file is a changed input).
 */
export async function resolveInputs(raw: PropertyMap): Promise<Resolved> {
  const secretStrings: string[] = [];
  const plain = (await resolveValue(raw, [], false, secretStrings)) as PropertyMap;
  return { plain, secretStrings };
}

async function resolveValue(
  v: unknown,
  path: string[],
  inSecret: boolean,
  secrets: string[],
): Promise<unknown> {
  if (isSecretWrapper(v)) {
    return resolveValue(v.value, path, true, secrets);
  }
  if (v instanceof Promise) {
    return resolveValue(await v, path, inSecret, secrets);
  }
  if (pulumi.asset.Asset.isInstance(v) || pulumi.asset.Archive.isInstance(v)) {
    return resolveAsset(v);
  }
  if (typeof v === "string") {
    if (inSecret && sensitive(path)) secrets.push(v);
    return v;
  }
  if (Array.isArray(v)) {
    const out: unknown[] = [];
    for (const [i, item] of (v as unknown[]).entries()) {
      out.push(await resolveValue(item, [...path, String(i)], inSecret, secrets));
    }
    return out;
  }
  if (isRecord(v)) {
    const out: PropertyMap = {};
    for (const [k, item] of Object.entries(v as Record<string, unknown>)) {
      if (item === undefined) continue;
      out[k] = await resolveValue(item, [...path, k], inSecret, secrets);
    }
    return out;
  }
  return v;
}

async function resolveAsset(v: pulumi.asset.Asset | pulumi.asset.Archive): Promise<PlainAsset> {
  const fields = v as unknown as Record<string, unknown>;
  if (pulumi.asset.Asset.isInstance(v)) {
    if ("text" in fields) {
      const text = String(await fields.text);
      return { $asset: "string", text, sha256: sha256(text) };
    }
    if ("path" in fields) {
      const p = String(await fields.path);
      return { $asset: "file", path: p, sha256: hashPath(p) };
    }
    return { $asset: "remote", uri: String(await fields.uri) };
  }
  if ("assets" in fields) {
    const assets = (await fields.assets) as Record<string, pulumi.asset.Asset | pulumi.asset.Archive>;
    const out: Record<string, PlainAsset> = {};
    for (const key of Object.keys(assets).sort()) out[key] = await resolveAsset(assets[key]);
    return { $archive: "assets", assets: out };
  }
  if ("path" in fields) {
    const p = String(await fields.path);
    return { $archive: "file", path: p, sha256: hashPath(p) };
  }
  return { $archive: "remote", uri: String(await fields.uri) };
}

function sha256(data: string | Buffer): string {
  return crypto.createHash("sha256").update(data).digest("hex");
}

/** Hash of a file, or of a directory tree (relative paths and contents); "missing" if absent. */
function hashPath(p: string): string {
  const hash = crypto.createHash("sha256");
  const walk = (abs: string, rel: string): void => {
    const st = fs.statSync(abs);
    if (st.isDirectory()) {
      hash.update(`d:${rel}\0`);
      for (const entry of fs.readdirSync(abs).sort())
        walk(path.join(abs, entry), path.posix.join(rel, entry));
    } else {
      hash.update(`f:${rel}\0`);
      hash.update(fs.readFileSync(abs));
    }
  };
  if (!fs.existsSync(p)) return "missing";
  walk(p, ".");
  return hash.digest("hex");
}

/** Deterministic JSON (sorted keys), used to compare inputs. */
export function stableStringify(v: unknown): string {
  return JSON.stringify(sortKeys(v));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (isRecord(v)) {
    const out: PropertyMap = {};
    for (const k of Object.keys(v).sort()) if (v[k] !== undefined) out[k] = sortKeys(v[k]);
    return out;
  }
  return v;
}

/** Top-level keys whose values differ between two plain property maps. */
export function changedKeys(olds: PropertyMap, news: PropertyMap): string[] {
  const keys = new Set([...Object.keys(olds), ...Object.keys(news)]);
  return [...keys].filter((k) => stableStringify(olds[k]) !== stableStringify(news[k])).sort();
}

/**
 * Replaces known secret values in a log line by "[secret]". Multi-line secrets (PEM keys) are also matched line
 * by line because command output is logged line by line.
 */
export class Redactor {
  private readonly needles = new Set<string>();

  add(values: Iterable<string>): void {
    for (const value of values) {
      if (value.length >= 4) this.needles.add(value);
      for (const line of value.split("\n")) {
        const trimmed = line.trim();
        if (trimmed.length >= 8) this.needles.add(trimmed);
      }
    }
  }

  redact(text: string): string {
    let out = text;
    // Longest first, so a whole secret is replaced before its lines.
    for (const needle of [...this.needles].sort((a, b) => b.length - a.length)) {
      if (out.includes(needle)) out = out.split(needle).join("[secret]");
    }
    return out;
  }
}

/** Collects every string inside a plain value (used to register provider-generated secrets for redaction). */
export function stringsIn(v: unknown): string[] {
  if (typeof v === "string") return [v];
  if (Array.isArray(v)) return v.flatMap(stringsIn);
  if (isRecord(v)) return Object.values(v).flatMap(stringsIn);
  return [];
}
