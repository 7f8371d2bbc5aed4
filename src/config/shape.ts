/**
 * Small typed validators for the config file and the state file. A shape reads an unknown value
 * and returns it typed, with its defaults applied, or stops at the first problem it finds.
 *
 * Problems are looked for depth-first: an object reads its known keys in the order it declares
 * them, each nested value completely before the next key, and only then refuses unknown keys (a
 * strict object) or keeps them (a loose one). A value's own checks run in the order they were
 * added, after its type; a refinement runs only on a value that passed everything before it.
 */

/** Where a problem is: the keys and indexes from the value that was checked. */
export type Path = (string | number)[];

/** The type a value was expected to have. */
export type Expected = "string" | "number" | "int" | "boolean" | "array" | "object" | "record";

/** What a size limit counted: characters, items, or the value of a number (`int`: whole). */
export type Origin = "string" | "array" | "number" | "int";

/** A value `oneOf` and `literal` compare with. */
export type Primitive = string | number | boolean;

/** The first problem of a value: where it is, what was there, and what is wrong with it. */
export type Issue =
  & { path: Path; input: unknown; message: string }
  & (
    | { code: "invalid_type"; expected: Expected }
    | { code: "too_small"; origin: Origin; minimum: number; inclusive: boolean }
    | { code: "too_big"; origin: Origin; maximum: number; inclusive: boolean }
    | { code: "invalid_format" }
    | { code: "invalid_value"; values: readonly Primitive[] }
    | { code: "unrecognized_keys"; keys: string[] }
    | { code: "custom" }
  );

/** A problem a refinement names at a path of its own (relative to the refined value). */
export interface Problem {
  path: Path;
  message: string;
  input: unknown;
}

/** The outcome of {@link Shape.check}. */
export type Checked<T> = { ok: true; value: T } | { ok: false; issue: Issue };

/** The fields of an object shape, by key. */
export type Fields = { readonly [key: string]: Shape<unknown> };

/** The type a shape reads. */
export type Infer<S> = S extends Shape<infer T> ? T : never;

/** A JSON Schema (draft-07) fragment. */
export type JsonSchema = { [keyword: string]: unknown };

/** The first problem, thrown from deep inside a read and caught by {@link Shape.check}. */
class Stop {
  constructor(readonly issue: Issue) {}
}

function stop(issue: Issue): never {
  throw new Stop(issue);
}

/** A check of a value that already has the right type; throws a {@link Stop}. */
type Check<T> = (value: T, path: Path) => void;

/** Reads values of type `T`. */
export abstract class Shape<T> {
  /** Reads `input`, found at `path`; throws the first problem as a {@link Stop}. */
  abstract read(input: unknown, path: Path): T;

  /** The fields of the object this shape reads (through defaults and refinements), if any. */
  get fields(): Fields | undefined {
    return undefined;
  }

  /**
   * What this shape accepts, as JSON Schema (draft-07): every check JSON Schema can state (types,
   * bounds, patterns, enums, unknown keys, unique items, defaults); a refinement adds what its
   * author stated for it. Editors (Taplo) complete and check `firestream.toml` from it.
   */
  abstract jsonSchema(): JsonSchema;

  /** Whether the value may be absent: its key is not required in a table. */
  get absentOk(): boolean {
    return false;
  }

  /** The same shape, with a description for editors (JSON Schema `description`). */
  describe(text: string): Shape<T> {
    return new DescribedShape(this, text);
  }

  /** The value read from `input`, or its first problem. */
  check(input: unknown): Checked<T> {
    try {
      return { ok: true, value: this.read(input, []) };
    } catch (err) {
      if (err instanceof Stop) return { ok: false, issue: err.issue };
      throw err;
    }
  }

  /** The value read from `input`; throws an Error naming the first problem. */
  parse(input: unknown): T {
    const result = this.check(input);
    if (result.ok) return result.value;
    throw new Error(`\`${result.issue.path.join(".")}\`: ${result.issue.message}`);
  }

  /** Also accepts an absent value (undefined); in an object, the key becomes optional. */
  optional(): OptionalShape<T> {
    return new OptionalShape(this);
  }

  /** `value` (a copy, for a list or table) when absent; it is used as it is, not read. */
  default(value: T): Shape<T> {
    return new DefaultShape(this, value);
  }

  /** Reads `raw` when absent: for a table whose own keys have defaults, `prefault({})`. */
  prefault(raw: unknown): Shape<T> {
    return new PrefaultShape(this, raw);
  }

