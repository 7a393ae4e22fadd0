/** Every benchmark removes its lab when it ends: normally, on an error, or on Ctrl-C / SIGTERM. */
import { destroyLab } from "../hosts";

export async function withLab<T>(lab: string, run: () => Promise<T>): Promise<T> {
  const onSignal = () => {
    void destroyLab(lab).finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    return await run();
  } finally {
    await destroyLab(lab);
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
  }
}
