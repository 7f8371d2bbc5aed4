import { assertEquals, assertOk } from "../../test/assert.ts";
import {
  array,
  boolean,
  type Infer,
  type Issue,
  literal,
  looseObject,
  number,
  oneOf,
  record,
  type Shape,
  strictObject,
  string,
} from "./shape.ts";

/** The first problem `shape` finds in `input`; fails when it accepts the value. */
function issue(shape: Shape<unknown>, input: unknown): Issue {
  const result = shape.check(input);
  assertOk(!result.ok, `accepted ${JSON.stringify(input)}`);
  return result.issue;
}

/** The value `shape` reads from `input`; fails when it refuses it. */
function value<T>(shape: Shape<T>, input: unknown): T {
  const result = shape.check(input);
  if (!result.ok) throw new Error(`refused ${JSON.stringify(input)}: ${result.issue.message}`);
  return result.value;
}

/** Where the first problem is and what it says, as one line. */
function where(shape: Shape<unknown>, input: unknown): string {
  const i = issue(shape, input);
  return `${i.path.join(".")}: ${i.message}`;
}

Deno.test("shape: string accepts strings only; min, max and length count characters", () => {
  assertEquals(value(string(), "ok"), "ok");
  for (const bad of [5, null, undefined, ["a"], { a: 1 }, true]) {
    assertEquals(issue(string(), bad), {
      code: "invalid_type",
      expected: "string",
      input: bad,
      path: [],
      message: "expected string",
    });
  }
  const s = string().min(2).max(3);
  assertEquals([value(s, "ab"), value(s, "abc")], ["ab", "abc"]);
  assertEquals(issue(s, "a"), {
    code: "too_small",
    origin: "string",
    minimum: 2,
    inclusive: true,
    input: "a",
    path: [],
    message: "Too small: expected string to have >=2 characters",
  });
  assertEquals(issue(s, "abcd"), {
    code: "too_big",
    origin: "string",
    maximum: 3,
    inclusive: true,
    input: "abcd",
    path: [],
    message: "Too big: expected string to have <=3 characters",
  });
  const two = string().length(2, "two letters");
  assertEquals(value(two, "US"), "US");
  const short = issue(two, "U");
  const long = issue(two, "USA");
  assertEquals([short.code, short.message, long.code, long.message], [
    "too_small",
    "two letters",
    "too_big",
    "two letters",
  ]);
});

Deno.test("shape: regex, refine and verify run in the order they were added, after the type", () => {
  const global = /^a+$/g;
  const s = string().regex(global, "only a").refine((v) => v.length < 3, "too many a");
  // a global pattern keeps its lastIndex between tests; every read starts from the beginning
  assertEquals([value(s, "aa"), value(s, "aa"), value(s, "a")], ["aa", "aa", "a"]);
  assertEquals(issue(s, "ab"), {
    code: "invalid_format",
    input: "ab",
    path: [],
    message: "only a",
  });
  assertEquals(issue(s, "aaa"), { code: "custom", input: "aaa", path: [], message: "too many a" });
  assertEquals(
    issue(string().regex(/^x$/), "y").message,
    "Invalid string: must match pattern /^x$/",
  );
  const calls: string[] = [];
  const v = string().min(1).verify((x) => {
    calls.push(x);
    return x === "bad" ? "is bad" : undefined;
  });
  assertEquals(where(v, ""), ": Too small: expected string to have >=1 characters");
  assertEquals(where(v, 7), ": expected string");
  assertEquals(calls, [], "a refinement never sees a value that failed before it");
  assertEquals(where(v, "bad"), ": is bad");
  assertEquals(value(v, "good"), "good");
  assertEquals(calls, ["bad", "good"]);
});

