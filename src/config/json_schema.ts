/**
 * The JSON Schema of `firestream.toml`, made from the validator's own declarations
 * (src/config/schema.ts): a key, bound, pattern or table added there is in the schema at once.
 * Editors read it through Taplo (Even Better TOML): `#:schema ./firestream.schema.json` on the
 * first line of the file.
 */
import { configSchema } from "./schema.ts";
import type { JsonSchema } from "./shape.ts";

/** Where the repository keeps the generated schema (a test keeps it current). */
export const SCHEMA_FILE = "schema/firestream.schema.json";

/** The whole file's schema (JSON Schema draft-07, which Taplo reads). */
export function configJsonSchema(): JsonSchema {
  return {
    $schema: "http://json-schema.org/draft-07/schema#",
    title: "firestream.toml",
    description:
      "One local k3d cluster, its registry, certificates and host network, as Firestream keeps them. Port distinctness and the private network ranges are checked by `firestream plan`.",
    ...configSchema.jsonSchema(),
  };
}

/** The schema as the committed file holds it: two-space JSON and a final newline. */
export function configJsonSchemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}