  /**
   * Refuses a value `ok` says no to, with `message`; `schema` states the same rule in JSON Schema
   * where it can be (or a part of it that refuses nothing the rule accepts).
   */
  refine(ok: (value: T) => boolean, message: string, schema?: JsonSchema): Shape<T> {
    return this.verify((value) => ok(value) ? undefined : message, schema);
  }

  /**
   * Refuses a value `problemOf` finds a problem with: a message about the value itself, or a
   * {@link Problem} at a path inside it. `schema`: as for {@link refine}.
   */
  verify(
    problemOf: (value: T) => string | Problem | undefined,
    schema?: JsonSchema,
  ): Shape<T> {
    return new RefinedShape(this, schema, (value, path) => {
      const found = problemOf(value);
      if (found === undefined) return;
      if (typeof found === "string") {
        stop({ code: "custom", path, input: value, message: found });
      }
      stop({ code: "custom", ...found, path: [...path, ...found.path] });
    });
  }
}

/** A shape around another: its fields, absence and schema are the inner shape's unless it says. */
abstract class Wrapper<T, I = T> extends Shape<T> {
  constructor(protected readonly inner: Shape<I>) {
    super();
  }
  override get fields(): Fields | undefined {
    return this.inner.fields;
  }
  override get absentOk(): boolean {
    return this.inner.absentOk;
  }
  jsonSchema(): JsonSchema {
    return this.inner.jsonSchema();
  }
}

/** A shape whose value may be absent; a key of this shape is optional in its object's type. */
export class OptionalShape<T> extends Wrapper<T | undefined, T> {
  declare readonly optionalKey: true;
  override get absentOk(): boolean {
    return true;
  }
  /** Described, and still optional: the key stays optional in its object's type. */
  override describe(text: string): OptionalShape<T> {
    return new OptionalShape(this.inner.describe(text));
  }
  read(input: unknown, path: Path): T | undefined {
    return input === undefined ? undefined : this.inner.read(input, path);
  }
}

class DescribedShape<T> extends Wrapper<T> {
  constructor(inner: Shape<T>, private readonly text: string) {
    super(inner);
  }
  override jsonSchema(): JsonSchema {
    return { description: this.text, ...this.inner.jsonSchema() };
  }
  read(input: unknown, path: Path): T {
    return this.inner.read(input, path);
  }
}

function copy<T>(value: T): T {
  if (Array.isArray(value)) return [...value] as T;
  if (isPlainObject(value)) return { ...value } as T;
  return value;
}

class DefaultShape<T> extends Wrapper<T> {
  constructor(inner: Shape<T>, private readonly value: T) {
    super(inner);
  }
  override get absentOk(): boolean {
    return true;
  }
  override jsonSchema(): JsonSchema {
    return { ...this.inner.jsonSchema(), default: copy(this.value) };
  }
  read(input: unknown, path: Path): T {
    return input === undefined ? copy(this.value) : this.inner.read(input, path);
  }
}

class PrefaultShape<T> extends Wrapper<T> {
  constructor(inner: Shape<T>, private readonly raw: unknown) {
    super(inner);
  }
  override get absentOk(): boolean {
    return true;
  }
  read(input: unknown, path: Path): T {
    return this.inner.read(input === undefined ? copy(this.raw) : input, path);
  }
}

class RefinedShape<T> extends Wrapper<T> {
  constructor(
    inner: Shape<T>,
    private readonly schema: JsonSchema | undefined,
    private readonly refinement: Check<T>,
  ) {
    super(inner);
  }
  override jsonSchema(): JsonSchema {
    const base = this.inner.jsonSchema();
    if (!this.schema) return base;
    return { ...base, allOf: [...(base.allOf as JsonSchema[] ?? []), this.schema] };
  }
  read(input: unknown, path: Path): T {
    const value = this.inner.read(input, path);
    this.refinement(value, path);
    return value;
  }
}

/** A shape that checks its value's type, then runs its checks in order. */
abstract class CheckedShape<T> extends Shape<T> {
  constructor(
    protected readonly checks: readonly Check<T>[] = [],
    /** the JSON Schema keywords of the checks */
    protected readonly facets: JsonSchema = {},
  ) {
    super();
  }
  /** The value if it has the type, else a stop. */
  protected abstract typed(input: unknown, path: Path): T;
  read(input: unknown, path: Path): T {
    const value = this.typed(input, path);
    for (const check of this.checks) check(value, path);
    return value;
  }
}

