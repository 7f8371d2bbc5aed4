import { assertEquals, assertOk } from "../../test/assert.ts";
import { renderRootHelp } from "../../scripts/help_text.ts";
import { HELP_80, HELP_WIDE, HELP_WIDE_MIN } from "./help_text.ts";
import { rootHelp } from "./main.ts";

const REGENERATE = "the command tree changed: run `deno run -A scripts/help_text.ts`";

Deno.test("--help without commander prints what commander prints, at 80 columns and on wide terminals", () => {
  assertEquals(HELP_80, renderRootHelp(80), REGENERATE);
  assertEquals(HELP_WIDE, renderRootHelp(1000), REGENERATE);
  // from HELP_WIDE_MIN columns on, commander wraps nothing: the wide text holds for any such width
  assertEquals(renderRootHelp(HELP_WIDE_MIN), HELP_WIDE, REGENERATE);
  assertOk(
    renderRootHelp(HELP_WIDE_MIN - 1) !== HELP_WIDE,
    "HELP_WIDE_MIN is the least such width",
  );
});

Deno.test("--help fast path: which text for which terminal, and commander for the widths in between", () => {
  assertEquals(rootHelp(undefined), HELP_80);
  assertEquals(rootHelp(80), HELP_80);
  assertEquals(rootHelp(HELP_WIDE_MIN), HELP_WIDE);
  assertEquals(rootHelp(HELP_WIDE_MIN + 40), HELP_WIDE);
  assertEquals(rootHelp(100), undefined);
  assertEquals(rootHelp(60), undefined);
});
