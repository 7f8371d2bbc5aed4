/** `firestream cluster trust [--uninstall]`: the local CA into (or out of) the OS trust store, each command printed first. */
import { FirestreamError } from "../errors.ts";
import { certPaths } from "../tls/certs.ts";
import {
  anchorFile,
  SYSTEM_STORES,
  type SystemStore,
  systemStore,
  trustRoot,
} from "../tls/trust_store.ts";
import { exec, firstLine, which } from "../tools/exec.ts";
import { existsSync } from "../state/fs.ts";
import { type GlobalFlags, openSession } from "./session.ts";

export { SYSTEM_STORES, systemStore, trustRoot };

/** The chosen system store with the CA's path in it, or undefined on macOS. */
export interface SystemTrust {
  store?: SystemStore;
  /** where the CA goes */
  file?: string;
  commands: string[][];
}

/** The commands that install or remove the CA on this system, and the store they use. */
export function trustCommands(ca: string, uninstall: boolean, root = trustRoot()): SystemTrust {
  if (Deno.build.os === "darwin") {
    return {
      commands: uninstall ? [["security", "remove-trusted-cert", "-d", ca]] : [[
        "security",
        "add-trusted-cert",
        "-d",
        "-r",
        "trustRoot",
        "-k",
        "/Library/Keychains/System.keychain",
        ca,
      ]],
    };
  }
  const store = systemStore(root);
  if (!store) {
    throw new FirestreamError(
      `no known trust store here: none of ${SYSTEM_STORES.map((s) => s.anchors).join(", ")} exists${
        root ? ` under ${root}` : ""
      }`,
      { hint: `add ${ca} to your system's trust store by hand` },
    );
  }
  const file = anchorFile(store, root);
  return {
    store,
    file,
    commands: uninstall
      ? [["rm", "-f", file], store.command]
      : [["install", "-m", "0644", ca, file], store.command],
  };
}

/** The nickname of the CA in NSS databases. */
export const NSS_NICKNAME = "firestream local CA";

/**
 * The NSS databases browsers read, as mkcert finds them (truststore_nss.go nssDBs, firefoxPaths):
 * Chrome/Chromium's `~/.pki/nssdb` (also the snap's), the system's `/etc/pki/nssdb` (RHEL/CentOS,
 * under the trust root) and every Firefox profile; `sql:` for cert9.db, `dbm:` for the old cert8.db.
 */
export function nssDatabases(home: string, root = trustRoot()): string[] {
  const dirs = [
    `${home}/.pki/nssdb`,
    `${home}/snap/chromium/current/.pki/nssdb`,
    `${root}/etc/pki/nssdb`,
  ];
  for (
    const base of [
      `${home}/.mozilla/firefox`,
      `${home}/snap/firefox/common/.mozilla/firefox`,
      `${home}/Library/Application Support/Firefox/Profiles`,
    ]
  ) {
    try {
      for (const e of Deno.readDirSync(base)) if (e.isDirectory) dirs.push(`${base}/${e.name}`);
    } catch { /* no such browser */ }
  }
  return dirs.sort().flatMap((d) =>
    existsSync(`${d}/cert9.db`) ? [`sql:${d}`] : existsSync(`${d}/cert8.db`) ? [`dbm:${d}`] : []
  );
}

/** certutil commands that add (or remove) the CA in each NSS database. */
export function nssCommands(ca: string, databases: string[], uninstall: boolean): string[][] {
  return databases.map((db) =>
    uninstall
      ? ["certutil", "-D", "-d", db, "-n", NSS_NICKNAME]
      : ["certutil", "-A", "-d", db, "-t", "C,,", "-n", NSS_NICKNAME, "-i", ca]
  );
}

/** A command to run, with or without sudo. */
interface Step {
  argv: string[];
  sudo: boolean;
}

/** The command. */
export async function trust(
  flags: GlobalFlags,
  opts: { uninstall?: boolean; dryRun?: boolean; store?: string[] },
): Promise<void> {
  const session = await openSession(flags);
  const k = session.loaded.config.cluster.k3d;
  const ca = certPaths(k.tls.certs_dir, k.name).caCert;
  if (!(await Deno.stat(ca).then(() => true, () => false))) {
    throw new FirestreamError(`there is no local CA yet at ${ca}`, {
      hint: "create the cluster with TLS enabled first (`firestream cluster create`)",
    });
  }
  const uninstall = opts.uninstall ?? false;
  const stores = new Set(opts.store ?? ["system", "nss"]);
  const steps: Step[] = [];
  const root = trustRoot();
  const system = stores.has("system") ? trustCommands(ca, uninstall, root) : undefined;
  for (const argv of system?.commands ?? []) steps.push({ argv, sudo: true });
  const databases = stores.has("nss") ? nssDatabases(Deno.env.get("HOME") ?? "", root) : [];
  const certutil = databases.length ? await which("certutil") : undefined;
  if (databases.length && !certutil) {
    session.out.warn(
      `browsers here keep their own certificate store (${databases.length} NSS database(s)), but certutil is not installed; install it (Debian/Ubuntu: libnss3-tools, Fedora: nss-tools, openSUSE: mozilla-nss-tools, Arch: nss, macOS: brew install nss) and run this again`,
    );
  } else {
    // the system's database belongs to root
    const systemDb = `sql:${root}/etc/pki/nssdb`;
    for (const argv of nssCommands(ca, databases, uninstall)) {
      steps.push({ argv, sudo: argv[3] === systemDb || argv[3] === `dbm:${root}/etc/pki/nssdb` });
    }
  }
  const ran: string[] = [];
  for (const step of steps) {
    const shown = `${step.sudo && Deno.uid?.() !== 0 ? "sudo " : ""}${
      step.argv.map(shellWord).join(" ")
    }`;
    session.out.progress(`$ ${shown}`);
    ran.push(shown);
    if (opts.dryRun) continue;
    // certutil may be asked to remove what a database does not hold: that one is checked below
    const lenient = uninstall && step.argv[0] === "certutil";
    const r = await exec(step.argv, { sudo: step.sudo, check: !lenient });
    // removing from a database that does not hold it is already done
    if (r.code !== 0 && !/could not find|not found/i.test(r.stderr)) {
      throw new FirestreamError(`\`${step.argv.join(" ")}\` failed: ${firstLine(r.stderr)}`);
    }
  }
  if (session.out.json) {
    return session.out.data({
      ca,
      uninstall,
      dry_run: opts.dryRun ?? false,
      system_store: system?.store
        ? {
          distribution: system.store.distribution,
          file: system.file,
          command: system.store.command,
        }
        : null,
      nss_databases: databases,
      commands: ran,
    });
  }
  const where = [
    ...(system?.store
      ? [
        `the ${system.store.distribution} trust store (${system.file}, \`${
          system.store.command.join(" ")
        }\`)`,
      ]
      : system
      ? ["the macOS System keychain"]
      : []),
    ...(certutil && databases.length ? [`${databases.length} browser NSS database(s)`] : []),
  ].join(" and ") || "no store";
  session.out.line(
    opts.dryRun
      ? "(dry run: nothing was changed)"
      : uninstall
      ? `Removed the firestream CA from ${where}.`
      : `The firestream CA is trusted now in ${where}.`,
  );
}

function shellWord(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}