function wrongType(expected: Expected, input: unknown, path: Path): never {
  return stop({ code: "invalid_type", expected, input, path, message: `expected ${expected}` });
}

/** `facets` with `more` added: a bound only where it is tighter, a second pattern under allOf. */
function withFacets(facets: JsonSchema, more: JsonSchema): JsonSchema {
  const out = { ...facets };
  for (const [key, value] of Object.entries(more)) {
    const before = out[key];
    if (before === undefined) out[key] = value;
    else if (/^min/.test(key)) out[key] = Math.max(before as number, value as number);
    else if (/^max/.test(key)) out[key] = Math.min(before as number, value as number);
    else out.allOf = [...(out.allOf as JsonSchema[] ?? []), { [key]: value }];
  }
  return out;
}

/**
 * A pattern as JSON Schema writes it (ECMA-262 without flags): a case-insensitive pattern has
 * each letter spelled in both cases (`a-z` becomes `a-zA-Z`, `x` becomes `[xX]`).
 */
export function patternOf(re: RegExp): string {
  if (!re.flags.includes("i")) return re.source;
  let out = "";
  let inClass = false;
  const src = re.source;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === "\\") {
      out += src.slice(i, i + 2);
      i++;
    } else if (c === "[" && !inClass) {
      inClass = true;
      out += c;
    } else if (c === "]" && inClass) {
      inClass = false;
      out += c;
    } else if (/[a-z]/i.test(c)) {
      const range = inClass && src[i + 1] === "-" && /[a-z]/i.test(src[i + 2] ?? "");
      if (range) {
        const [from, to] = [c, src[i + 2]];
        out += `${from.toLowerCase()}-${to.toLowerCase()}${from.toUpperCase()}-${to.toUpperCase()}`;
        i += 2;
      } else {
        const both = `${c.toLowerCase()}${c.toUpperCase()}`;
        out += inClass ? both : `[${both}]`;
      }
    } else out += c;
  }
  return out;
}

const UNITS: Partial<Record<Origin, string>> = { string: "characters", array: "items" };

function tooSmall(
  origin: Origin,
  minimum: number,
  inclusive: boolean,
  input: unknown,
  path: Path,
  message?: string,
): never {
  const bound = `${inclusive ? ">=" : ">"}${minimum}`;
  const unit = UNITS[origin];
  return stop({
    code: "too_small",
    origin,
    minimum,
    inclusive,
    input,
    path,
    message: message ??
      `Too small: expected ${origin} ${unit ? `to have ${bound} ${unit}` : `to be ${bound}`}`,
  });
}

function tooBig(
  origin: Origin,
  maximum: number,
  inclusive: boolean,
  input: unknown,
  path: Path,
  message?: string,
): never {
  const bound = `${inclusive ? "<=" : "<"}${maximum}`;
  const unit = UNITS[origin];
  return stop({
    code: "too_big",
    origin,
    maximum,
    inclusive,
    input,
    path,
    message: message ??
      `Too big: expected ${origin} ${unit ? `to have ${bound} ${unit}` : `to be ${bound}`}`,
  });
}

/** Strings. */
export class StringShape extends CheckedShape<string> {
  protected typed(input: unknown, path: Path): string {
    return typeof input === "string" ? input : wrongType("string", input, path);
  }
  jsonSchema(): JsonSchema {
    return { type: "string", ...this.facets };
  }
  private and(check: Check<string>, facets: JsonSchema): StringShape {
    return new StringShape([...this.checks, check], withFacets(this.facets, facets));
  }
  /** At least `n` characters (UTF-16 code units). */
  min(n: number, message?: string): StringShape {
    return this.and((s, path) => {
      if (s.length < n) tooSmall("string", n, true, s, path, message);
    }, { minLength: n });
  }
  /** At most `n` characters (UTF-16 code units). */
  max(n: number, message?: string): StringShape {
    return this.and((s, path) => {
      if (s.length > n) tooBig("string", n, true, s, path, message);
    }, { maxLength: n });
  }
  /** Exactly `n` characters: shorter is too small, longer too big. */
  length(n: number, message?: string): StringShape {
    return this.and((s, path) => {
      if (s.length < n) tooSmall("string", n, true, s, path, message);
      if (s.length > n) tooBig("string", n, true, s, path, message);
    }, { minLength: n, maxLength: n });
  }
  /** Matches `pattern`. */
  regex(pattern: RegExp, message?: string): StringShape {
    return this.and((s, path) => {
      pattern.lastIndex = 0;
      if (pattern.test(s)) return;
      stop({
        code: "invalid_format",
        input: s,
        path,
        message: message ?? `Invalid string: must match pattern ${pattern}`,
      });
    }, { pattern: patternOf(pattern) });
  }
}

