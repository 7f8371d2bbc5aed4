/** Where the system trust stores keep the local CA that `firestream cluster trust` installs, and whether it is there. */

/** The CA's file name in the system stores' anchor folders. */
export const CA_FILE_NAME = "firestream-local-ca.crt";

/** Debian's `update-ca-certificates` anchor, then Fedora's `update-ca-trust` anchor (Linux). */
export const SYSTEM_CA_COPIES = {
  "update-ca-certificates": `/usr/local/share/ca-certificates/${CA_FILE_NAME}`,
  "update-ca-trust": `/etc/pki/ca-trust/source/anchors/${CA_FILE_NAME}`,
} as const;

/**
 * Whether a system store's anchor holds this CA (the same certificate text); undefined when the
 * CA file cannot be read or the system keeps no such anchor folder (macOS keeps it in a keychain).
 */
export async function caTrusted(ca: string): Promise<boolean | undefined> {
  if (Deno.build.os === "darwin") return undefined;
  let want: string;
  try {
    want = (await Deno.readTextFile(ca)).trim();
  } catch {
    return undefined;
  }
  for (const copy of Object.values(SYSTEM_CA_COPIES)) {
    try {
      if ((await Deno.readTextFile(copy)).trim() === want) return true;
    } catch { /* not there */ }
  }
  return false;
}
