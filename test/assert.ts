/** Assertions for tests, on node:assert/strict. */
import assert from "node:assert/strict";

/** Deep equality. */
export function assertEquals<T>(actual: T, expected: T, message?: string): void {
  assert.deepStrictEqual(actual, expected, message);
}

/** Truthiness. */
export function assertOk(value: unknown, message?: string): asserts value {
  assert.ok(value, message);
}

/** Substring or pattern match. */
export function assertMatch(actual: string, expected: RegExp | string, message?: string): void {
  if (typeof expected === "string") {
    assert.ok(
      actual.includes(expected),
      message ?? `expected to find ${JSON.stringify(expected)} in:\n${actual}`,
    );
  } else assert.match(actual, expected, message);
}

/** Absence of a substring. */
export function assertNotMatch(actual: string, unexpected: string, message?: string): void {
  assert.ok(
    !actual.includes(unexpected),
    message ?? `did not expect ${JSON.stringify(unexpected)} in:\n${actual}`,
  );
}

/** Awaits a rejection, optionally of a class and containing a message; returns the error. */
export async function assertRejects(
  fn: () => Promise<unknown>,
  // deno-lint-ignore no-explicit-any
  errorClass?: new (...args: any[]) => Error,
  includes?: string,
): Promise<Error> {
  try {
    await fn();
  } catch (err) {
    if (errorClass) assert.ok(err instanceof errorClass, `expected ${errorClass.name}, got ${err}`);
    if (includes) assertMatch((err as Error).message, includes);
    return err as Error;
  }
  throw new assert.AssertionError({ message: "expected the call to reject" });
}
