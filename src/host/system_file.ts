/** Reading and replacing system files (/etc/hosts, resolv.conf): atomic where possible, sudo when needed. */
import { FirestreamError } from "../errors.ts";
import { readTextIfExists, writeFileAtomic } from "../state/fs.ts";
import { exec, isRoot } from "../tools/exec.ts";

/** /etc/hosts, or FIRESTREAM_HOSTS_FILE. */
export function hostsFilePath(): string {
  return Deno.env.get("FIRESTREAM_HOSTS_FILE") ?? "/etc/hosts";
}

/** /etc/resolv.conf, or FIRESTREAM_RESOLV_CONF. */
export function resolvConfPath(): string {
  return Deno.env.get("FIRESTREAM_RESOLV_CONF") ?? "/etc/resolv.conf";
}

/** The file's text ("" when missing). */
export async function readSystemFile(path: string): Promise<string> {
  return (await readTextIfExists(path)) ?? "";
}

/** Options for {@link writeSystemFile}. */
export interface SystemWriteOptions {
  /** where to keep a copy of the previous content (one backup, replaced each time) */
  backup: string;
}

/**
 * Replaces the file's content. As its owner (or root) it is an atomic rename keeping the mode; a
 * bind-mounted file (containers) is rewritten in place; otherwise `sudo cp` + `sudo mv`.
 */
export async function writeSystemFile(
  path: string,
  text: string,
  options: SystemWriteOptions,
): Promise<void> {
  const previous = await readTextIfExists(path);
  if (previous !== undefined) {
    await Deno.mkdir(options.backup.slice(0, options.backup.lastIndexOf("/")), { recursive: true });
    await writeFileAtomic(options.backup, previous, { mode: 0o600 });
  }
  let mode = 0o644;
  try {
    mode = (await Deno.stat(path)).mode! & 0o777;
  } catch { /* new file */ }
  try {
    await writeFileAtomic(path, text, { mode });
    return;
  } catch (err) {
    if (err instanceof Deno.errors.Busy || /busy|cross-device/i.test((err as Error).message)) {
      // a bind mount (e.g. /etc/hosts in a container) cannot be renamed over: write it in place
      await Deno.writeTextFile(path, text);
      return;
    }
    if (!(err instanceof Deno.errors.PermissionDenied) || isRoot()) throw err;
  }
  const temp = await Deno.makeTempFile({ prefix: "firestream-" });
  try {
    await Deno.writeTextFile(temp, text);
    const staged = `${path}.firestream-new`;
    await exec(["cp", temp, staged], { sudo: true });
    await exec(["chmod", mode.toString(8), staged], { sudo: true });
    const moved = await exec(["mv", staged, path], { sudo: true, check: false });
    if (moved.code !== 0) {
      await exec(["cp", staged, path], { sudo: true });
      await exec(["rm", "-f", staged], { sudo: true });
    }
  } catch (err) {
    throw new FirestreamError(`could not write ${path}: ${(err as Error).message}`, {
      hint: "run `sudo -v` and try again, or use --skip-host-network",
    });
  } finally {
    await Deno.remove(temp).catch(() => {});
  }
}