Deno.test("shape: number is finite; int refuses fractions as a type and unsafe integers by range", () => {
  assertEquals(value(number(), 1.5), 1.5);
  for (const bad of [NaN, Infinity, -Infinity, "1", null]) {
    assertEquals(issue(number(), bad).code, "invalid_type");
    assertEquals((issue(number(), bad) as { expected: string }).expected, "number");
  }
  const n = number().int().min(1).max(9);
  assertEquals([value(n, 1), value(n, 9)], [1, 9]);
  assertEquals(issue(n, 0.5), {
    code: "invalid_type",
    expected: "int",
    input: 0.5,
    path: [],
    message: "expected int",
  });
  assertEquals(issue(n, 0), {
    code: "too_small",
    origin: "number",
    minimum: 1,
    inclusive: true,
    input: 0,
    path: [],
    message: "Too small: expected number to be >=1",
  });
  assertEquals(where(n, 10), ": Too big: expected number to be <=9");
  assertEquals(where(number().int(), 2 ** 53), ": Too big: expected int to be <9007199254740991");
  assertEquals(where(number().int(), -1e300), ": Too small: expected int to be >-9007199254740991");
  assertEquals(where(number().max(9).int(), 10.5), ": Too big: expected number to be <=9");
});

Deno.test("shape: boolean, oneOf and literal", () => {
  assertEquals([value(boolean(), true), value(boolean(), false)], [true, false]);
  assertEquals(issue(boolean(), "true").code, "invalid_type");
  const mode = oneOf(["resolved", "resolv.conf", 3]);
  assertEquals([value(mode, "resolved"), value(mode, 3)], ["resolved", 3]);
  assertEquals(issue(mode, "3"), {
    code: "invalid_value",
    values: ["resolved", "resolv.conf", 3],
    input: "3",
    path: [],
    message: 'Invalid option: expected one of "resolved"|"resolv.conf"|3',
  });
  assertEquals(value(literal("k3d"), "k3d"), "k3d");
  assertEquals(where(literal("k3d"), undefined), ': Invalid input: expected "k3d"');
  assertEquals(where(literal(7), "7"), ": Invalid input: expected 7");
});

Deno.test("shape: an array reads every item (with its index) before its own checks", () => {
  const list = array(string().min(1)).min(1).max(2).refine(
    (a) => new Set(a).size === a.length,
    "twice",
  );
  const input = ["a", "b"];
  const read = value(list, input);
  assertEquals(read, ["a", "b"]);
  assertOk(read !== input, "a new array");
  assertEquals(issue(list, "a").code, "invalid_type");
  assertEquals(issue(list, []), {
    code: "too_small",
    origin: "array",
    minimum: 1,
    inclusive: true,
    input: [],
    path: [],
    message: "Too small: expected array to have >=1 items",
  });
  assertEquals(where(list, ["a", "b", "c"]), ": Too big: expected array to have <=2 items");
  assertEquals(where(list, ["a", "a"]), ": twice");
  // the bad item is named, though the list is also too long and has a duplicate
  assertEquals(where(list, ["a", "a", ""]), "2: Too small: expected string to have >=1 characters");
  // a hole is read as undefined
  assertEquals(where(array(string()), [, "a"]), "0: expected string");
});

