/**
 * Mutations of a config or state document for differential tests: a value set to an edge case or
 * to the wrong type, a key removed, an unknown key or a repeated list entry added.
 */
import fc from "fast-check";

/** A parsed TOML or JSON value. */
export type Json = unknown;

/** Every path in `value` (the root too). */
export function paths(value: Json, at: (string | number)[] = []): (string | number)[][] {
  const out = [at];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...paths(v, [...at, i])));
  else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) out.push(...paths(v, [...at, k]));
  }
  return out;
}

/** A value a hand or a tool might leave: edge strings, numbers, the wrong types. */
export const replacement: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom(
    "",
    " ",
    "A",
    "x".repeat(64),
    "a-",
    "*.x.local",
    "a\tb",
    "10.42.0.0/16",
    "10.43.0.0/16",
    "10.42.0.0/15",
    "8.8.8.0/24",
    "v1.2.3-k3s1",
    "u@x.y",
    "registry.localhost",
    "resolved",
    "k3d",
    "kind",
  ),
  fc.string({ maxLength: 8 }),
  fc.constantFrom(
    0,
    1,
    -1,
    2,
    9,
    10,
    99,
    100,
    80,
    443,
    5000,
    6550,
    65535,
    65536,
    1.5,
    2 ** 53,
    NaN,
  ),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.constant([]),
  fc.constant({}),
  fc.array(fc.constantFrom("default", "a", "a", "Bad_NS"), { maxLength: 3 }),
  fc.constant({ unknown_key: 1 }),
);

export type Mutation = { path: (string | number)[]; how: "set" | "delete" | "add"; value: Json };

export function mutations(base: Json): fc.Arbitrary<Mutation[]> {
  const all = paths(base);
  return fc.array(
    fc.record({
      path: fc.constantFrom(...all),
      how: fc.constantFrom("set", "set", "set", "delete", "add") as fc.Arbitrary<Mutation["how"]>,
      value: replacement,
    }),
    { minLength: 1, maxLength: 3 },
  );
}

export function applyMutations(base: Json, list: Mutation[]): Json {
  let doc = structuredClone(base);
  for (const { path, how, value } of list) {
    // a fresh copy each time: fast-check hands out the same object again
    const m = { path, how, value: structuredClone(value) };
    if (m.path.length === 0) {
      if (m.how === "set") doc = m.value;
      continue;
    }
    let parent = doc as Record<string | number, Json>;
    for (const k of m.path.slice(0, -1)) {
      if (!parent || typeof parent !== "object") break;
      parent = parent[k] as Record<string | number, Json>;
    }
    if (!parent || typeof parent !== "object") continue;
    const key = m.path[m.path.length - 1];
    if (m.how === "set") parent[key] = m.value;
    else if (m.how === "delete") {
      if (Array.isArray(parent)) parent.splice(Number(key), 1);
      else delete parent[key];
    } else if (Array.isArray(parent)) parent.push(parent[Number(key)]);
    else parent[`${key}_x`] = m.value;
  }
  return doc;
}
