/** Atomic file replacement: temp file in the same directory, fsync, rename. */

/** Options for {@link writeFileAtomic}. */
export interface AtomicWriteOptions {
  /** file mode for the new file @default 0o644 */
  mode?: number;
  /** called after the temp file is durable and before the rename (tests inject crashes here) */
  beforeRename?: (tempPath: string) => void | Promise<void>;
}

/** Replaces `path` with `data` so that readers see the old or the new content, never a mix. */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const slash = path.lastIndexOf("/");
  const dir = slash < 0 ? "." : path.slice(0, slash) || "/";
  const base = path.slice(path.lastIndexOf("/") + 1);
  const temp = `${dir}/.${base}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const file = await Deno.open(temp, { write: true, createNew: true, mode: options.mode ?? 0o644 });
  try {
    let written = 0;
    while (written < bytes.length) written += await file.write(bytes.subarray(written));
    await file.sync();
  } finally {
    file.close();
  }
  try {
    if (options.mode !== undefined) await Deno.chmod(temp, options.mode);
    await options.beforeRename?.(temp);
    await Deno.rename(temp, path);
  } catch (err) {
    await Deno.remove(temp).catch(() => {});
    throw err;
  }
  await syncDir(dir);
}

async function syncDir(dir: string): Promise<void> {
  try {
    const handle = await Deno.open(dir, { read: true });
    try {
      await handle.sync();
    } finally {
      handle.close();
    }
  } catch {
    // directories cannot be fsynced on every platform; the rename itself is atomic
  }
}

/** Reads a file, or undefined when it does not exist. */
export async function readTextIfExists(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
}

/** Whether something exists at `path` (a file, a folder, a link to either). */
export function existsSync(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}