Deno.test("shape: a strict object reads its keys in its own order, depth first, then refuses unknown keys", () => {
  const o = strictObject({
    a: strictObject({ x: number(), y: number() }),
    b: number(),
  });
  assertEquals(value(o, { b: 2, a: { y: 1, x: 0 } }), { a: { x: 0, y: 1 } as never, b: 2 });
  assertEquals(where(o, { b: "2", a: { y: "1", x: "0" } }), "a.x: expected number");
  assertEquals(where(o, { b: "2", a: { x: 0, y: 1 } }), "b: expected number");
  // the nested object's problems come first, though the unknown key is on the outer one
  assertEquals(where(o, { zz: 1, a: { x: 0, y: "1" }, b: 2 }), "a.y: expected number");
  // and so does every later known key
  assertEquals(where(o, { zz: 1, a: { x: 0, y: 1 }, b: "2" }), "b: expected number");
  assertEquals(issue(o, { zz: 1, yy: 2, a: { x: 0, y: 1, q: 3 }, b: 2 }), {
    code: "unrecognized_keys",
    keys: ["q"],
    input: { x: 0, y: 1, q: 3 },
    path: ["a"],
    message: 'Unrecognized key: "q"',
  });
  const outer = issue(o, { zz: 1, yy: 2, a: { x: 0, y: 1 }, b: 2 });
  assertEquals([outer.code, outer.path, outer.message], [
    "unrecognized_keys",
    [],
    'Unrecognized keys: "zz", "yy"',
  ]);
  assertEquals(issue(o, [{}]).code, "invalid_type");
  assertEquals(where(o, null), ": expected object");
  assertEquals(where(o, { a: 5, b: 1 }), "a: expected object");
});

Deno.test("shape: optional keys may be absent; a present undefined stays a key", () => {
  const o = strictObject({ a: number().optional(), b: string() });
  assertEquals(value(o, { b: "x" }), { b: "x" });
  assertEquals(Object.keys(value(o, { a: undefined, b: "x" })), ["a", "b"]);
  assertEquals(value(o, { a: 1, b: "x" }), { a: 1, b: "x" });
  assertEquals(where(o, { a: "1", b: "x" }), "a: expected number");
  assertEquals(where(o, {}), "b: expected string");
  // a Date has no keys of its own: it reads like an empty table, as TOML dates did before
  assertEquals(value(strictObject({ a: number().default(1) }), new Date(0)), { a: 1 });
});

Deno.test("shape: default is used as it is when absent; prefault is read in its place", () => {
  const list = array(number()).default([1]);
  const first = value(list, undefined);
  first.push(2);
  assertEquals(value(list, undefined), [1], "each read gets its own copy of the default");
  assertEquals(where(list, ["x"]), "0: expected number", "a given value is still read");
  // a default is not checked: a wrong one is the schema's own mistake
  assertEquals(value(number().min(5).default(1), undefined), 1);
  const table = strictObject({ port: number().min(1).default(80) });
  const outer = strictObject({ t: table.prefault({}), u: table.prefault({ port: 0 }) });
  assertEquals(value(outer, { u: { port: 2 } }), { t: { port: 80 }, u: { port: 2 } });
  assertEquals(where(outer, {}), "u.port: Too small: expected number to be >=1");
});

Deno.test("shape: a loose object keeps unknown keys; partial makes every key optional", () => {
  const o = looseObject({ a: number() });
  assertEquals(value(o, { z: [1], a: 1 }), { a: 1, z: [1] });
  assertEquals(where(o, { z: 1 }), "a: expected number");
  const proto = value(o, JSON.parse('{"a":1,"__proto__":{"polluted":true}}'));
  assertEquals(Object.getPrototypeOf(proto), Object.prototype);
  assertEquals(Object.hasOwn(proto, "__proto__"), true);
  const p = looseObject({ a: number(), b: strictObject({ c: number() }) }).partial();
  assertEquals(value(p, {}), {});
  assertEquals(value(p, { a: 1 }), { a: 1 });
  assertEquals(where(p, { b: {} }), "b.c: expected number");
});

Deno.test("shape: a record takes plain objects only and reads each own key in order", () => {
  const r = record(number());
  assertEquals(value(r, { b: 1, a: 2, 1: 3 }), { 1: 3, b: 1, a: 2 });
  assertEquals(where(r, { b: 1, a: "2", 1: "3" }), "1: expected number");
  // keys that name Object.prototype's own properties are ordinary keys of a record
  assertEquals(value(r, JSON.parse('{"constructor":1,"hasOwnProperty":2}')), {
    constructor: 1,
    hasOwnProperty: 2,
  });
  assertEquals(where(r, JSON.parse('{"constructor":null}')), "constructor: expected number");
  assertEquals(value(r, JSON.parse('{"__proto__":"skipped","a":1}')), { a: 1 });
  assertEquals(value(r, Object.create(null)), {});
  for (const bad of [[], null, "x", new Date(0), new (class {})()]) {
    assertEquals(issue(r, bad).code, "invalid_type");
    assertEquals((issue(r, bad) as { expected: string }).expected, "record");
  }
});

