import fc from "fast-check";
import { parse } from "smol-toml";
import { assertEquals } from "../../test/assert.ts";
import { KEY_DOCS } from "./key_docs.ts";
import { flatten } from "./load.ts";
import { configDefaults } from "./schema.ts";
import { commentedToml } from "./toml_doc.ts";

Deno.test("key docs: every key of firestream.toml is explained, and nothing else is", () => {
  assertEquals(Object.keys(KEY_DOCS).sort(), Object.keys(flatten(configDefaults())).sort());
});

Deno.test("commented TOML: reads back as the document it was made from, every key under its comment", () => {
  const doc = configDefaults() as unknown as Record<string, unknown>;
  const text = commentedToml(doc, KEY_DOCS, ["a header"]);
  assertEquals(parse(text), doc);
  assertEquals(text.startsWith("# a header\n"), true);
  for (const [key, meaning] of Object.entries(KEY_DOCS)) {
    const leaf = key.slice(key.lastIndexOf(".") + 1);
    assertEquals(new RegExp(`^# ${escape(meaning)}\\n${leaf} = `, "m").test(text), true, key);
  }
  // a table with nothing of its own gets no header
  assertEquals(/^\[cluster\]$/m.test(text), false);
  const key = fc.stringMatching(/^[a-z][a-z_]{0,8}$/);
  const value = fc.oneof(
    fc.integer(),
    fc.boolean(),
    fc.string(),
    fc.array(fc.string(), { maxLength: 3 }),
  );
  const table = fc.dictionary(key, value, { noNullPrototype: true });
  fc.assert(
    fc.property(fc.dictionary(key, table, { noNullPrototype: true }), (doc) => {
      assertEquals(parse(commentedToml(doc, {})), doc);
    }),
  );
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
