/** The release version, read from deno.json at build time (embedded by `deno compile`). */
import meta from "../deno.json" with { type: "json" };

/** Firestream's version. */
export const VERSION: string = meta.version;

/** `firestream 0.1.0 (deno 2.x, linux x86_64)` */
export function versionLine(): string {
  return `firestream ${VERSION} (deno ${Deno.version.deno}, ${Deno.build.os} ${Deno.build.arch})`;
}
