/** Readers of what the Recorder (./mocks.ts) recorded: inputs, scripts, stdin files, plain secrets, order. */
import { strict as assert } from "node:assert";
import { Recorded, Recorder, SECRET_SIG, unwrap } from "../../../lab/stack/recorder";

/** A recorded resource's inputs, secrets unwrapped. */
export function inputs(r: Recorded): Record<string, unknown> {
  return unwrap(r.inputs) as Record<string, unknown>;
}

/** A command's create, update and delete scripts, one after the other. */
export function commandText(r: Recorded): string {
  const i = inputs(r);
  return [i.create, i.update, i.delete].filter((x) => typeof x === "string").join("\n");
}

/** The files of a command's stdin bundle (a line per file: path, mode, owner, base64): path -> content. */
export function bundle(r: Recorded): Map<string, string> {
  return new Map(
    (inputs(r).stdin as string)
      .split("\n")
      .filter(Boolean)
      .map((l) => {
        const [path, , , data] = l.split(" ");
        return [path, Buffer.from(data, "base64").toString("utf8")];
      }),
  );
}

/** Paths of plain (not secret-wrapped) strings in a value that contain `needle`. */
export function plainOccurrences(v: unknown, needle: string, path = ""): string[] {
  if (typeof v === "string") return v.includes(needle) ? [path] : [];
  if (Array.isArray(v)) return v.flatMap((x, i) => plainOccurrences(x, needle, `${path}[${i}]`));
  if (typeof v === "object" && v !== null) {
    if ((v as Record<string, unknown>)[SECRET_SIG] !== undefined) return [];
    return Object.entries(v).flatMap(([k, x]) => plainOccurrences(x, needle, `${path}.${k}`));
  }
  return [];
}

/** `later` was registered only once `earlier` was created (its dependency held). */
export function assertRegisteredAfter(rec: Recorder, later: string, earlier: string): void {
  assert.ok(
    rec.get(later).registeredAt >= rec.get(earlier).resolvedAt,
    `${later} was registered before ${earlier} was created`,
  );
}