Deno.test("shape: a whole-object refinement runs only on a valid object and names its own path", () => {
  let calls = 0;
  const o = strictObject({ a: number(), b: strictObject({ c: number().default(1) }).prefault({}) })
    .verify(
      (v) => {
        calls++;
        return v.a === v.b.c ? { path: ["b", "c"], message: "equals a", input: v.b.c } : undefined;
      },
    );
  assertEquals(value(o, { a: 2 }), { a: 2, b: { c: 1 } });
  assertEquals(issue(o, { a: 1 }), {
    code: "custom",
    path: ["b", "c"],
    message: "equals a",
    input: 1,
  });
  assertEquals(calls, 2);
  assertEquals(where(o, { a: "1" }), "a: expected number");
  assertEquals(where(o, { a: 1, x: 1 }), ': Unrecognized key: "x"');
  assertEquals(calls, 2, "not run when anything else is wrong");
  // nested, its path is relative to the value it refines
  assertEquals(where(strictObject({ o }), { o: { a: 1 } }), "o.b.c: equals a");
});

Deno.test("shape: fields are read through defaults, prefaults, optionals and refinements", () => {
  const inner = strictObject({ x: number(), y: number() });
  const o = strictObject({ t: inner.prefault({}), u: inner.optional(), v: number().default(1) })
    .refine(() => true, "never");
  assertEquals(Object.keys(o.fields ?? {}), ["t", "u", "v"]);
  assertEquals(Object.keys(o.fields?.t.fields ?? {}), ["x", "y"]);
  assertEquals(Object.keys(o.fields?.u.fields ?? {}), ["x", "y"]);
  assertEquals(o.fields?.v.fields, undefined);
  assertEquals(Object.keys(looseObject({ a: number() }).partial().fields), ["a"]);
});

Deno.test("shape: parse throws the first problem; check passes on errors that are not problems", () => {
  assertEquals(strictObject({ a: number() }).parse({ a: 1 }), { a: 1 });
  let message = "";
  try {
    strictObject({ a: strictObject({ b: number() }) }).parse({ a: { b: "x" } });
  } catch (err) {
    message = (err as Error).message;
  }
  assertEquals(message, "`a.b`: expected number");
  const broken = string().refine(() => {
    throw new TypeError("bug");
  }, "never");
  let thrown: unknown;
  try {
    broken.check("x");
  } catch (err) {
    thrown = err;
  }
  assertOk(thrown instanceof TypeError, "a bug in a refinement is not a problem of the value");
});

type Exact<A, B> = [A] extends [B] ? [B] extends [A] ? true : false : false;

Deno.test("shape: the types read follow the shapes", () => {
  const o = strictObject({
    s: string().default("x"),
    n: number().optional(),
    l: array(string()),
    e: oneOf(["a", "b"]),
    k: literal("k3d"),
    r: record(boolean()),
    t: strictObject({ b: boolean() }).prefault({}),
  });
  const exact: Exact<
    Infer<typeof o>,
    {
      s: string;
      n?: number | undefined;
      l: string[];
      e: "a" | "b";
      k: "k3d";
      r: Record<string, boolean>;
      t: { b: boolean };
    }
  > = true;
  const loose: Exact<Infer<typeof o>["t"], { b: boolean }> = true;
  const partial: Exact<
    Infer<ReturnType<typeof o.partial>>["l"],
    string[] | undefined
  > = true;
  assertEquals([exact, loose, partial], [true, true, true]);
});
