import fc from "fast-check";
import { assertEquals } from "../../test/assert.ts";
import { readBlock, removeBlock, setBlock } from "./block.ts";

const line = fc.string({
  unit: fc.constantFrom("a", "b", " ", "\t", "#", ".", "1", "é", "\r"),
  maxLength: 12,
});
const file = fc.tuple(fc.array(line, { maxLength: 8 }), fc.constantFrom("\n", "\r\n"), fc.boolean())
  .map(([lines, eol, final]) => lines.join(eol) + (final && lines.length ? eol : ""));
const entries = fc.array(
  fc.string({
    unit: fc.constantFrom("1", "2", "7", ".", " ", "a", "k"),
    minLength: 1,
    maxLength: 20,
  }),
  { maxLength: 4 },
);

Deno.test("block: set then remove returns the original bytes (any text, CRLF, no final newline)", () => {
  fc.assert(
    fc.property(file, entries, (text, lines) => {
      assertEquals(removeBlock(setBlock(text, "c1", lines), "c1"), text);
    }),
    { numRuns: 500 },
  );
});

Deno.test("block: another cluster's block stays untouched; updates replace in place", () => {
  fc.assert(
    fc.property(file, entries, entries, entries, (text, a, b, b2) => {
      const withA = setBlock(text, "a", a);
      const withBoth = setBlock(withA, "b", b);
      assertEquals(removeBlock(withBoth, "b"), withA);
      const updated = setBlock(withBoth, "b", b2);
      assertEquals(readBlock(updated, "b"), b2);
      assertEquals(readBlock(updated, "a"), a);
      assertEquals(removeBlock(removeBlock(updated, "a"), "b"), text);
      assertEquals(
        setBlock(updated, "b", b2),
        updated,
        "setting the same lines again changes nothing",
      );
    }),
    { numRuns: 300 },
  );
});

Deno.test("block: CRLF files get CRLF blocks; a lookalike marker in a comment is not the block", () => {
  const text = "127.0.0.1 localhost\r\n::1 localhost\r\n";
  const out = setBlock(text, "x", ["127.0.0.1 k3d-registry.localhost"]);
  assertEquals(
    out,
    "# BEGIN firestream x\r\n127.0.0.1 k3d-registry.localhost\r\n# END firestream x\r\n" + text,
  );
  const tricky = "# see # BEGIN firestream x\nhost\n";
  assertEquals(readBlock(tricky, "x"), undefined);
  assertEquals(removeBlock(setBlock(tricky, "x", ["a"]), "x"), tricky);
  assertEquals(removeBlock(text, "missing"), text);
});

Deno.test("block: at the end, set then remove returns the original bytes, also without a final newline", () => {
  fc.assert(
    fc.property(file, entries, entries, (text, top, tail) => {
      const withTail = setBlock(text, "c1 search", tail, { at: "end" });
      assertEquals(readBlock(withTail, "c1 search"), tail);
      assertEquals(removeBlock(withTail, "c1 search"), text);
      const both = setBlock(setBlock(text, "c1", top), "c1 search", tail, { at: "end" });
      assertEquals(readBlock(both, "c1"), top);
      assertEquals(readBlock(both, "c1 search"), tail);
      assertEquals(removeBlock(removeBlock(both, "c1 search"), "c1"), text);
      assertEquals(removeBlock(removeBlock(both, "c1"), "c1 search"), text);
      assertEquals(setBlock(both, "c1 search", tail, { at: "end" }), both, "set again: unchanged");
    }),
    { numRuns: 500 },
  );
});

Deno.test("block: at the end of a file without a final newline the block brings one, and takes it back", () => {
  const text = "nameserver 192.0.2.53\nsearch corp.example";
  const out = setBlock(text, "x search", ["search a corp.example"], { at: "end" });
  assertEquals(
    out,
    text + "\n# BEGIN firestream x search\nsearch a corp.example\n# END firestream x search",
  );
  assertEquals(removeBlock(out, "x search"), text);
  const crlf = "nameserver 192.0.2.53\r\n";
  assertEquals(
    setBlock(crlf, "x search", ["search a"], { at: "end" }),
    crlf + "# BEGIN firestream x search\r\nsearch a\r\n# END firestream x search\r\n",
  );
  assertEquals(
    setBlock("", "x", ["a"], { at: "end" }),
    "# BEGIN firestream x\na\n# END firestream x\n",
  );
});

Deno.test("block: a marker is a whole line: cluster c1's end marker is not c10's", () => {
  const c10 = setBlock("host\n", "c10", ["a"]);
  assertEquals(readBlock(c10, "c1"), undefined);
  const both = setBlock(c10, "c1", ["b"], { at: "end" });
  assertEquals(readBlock(both, "c1"), ["b"]);
  assertEquals(readBlock(both, "c10"), ["a"]);
  assertEquals(removeBlock(both, "c1"), c10);
});