/** Finite numbers (not NaN, not ±Infinity). */
export class NumberShape extends CheckedShape<number> {
  protected typed(input: unknown, path: Path): number {
    return typeof input === "number" && Number.isFinite(input)
      ? input
      : wrongType("number", input, path);
  }
  jsonSchema(): JsonSchema {
    return { type: "number", ...this.facets };
  }
  private and(check: Check<number>, facets: JsonSchema): NumberShape {
    return new NumberShape([...this.checks, check], withFacets(this.facets, facets));
  }
  /** A safe integer: a fraction is of the wrong type (`int`), an unsafe integer out of range. */
  int(): NumberShape {
    return this.and((n, path) => {
      if (!Number.isInteger(n)) wrongType("int", n, path);
      if (n > Number.MAX_SAFE_INTEGER) tooBig("int", Number.MAX_SAFE_INTEGER, false, n, path);
      if (n < Number.MIN_SAFE_INTEGER) tooSmall("int", Number.MIN_SAFE_INTEGER, false, n, path);
    }, {
      type: "integer",
      minimum: Number.MIN_SAFE_INTEGER,
      maximum: Number.MAX_SAFE_INTEGER,
    });
  }
  /** At least `n`. */
  min(n: number): NumberShape {
    return this.and((v, path) => {
      if (v < n) tooSmall("number", n, true, v, path);
    }, { minimum: n });
  }
  /** At most `n`. */
  max(n: number): NumberShape {
    return this.and((v, path) => {
      if (v > n) tooBig("number", n, true, v, path);
    }, { maximum: n });
  }
}

class BooleanShape extends CheckedShape<boolean> {
  protected typed(input: unknown, path: Path): boolean {
    return typeof input === "boolean" ? input : wrongType("boolean", input, path);
  }
  jsonSchema(): JsonSchema {
    return { type: "boolean" };
  }
}

/** Lists whose every item `item` reads; the items are read first, then the list's checks run. */
export class ArrayShape<T> extends CheckedShape<T[]> {
  constructor(
    private readonly item: Shape<T>,
    checks: readonly Check<T[]>[] = [],
    facets: JsonSchema = {},
  ) {
    super(checks, facets);
  }
  protected typed(input: unknown, path: Path): T[] {
    if (!Array.isArray(input)) return wrongType("array", input, path);
    const out: T[] = [];
    for (let i = 0; i < input.length; i++) out.push(this.item.read(input[i], [...path, i]));
    return out;
  }
  jsonSchema(): JsonSchema {
    return { type: "array", items: this.item.jsonSchema(), ...this.facets };
  }
  private and(check: Check<T[]>, facets: JsonSchema): ArrayShape<T> {
    return new ArrayShape(this.item, [...this.checks, check], withFacets(this.facets, facets));
  }
  /** At least `n` items. */
  min(n: number): ArrayShape<T> {
    return this.and((a, path) => {
      if (a.length < n) tooSmall("array", n, true, a, path);
    }, { minItems: n });
  }
  /** At most `n` items. */
  max(n: number): ArrayShape<T> {
    return this.and((a, path) => {
      if (a.length > n) tooBig("array", n, true, a, path);
    }, { maxItems: n });
  }
}

