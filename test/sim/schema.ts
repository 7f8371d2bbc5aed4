/** A small JSON-schema (draft-07 subset) validator: enough for k3d's v1alpha5 schema. */

// deno-lint-ignore no-explicit-any
type Schema = any;

/** Returns the problems found, as k3d prints them ("servers: Invalid type. Expected: number, given: string"). */
export function validateSchema(
  value: unknown,
  schema: Schema,
  root: Schema = schema,
  path = "",
): string[] {
  if (schema === false) return [`${path || "(root)"}: False always fails validation`];
  if (schema === true) return [];
  if (schema.$ref) {
    const target = schema.$ref.replace(/^#\//, "").split("/").reduce(
      (n: Schema, k: string) => n[k],
      root,
    );
    return validateSchema(value, target, root, path);
  }
  const at = path || "(root)";
  const errors: string[] = [];
  if (schema.type) {
    const actual = typeOf(value);
    const ok = schema.type === "number"
      ? actual === "number" || actual === "integer"
      : actual === schema.type ||
        (schema.type === "number" && actual === "integer");
    if (!ok) return [`${at}: Invalid type. Expected: ${schema.type}, given: ${actual}`];
  }
  if (schema.enum && !schema.enum.includes(value)) {
    errors.push(
      `${at}: ${at} must be one of the following: ${
        schema.enum.map((e: unknown) => JSON.stringify(e)).join(", ")
      }`,
    );
  }
  if (typeof value === "number") {
    if (schema.minimum !== undefined && value < schema.minimum) {
      errors.push(`${at}: Must be greater than or equal to ${schema.minimum}`);
    }
  }
  if (
    typeof value === "string" && schema.format === "hostname" &&
    !/^[a-zA-Z0-9]([a-zA-Z0-9-.]*[a-zA-Z0-9])?$/.test(value)
  ) {
    errors.push(`${at}: Does not match format 'hostname'`);
  }
  if (
    typeof value === "string" && schema.format === "ipv4" && !/^(\d{1,3}\.){3}\d{1,3}$/.test(value)
  ) {
    errors.push(`${at}: Does not match format 'ipv4'`);
  }
  if (Array.isArray(value) && schema.items) {
    value.forEach((item, i) =>
      errors.push(...validateSchema(item, schema.items, root, `${path}.${i}`.replace(/^\./, "")))
    );
  }
  if (typeOf(value) === "object") {
    const obj = value as Record<string, unknown>;
    for (const req of schema.required ?? []) {
      if (!(req in obj)) errors.push(`${at}: ${req} is required`);
    }
    const props = schema.properties ?? {};
    for (const [key, v] of Object.entries(obj)) {
      const child = path ? `${path}.${key}` : key;
      if (key in props) {
        // k3d's schema puts `additionalProperties: false` inside `properties` under `registries`:
        // that declares a property named "additionalProperties", so other keys pass there, as in k3d
        errors.push(...validateSchema(v, props[key], root, child));
      } else if (schema.additionalProperties === false) {
        errors.push(`${at}: Additional property ${key} is not allowed`);
      }
    }
  }
  return errors;
}

function typeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}
