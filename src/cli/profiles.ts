/** `firestream profiles`: the config's profiles, each with the keys it changes against the base. */
import { flatten, loadConfig } from "../config/load.ts";
import { type GlobalFlags, outputFor } from "./session.ts";

/** One key a profile changes. */
interface ProfileChange {
  key: string;
  from: unknown;
  to: unknown;
}

/** The command. */
export async function profiles(flags: GlobalFlags): Promise<void> {
  const out = outputFor(flags);
  const loaded = await loadConfig({ file: flags.config, profile: flags.profile });
  const base = flatten(loaded.base);
  const list = Object.entries(loaded.profiles).map(([name, table]) => {
    const changes: ProfileChange[] = Object.entries(flatten(table))
      .map(([key, to]) => ({ key, from: base[key], to }))
      .filter((c) => JSON.stringify(c.from) !== JSON.stringify(c.to));
    return { name, active: name === loaded.profile, changes };
  });
  if (out.json) {
    return out.data({ file: loaded.file ?? null, profile: loaded.profile ?? null, profiles: list });
  }
  const where = loaded.file ?? "the built-in defaults";
  if (!list.length) {
    out.line(
      `${where} defines no profiles; add a [profiles.NAME] table (e.g. [profiles.ci.cluster.k3d])`,
    );
    return;
  }
  for (const p of list) {
    out.line(
      `${out.paint("bold", p.name)}${p.active ? "  (in force)" : ""}${
        p.changes.length ? "" : "  changes nothing"
      }`,
    );
    for (const c of p.changes) {
      out.line(`  ${c.key} = ${JSON.stringify(c.from)} -> ${JSON.stringify(c.to)}`);
    }
  }
}
