/** A subset of a suite's profiles, by id, from an environment variable (all of them when it is unset). */
export function selectProfiles<P extends { id: string }>(all: readonly P[], envVar: string): P[] {
  const want = process.env[envVar]
    ?.split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (!want) return [...all];
  const unknown = want.filter((id) => !all.some((p) => p.id === id));
  if (unknown.length)
    throw new Error(`${envVar} names ${unknown.join(", ")}; have ${all.map((p) => p.id).join(", ")}`);
  return all.filter((p) => want.includes(p.id));
}
