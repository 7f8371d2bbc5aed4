/** The host's DNS settings for one cluster: put in place and taken back (split DNS, resolv.conf, macOS resolver). */
import { StepFailure } from "../errors.ts";
import type { ClusterResources } from "../state/document.ts";
import { exec } from "../tools/exec.ts";
import {
  CLUSTER_DOMAIN,
  linkDns,
  macResolverText,
  resolvConfWith,
  revertLinkDns,
  withoutResolvConfBlocks,
} from "./dns.ts";
import { readSystemFile, writeSystemFile } from "./system_file.ts";

type DnsRecord = NonNullable<ClusterResources["dns"]>;

/** The troubleshooting text the product description gives for a failed DNS test. */
export const DNS_TROUBLESHOOTING =
  "DNS resolution test failed: check network connectivity and verify firewall settings";

function backupPath(cluster: string, stateDir: string, what: string): string {
  return `${stateDir}/backups/${what}.${cluster}.bak`;
}

/**
 * Split DNS on the bridge takes two resolvectl calls (server, then the routing domains:
 * `~cluster.local`, and the ingress domain's); when the second
 * fails the link gets back the servers it had, so the step leaves nothing half-set.
 */
async function setResolvedLink(iface: string, server: string, domains: string[]): Promise<void> {
  const before = await linkDns(iface);
  await exec(["resolvectl", "dns", iface, server], { sudo: true });
  try {
    // routing domains (`~name`, resolvectl(1) "domain"): only names under them go to this link
    await exec(["resolvectl", "domain", iface, ...domains], { sudo: true });
  } catch (err) {
    try {
      if (before.dns.length) {
        await exec(["resolvectl", "dns", iface, ...before.dns], { sudo: true });
      } else await revertLinkDns(iface);
    } catch (undoErr) {
      throw new StepFailure(err, {
        left: `the DNS server of ${iface} stays ${server}, without its domain (${
          (undoErr as Error).message
        }); run \`firestream apply\` to finish`,
      });
    }
    throw err;
  }
}

/**
 * Puts the recorded DNS settings of cluster `cluster` in place (split DNS, resolv.conf block or
 * macOS resolver file); files changed are backed up under `stateDir`, notes go to `notice`.
 */
export async function setDns(
  cluster: string,
  stateDir: string,
  want: DnsRecord,
  notice: (message: string) => void,
): Promise<void> {
  if (want.mode === "resolved") {
    const domains = want.domains.length ? want.domains : [`~${CLUSTER_DOMAIN}`];
    return await setResolvedLink(want.interface!, want.server, domains);
  }
  if (want.mode === "macos-resolver") {
    await exec(["mkdir", "-p", want.file!.slice(0, want.file!.lastIndexOf("/"))], { sudo: true });
    await writeSystemFile(want.file!, macResolverText(want.server), {
      backup: backupPath(cluster, stateDir, "resolver"),
    });
    if (want.ingress_file) {
      await writeSystemFile(want.ingress_file, macResolverText(want.server), {
        backup: backupPath(cluster, stateDir, "resolver-ingress"),
      });
    }
    return;
  }
  const text = await readSystemFile(want.file!);
  const next = resolvConfWith(text, { cluster, server: want.server });
  if (next.text !== text) {
    await writeSystemFile(want.file!, next.text, {
      backup: backupPath(cluster, stateDir, "resolv.conf"),
    });
  }
  if (next.dropped.length) {
    notice(
      `note: ${want.file} search list left out ${
        next.dropped.join(", ")
      }: older glibc reads at most 6 domains in 256 characters, the cluster's first`,
    );
  }
  if (next.unused.length) {
    notice(
      `note: glibc asks at most 3 nameservers, the cluster's first: ${
        next.unused.join(", ")
      } in ${want.file} will not be asked`,
    );
  }
}

/** Undoes what {@link setDns} did, leaving everything else as it is. */
export async function removeDns(cluster: string, stateDir: string, rec: DnsRecord): Promise<void> {
  if (rec.mode === "resolved") {
    return await revertLinkDns(rec.interface!).catch((err) => {
      // the bridge went with its cluster: nothing left to revert
      if (!/No such device/.test((err as Error).message)) throw err;
    });
  }
  if (rec.mode === "macos-resolver") {
    const files = [rec.file!, ...(rec.ingress_file ? [rec.ingress_file] : [])];
    return await exec(["rm", "-f", ...files], { sudo: true }).then(() => {});
  }
  const text = await readSystemFile(rec.file!);
  const without = withoutResolvConfBlocks(text, cluster);
  if (without !== text) {
    await writeSystemFile(rec.file!, without, {
      backup: backupPath(cluster, stateDir, "resolv.conf"),
      link: rec.link,
    });
  }
}
