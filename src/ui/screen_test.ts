import fc from "fast-check";
import { assertEquals, assertOk } from "../../test/assert.ts";
import { stripAnsi } from "./ansi.ts";
import { beside, box, fit, painter, parseKeys, printable } from "./screen.ts";

const color = painter(true);
const plain = painter(false);

Deno.test("fit: exactly the width asked, escape sequences counting for nothing, a cut colour closed", () => {
  assertEquals(fit("abc", 5), "abc  ");
  assertEquals(fit("abcdef", 3), "abc");
  assertEquals(fit(color("red", "abcdef"), 3), "\x1b[31mabc\x1b[0m");
  assertEquals(fit("", 0), "");
  fc.assert(
    fc.property(fc.string(), fc.nat(120), fc.boolean(), (text, width, paint) => {
      const shown = printable(text);
      const out = fit(paint ? color("green", shown) : shown, width);
      assertEquals([...stripAnsi(out)].length, width);
    }),
  );
});

Deno.test("printable: outside text cannot move the cursor or colour the screen", () => {
  assertEquals(printable("a\x1b[2Jb\x1b[31mc\rd\x07e\tf"), "abcde  f");
});

Deno.test("box: every row is the box's width; the title sits in the top edge; focus is marked without colour", () => {
  const rows = box("Cluster", ["one", "a line longer than the box is wide"], {
    width: 20,
    height: 5,
  }, { paint: plain });
  assertEquals(rows.length, 5);
  for (const r of rows) assertEquals([...r].length, 20);
  assertEquals(rows[0], "┌─ Cluster ────────┐");
  assertEquals(rows[1], "│one               │");
  assertEquals(rows[3], "│                  │");
  const focused = box("Logs", [], { width: 12, height: 3 }, { focused: true, paint: plain });
  assertEquals(focused[0], "┌─[Logs]───┐");
  const coloured = box("Logs", [], { width: 12, height: 3 }, { focused: true, paint: color });
  assertEquals(stripAnsi(coloured[0]), "┌─[Logs]───┐");
  assertOk(coloured[0] !== stripAnsi(coloured[0]));
  assertEquals(beside(["ab", "cd"], ["ef"]), ["abef", "cd"]);
});

Deno.test("parseKeys: xterm's arrows and paging, Tab and Shift-Tab, Enter, Escape, Ctrl-C, characters", () => {
  assertEquals(parseKeys("\x1b[A\x1b[B\x1bOC\x1b[D\x1b[5~\x1b[6~\t\x1b[Z\r\x7f\x03q/"), [
    "up",
    "down",
    "right",
    "left",
    "pageup",
    "pagedown",
    "tab",
    "backtab",
    "enter",
    "backspace",
    "ctrl-c",
    { char: "q" },
    { char: "/" },
  ]);
  assertEquals(parseKeys("\x1b"), ["escape"]);
  assertEquals(parseKeys("\x1b[15~x"), [{ char: "x" }]);
});
