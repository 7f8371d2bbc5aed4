/** Where the system trust stores keep the local CA that `firestream cluster trust` installs, and whether it is there. */

/** The CA's file name in a trust anchor directory, without its extension. */
const NAME = "firestream-local-ca";

/** A Linux system trust store: where its anchors go and the command that rebuilds it. */
export interface SystemStore {
  /** the distributions that keep their anchors here */
  distribution: string;
  /** the anchor directory (under the trust root) */
  anchors: string;
  /** the file name's extension the store's command reads */
  extension: ".crt" | ".pem";
  /** rebuilds the store from its anchors, after an install and after a removal */
  command: string[];
}

/**
 * The system stores in the order mkcert looks for them, by which anchor directory exists
 * (FiloSottile/mkcert v1.4.4 truststore_linux.go init): the directory decides, not which command
 * happens to be installed (Arch and openSUSE have `update-ca-trust` or `update-ca-certificates`
 * wrappers that read other directories).
 */
export const SYSTEM_STORES: readonly SystemStore[] = [
  {
    distribution: "Fedora/RHEL",
    anchors: "/etc/pki/ca-trust/source/anchors",
    extension: ".pem",
    command: ["update-ca-trust", "extract"],
  },
  {
    distribution: "Debian/Ubuntu",
    anchors: "/usr/local/share/ca-certificates",
    extension: ".crt",
    command: ["update-ca-certificates"],
  },
  {
    distribution: "Arch",
    anchors: "/etc/ca-certificates/trust-source/anchors",
    extension: ".crt",
    command: ["trust", "extract-compat"],
  },
  {
    distribution: "openSUSE",
    anchors: "/usr/share/pki/trust/anchors",
    extension: ".pem",
    command: ["update-ca-certificates"],
  },
];

/** The root the trust store paths are under (`/`; a test points it at a fake one). */
export function trustRoot(): string {
  return (Deno.env.get("FIRESTREAM_TRUST_ROOT") ?? "/").replace(/\/+$/, "");
}

/** The first store of {@link SYSTEM_STORES} whose anchor directory exists under `root`. */
export function systemStore(root: string): SystemStore | undefined {
  return SYSTEM_STORES.find((s) => isDirectory(`${root}${s.anchors}`));
}

/** Where the CA goes in `store` under `root`. */
export function anchorFile(store: SystemStore, root = trustRoot()): string {
  return `${root}${store.anchors}/${NAME}${store.extension}`;
}

/**
 * Whether this system's store (chosen as `cluster trust` chooses it) holds this CA (the same
 * certificate text); undefined when the CA file cannot be read or the system keeps no anchor
 * folder (macOS keeps it in a keychain).
 */
export async function caTrusted(ca: string): Promise<boolean | undefined> {
  if (Deno.build.os === "darwin") return undefined;
  const store = systemStore(trustRoot());
  if (!store) return undefined;
  let want: string;
  try {
    want = (await Deno.readTextFile(ca)).trim();
  } catch {
    return undefined;
  }
  try {
    return (await Deno.readTextFile(anchorFile(store))).trim() === want;
  } catch {
    return false;
  }
}

function isDirectory(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}
