// Unhandled promise rejections during a run. Pulumi's language host fails the program on any of them (an
// exception in an `.apply` callback would otherwise just drop the resources depending on it, and the runner
// would then delete them as "removed"). After a resource fails, though, every output depending on it rejects,
// possibly much later and during the next run in the same process: those are recognised by the failure's
// message, which the runtime embeds in theirs ("failed to register new resource x [type]: <message>").

import type { Engine } from "./engine";

const active = new Set<Engine>();
const knownFailures: string[] = [];
let installed = false;
let removal: NodeJS.Timeout | undefined;

/** Remembers a runner error so that rejections derived from it are not taken for new failures. */
export function noteFailure(message: string): void {
  const firstLine = message.split("\n")[0];
  if (firstLine && !knownFailures.includes(firstLine)) knownFailures.push(firstLine);
  if (knownFailures.length > 200) knownFailures.shift();
}

/** True if `message` is, or embeds, a runner error already noted. */
export function isKnownFailure(message: string): boolean {
  return knownFailures.some((known) => message.includes(known));
}

function onUnhandled(reason: unknown): void {
  const message = reason instanceof Error ? reason.message : String(reason);
  if (isKnownFailure(message)) return;
  for (const engine of active) engine.fail(new Error(`unhandled rejection in the program: ${message}`));
}

/** Routes unhandled rejections to `engine` until the returned function is called (and a short while after). */
export function watchRejections(engine: Engine): () => void {
  active.add(engine);
  if (removal) clearTimeout(removal);
  removal = undefined;
  if (!installed) {
    process.on("unhandledRejection", onUnhandled);
    installed = true;
  }
  return () => {
    active.delete(engine);
    if (active.size > 0) return;
    // Rejections of abandoned outputs may surface during the next turns of the event loop: keep the listener
    // (which ignores known failures) a little longer, so that they do not crash a process without another one.
    removal = setTimeout(() => {
      if (active.size === 0 && installed) {
        process.off("unhandledRejection", onUnhandled);
        installed = false;
      }
    }, 2000);
    removal.unref();
  };
}
