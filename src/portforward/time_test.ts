import fc from "fast-check";
import { assertEquals } from "../../test/assert.ts";
import { isoTime } from "./time.ts";

Deno.test("time: isoTime writes what Date's toISOString does, from year 0 to 9999", () => {
  for (const ms of [0, -1, 951_782_400_000, 1_709_164_800_000, 1_798_848_000_000 - 1]) {
    assertEquals(isoTime(ms), new Date(ms).toISOString());
  }
  fc.assert(
    fc.property(
      // 0000-01-01T00:00:00.000Z to 9999-12-31T23:59:59.999Z
      fc.integer({ min: -62_167_219_200_000, max: 253_402_300_799_999 }),
      (ms) => assertEquals(isoTime(ms), new Date(ms).toISOString()),
    ),
    { numRuns: 20_000 },
  );
});
