/** `firestream cluster trust [--uninstall]`: the local CA into (or out of) the OS trust store, each command printed first. */
import { FirestreamError } from "../errors.ts";
import { certPaths } from "../tls/certs.ts";
import { exec, which } from "../tools/exec.ts";
import { type GlobalFlags, openSession } from "./session.ts";

const NAME = "firestream-local-ca.crt";

/** The commands that install or remove the CA on this system. */
export async function trustCommands(ca: string, uninstall: boolean): Promise<string[][]> {
  if (Deno.build.os === "darwin") {
    return uninstall ? [["security", "remove-trusted-cert", "-d", ca]] : [[
      "security",
      "add-trusted-cert",
      "-d",
      "-r",
      "trustRoot",
      "-k",
      "/Library/Keychains/System.keychain",
      ca,
    ]];
  }
  if (await which("update-ca-certificates")) {
    const dest = `/usr/local/share/ca-certificates/${NAME}`;
    return uninstall
      ? [["rm", "-f", dest], ["update-ca-certificates", "--fresh"]]
      : [["install", "-m", "0644", ca, dest], ["update-ca-certificates"]];
  }
  if (await which("update-ca-trust")) {
    const dest = `/etc/pki/ca-trust/source/anchors/${NAME}`;
    return uninstall
      ? [["rm", "-f", dest], ["update-ca-trust", "extract"]]
      : [["install", "-m", "0644", ca, dest], ["update-ca-trust", "extract"]];
  }
  throw new FirestreamError(
    "no known trust store tool here (update-ca-certificates, update-ca-trust or macOS security)",
    {
      hint: `add ${ca} to your system's trust store by hand`,
    },
  );
}

/** The command. */
export async function trust(
  flags: GlobalFlags,
  opts: { uninstall?: boolean; dryRun?: boolean },
): Promise<void> {
  const session = await openSession(flags);
  const k = session.loaded.config.cluster.k3d;
  const ca = certPaths(k.tls.certs_dir, k.name).caCert;
  if (!(await Deno.stat(ca).then(() => true, () => false))) {
    throw new FirestreamError(`there is no local CA yet at ${ca}`, {
      hint: "create the cluster with TLS enabled first (`firestream cluster create`)",
    });
  }
  const commands = await trustCommands(ca, opts.uninstall ?? false);
  const ran: string[] = [];
  for (const argv of commands) {
    const shown = `${Deno.uid?.() === 0 ? "" : "sudo "}${argv.join(" ")}`;
    session.out.progress(`$ ${shown}`);
    if (!opts.dryRun) await exec(argv, { sudo: true });
    ran.push(shown);
  }
  if (session.out.json) {
    return session.out.data({
      ca,
      uninstall: opts.uninstall ?? false,
      dry_run: opts.dryRun ?? false,
      commands: ran,
    });
  }
  session.out.line(
    opts.dryRun
      ? "(dry run: nothing was changed)"
      : opts.uninstall
      ? `Removed the firestream CA from the system trust store.`
      : `The firestream CA is trusted now; browsers with their own store (Firefox) need it imported there too: ${ca}`,
  );
}
