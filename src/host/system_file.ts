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
  /**
   * the file was this symbolic link when firestream first edited it: should it have become a plain
   * file holding exactly what the link's target holds after this write, the link is put back
   */
  link?: string;
}

function dirOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "." : path.slice(0, slash) || "/";
}

/** What the symbolic link at `path` points to (as written in the link), or undefined for a plain file. */
export async function systemFileLink(path: string): Promise<string | undefined> {
  try {
    if (!(await Deno.lstat(path)).isSymlink) return undefined;
    return await Deno.readLink(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
}

/**
 * The file that holds `path`'s content: `path` itself, or, through any chain of symbolic links
 * (systemd-resolved's stub, NetworkManager, resolvconf, NixOS), the file at its end.
 */
export async function linkTarget(path: string): Promise<string> {
  let current = path;
  for (let hops = 0; hops < 40; hops++) {
    const link = await systemFileLink(current);
    if (link === undefined) return current;
    current = link.startsWith("/") ? link : `${dirOf(current)}/${link}`;
  }
  throw new FirestreamError(`${path}: too many levels of symbolic links`);
}

/** Puts the symbolic link back when `path` became a plain file whose text is its target's. */
async function restoreLink(path: string, link: string, text: string): Promise<void> {
  if ((await systemFileLink(path)) !== undefined) return;
  const target = link.startsWith("/") ? link : `${dirOf(path)}/${link}`;
  if ((await readTextIfExists(target)) !== text) return;
  const temp = `${dirOf(path)}/.${path.slice(path.lastIndexOf("/") + 1)}.link-${Deno.pid}`;
  try {
    await Deno.symlink(link, temp);
    await Deno.rename(temp, path);
  } catch (err) {
    await Deno.remove(temp).catch(() => {});
    if (!(err instanceof Deno.errors.PermissionDenied) || isRoot()) throw err;
    await exec(["ln", "-sfn", link, path], { sudo: true });
  }
}

/**
 * Replaces the file's content. A symbolic link stays a link: the file it points to is written, in
 * its own directory. As its owner (or root) it is an atomic rename keeping the mode; a bind-mounted
 * file (containers) is rewritten in place; otherwise `sudo cp` + `sudo mv`.
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
  await writeContent(await linkTarget(path), text);
  if (options.link !== undefined) await restoreLink(path, options.link, text);
}

async function writeContent(path: string, text: string): Promise<void> {
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
