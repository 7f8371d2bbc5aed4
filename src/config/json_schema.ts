/**
 * The JSON Schema of `firestream.toml`, made from the validator's own declarations
 * (src/config/schema.ts): a key, bound, pattern or table added there is in the schema at once, in
 * the file's tables and in every profile's.
 * Editors read it through Taplo (Even Better TOML): `#:schema ./firestream.schema.json` on the
 * first line of the file.
 */
import { PROFILE_NAME } from "./load.ts";
import { configSchema } from "./schema.ts";
import { type JsonSchema, patternOf } from "./shape.ts";

/** Where the repository keeps the generated schema (a test keeps it current). */
export const SCHEMA_FILE = "schema/firestream.schema.json";

/**
 * A profile's schema from the config's: the same keys and rules, every key optional and without
 * a default (a profile sets what it changes; the rest comes from the file).
 */
function overlay(schema: JsonSchema): JsonSchema {
  const { required: _, default: __, ...rest } = schema;
  const properties = rest.properties as Record<string, JsonSchema> | undefined;
  if (!properties) return rest;
  return {
    ...rest,
    properties: Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, overlay(v)])),
  };
}

/** The whole file's schema (JSON Schema draft-07, which Taplo reads). */
export function configJsonSchema(): JsonSchema {
  const tables = configSchema.jsonSchema();
  return {
    $schema: "http://json-schema.org/draft-07/schema#",
    title: "firestream.toml",
    description:
      "One local k3d cluster, its registry, certificates and host network, as Firestream keeps them. Port distinctness and the private network ranges are checked by `firestream plan`.",
    ...tables,
    // the file's own keys, read by the loader around the config's tables
    properties: {
      extends: {
        description:
          "another firestream.toml merged first, relative to this file (~/ is your home); this file's keys win",
        type: "string",
        pattern: "\\S",
      },
      ...tables.properties as Record<string, JsonSchema>,
      profiles: {
        description: "[profiles.NAME] tables laid over the file with --profile NAME",
        type: "object",
        propertyNames: { pattern: patternOf(PROFILE_NAME) },
        additionalProperties: {
          description: "a profile: any of the file's keys, each with the same rules",
          ...overlay(tables),
        },
      },
    },
  };
}

/** The schema as the committed file holds it: two-space JSON and a final newline. */
export function configJsonSchemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}
