/** How error and warning messages quote the values they received. Pure; imports nothing. */

/** Longest string a message quotes in full; longer ones are described by their length only. */
const MAX_SHOWN_STRING = 120;

/**
 * Quote a received value for a message without ever printing something that can hold a secret: short
 * strings in double quotes (not ones that look like a key or certificate: "-----BEGIN"), numbers,
 * booleans and lists of such values as JSON. Objects (a host or a connection holds a private key) are
 * described by their keys only, long strings by their length: a message must never echo a credential.
 */
export function show(value: unknown): string {
  if (value === undefined) return "undefined";
  if (typeof value === "string") {
    if (value.length > MAX_SHOWN_STRING || /-----BEGIN|PRIVATE KEY/.test(value)) {
      return `a string of ${value.length} characters (not shown)`;
    }
    return JSON.stringify(value);
  }
  if (typeof value === "number") return Number.isFinite(value) ? JSON.stringify(value) : String(value);
  if (value === null || typeof value === "boolean") return JSON.stringify(value);
  if (Array.isArray(value)) {
    const scalar = value.every((v) => v === null || ["string", "number", "boolean"].includes(typeof v));
    if (scalar && value.length <= 10) return `[${value.map(show).join(", ")}]`;
    return `a list of ${value.length} ${scalar ? "values" : "entries"} (not shown)`;
  }
  if (typeof value === "object") {
    const keys = Object.keys(value as object);
    const named = keys.slice(0, 10).map((k) => show(k.length > 40 ? k.slice(0, 40) + "..." : k));
    return keys.length === 0
      ? "an empty object"
      : `an object with the keys ${named.join(", ")}${keys.length > 10 ? ", ..." : ""} (values not shown)`;
  }
  return `a ${typeof value}`;
}