/** Any non-null object that is not an array counts as a table (a Date too, as TOML gives). */
function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** An object made by `{}`, `JSON.parse` or `Object.create(null)`, not an instance of a class. */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (!isObject(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

type OptionalKeys<F extends Fields> = {
  [K in keyof F]: F[K] extends { optionalKey: true } ? K : never;
}[keyof F];
type Flat<T> = { [K in keyof T]: T[K] };

/** The type of an object with fields `F`: optional shapes give optional keys. */
export type ObjectOf<F extends Fields> = Flat<
  & { -readonly [K in Exclude<keyof F, OptionalKeys<F>>]: Infer<F[K]> }
  & { -readonly [K in OptionalKeys<F>]?: Infer<F[K]> }
>;

/** Tables with known fields; unknown keys are refused (strict) or kept as they are (loose). */
export class ObjectShape<T> extends CheckedShape<T> {
  private readonly known: Set<string>;
  constructor(
    private readonly shape: Fields,
    private readonly strict: boolean,
    checks: readonly Check<T>[] = [],
  ) {
    super(checks);
    this.known = new Set(Object.keys(shape));
  }
  override get fields(): Fields {
    return this.shape;
  }
  jsonSchema(): JsonSchema {
    const properties: Record<string, JsonSchema> = {};
    for (const [key, field] of Object.entries(this.shape)) properties[key] = field.jsonSchema();
    const required = Object.keys(this.shape).filter((key) => !this.shape[key].absentOk);
    return {
      type: "object",
      properties,
      ...(required.length ? { required } : {}),
      ...(this.strict ? { additionalProperties: false } : {}),
    };
  }
  /** The same table with every field optional. */
  partial(): ObjectShape<Partial<T>> {
    const shape: Record<string, Shape<unknown>> = {};
    for (const [key, field] of Object.entries(this.shape)) shape[key] = field.optional();
    return new ObjectShape(shape, this.strict);
  }
  protected typed(input: unknown, path: Path): T {
    if (!isObject(input)) return wrongType("object", input, path);
    const out: Record<string, unknown> = {};
    for (const key of this.known) {
      const value = this.shape[key].read(input[key], [...path, key]);
      if (value !== undefined || key in input) out[key] = value;
    }
    const unknown = Object.keys(input).filter((key) => !this.known.has(key));
    if (this.strict && unknown.length) {
      stop({
        code: "unrecognized_keys",
        keys: unknown,
        input,
        path,
        message: `Unrecognized key${unknown.length > 1 ? "s" : ""}: ${
          unknown.map((k) => `"${k}"`).join(", ")
        }`,
      });
    }
    for (const key of unknown) {
      Object.defineProperty(out, key, {
        value: input[key],
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out as T;
  }
}

/** Tables of string keys (a key `__proto__` is skipped) whose every value `value` reads. */
class RecordShape<T> extends CheckedShape<Record<string, T>> {
  constructor(private readonly value: Shape<T>) {
    super();
  }
  jsonSchema(): JsonSchema {
    return { type: "object", additionalProperties: this.value.jsonSchema() };
  }
  protected typed(input: unknown, path: Path): Record<string, T> {
    if (!isPlainObject(input)) return wrongType("record", input, path);
    const out: Record<string, T> = {};
    for (const key of Object.keys(input)) {
      if (key !== "__proto__") out[key] = this.value.read(input[key], [...path, key]);
    }
    return out;
  }
}

function shown(value: Primitive): string {
  return typeof value === "string" ? `"${value}"` : `${value}`;
}

class OneOfShape<T extends Primitive> extends CheckedShape<T> {
  constructor(private readonly values: readonly T[]) {
    super();
  }
  jsonSchema(): JsonSchema {
    return this.values.length === 1 ? { const: this.values[0] } : { enum: [...this.values] };
  }
  protected typed(input: unknown, path: Path): T {
    if (this.values.includes(input as T)) return input as T;
    const values = this.values;
    return stop({
      code: "invalid_value",
      values,
      input,
      path,
      message: values.length === 1
        ? `Invalid input: expected ${shown(values[0])}`
        : `Invalid option: expected one of ${values.map(shown).join("|")}`,
    });
  }
}

/** Any string. */
export function string(): StringShape {
  return new StringShape();
}

/** Any finite number. */
export function number(): NumberShape {
  return new NumberShape();
}

/** `true` or `false`. */
export function boolean(): Shape<boolean> {
  return new BooleanShape();
}

/** A list of values `item` reads. */
export function array<T>(item: Shape<T>): ArrayShape<T> {
  return new ArrayShape(item);
}

/** A table with exactly these fields: a key it does not know is a problem. */
export function strictObject<F extends Fields>(fields: F): ObjectShape<ObjectOf<F>> {
  return new ObjectShape(fields, true);
}

/** A table with at least these fields: keys it does not know are kept as they are. */
export function looseObject<F extends Fields>(
  fields: F,
): ObjectShape<ObjectOf<F> & { [key: string]: unknown }> {
  return new ObjectShape(fields, false);
}

/** A table of any string keys, each value read by `value`. */
export function record<T>(value: Shape<T>): Shape<Record<string, T>> {
  return new RecordShape(value);
}

/** One of `values` (compared with ===). */
export function oneOf<const V extends readonly Primitive[]>(values: V): Shape<V[number]> {
  return new OneOfShape<V[number]>(values);
}

/** Exactly `value`. */
export function literal<const V extends Primitive>(value: V): Shape<V> {
  return new OneOfShape([value]);
}
