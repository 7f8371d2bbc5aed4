/** A TOML document written for people: each key under a comment that says what it means. */
import { stringify } from "smol-toml";
import { isTable } from "./load.ts";

/**
 * `doc` as TOML with `# meaning` above every key that `docs` explains (by dotted path). A table is
 * headed only where it holds values of its own (or nothing at all), so no empty `[cluster]` stands
 * above `[cluster.k3d]`.
 */
export function commentedToml(
  doc: Record<string, unknown>,
  docs: Record<string, string>,
  header: string[] = [],
): string {
  const lines = header.map((l) => `# ${l}`.trimEnd());
  const walk = (table: Record<string, unknown>, path: string[]) => {
    const values = Object.entries(table).filter(([, v]) => !isTable(v));
    // an empty table is still written, so that the text reads back as the document
    if (values.length || values.length === Object.keys(table).length) {
      if (path.length) {
        if (lines.length) lines.push("");
        lines.push(`[${path.join(".")}]`);
      }
      for (const [key, value] of values) {
        const meaning = docs[[...path, key].join(".")];
        if (meaning) lines.push(`# ${meaning}`);
        lines.push(stringify({ [key]: value }).trim());
      }
    }
    for (const [key, value] of Object.entries(table)) {
      if (isTable(value)) walk(value, [...path, key]);
    }
  };
  walk(doc, []);
  return lines.join("\n") + "\n";
}
