/** Cluster DNS on the host: split DNS with systemd-resolved, a resolv.conf block, or /etc/resolver on macOS. */
import { exec } from "../tools/exec.ts";

/** How this host takes DNS settings. */
export type DnsMode = "resolved" | "resolv.conf" | "macos-resolver";

/** The cluster's DNS domain. */
export const CLUSTER_DOMAIN = "cluster.local";

/** Search domains the seed describes. */
export const SEARCH_DOMAINS = ["default.svc.cluster.local", "svc.cluster.local", "cluster.local"];

/** The file macOS reads for the cluster domain. */
export function macResolverPath(): string {
  return Deno.env.get("FIRESTREAM_MACOS_RESOLVER") ?? `/etc/resolver/${CLUSTER_DOMAIN}`;
}

/** systemd-resolved when `resolvectl status` answers; /etc/resolver on macOS; else resolv.conf. */
export async function detectDnsMode(): Promise<DnsMode> {
  if (Deno.build.os === "darwin") return "macos-resolver";
  const r = await exec(["resolvectl", "status"], { check: false });
  return r.code === 0 ? "resolved" : "resolv.conf";
}

/** Lines of the resolv.conf block: kube-dns first, the seed's search domains (then the file's own), short timeouts. */
export function resolvConfLines(server: string, original: string): string[] {
  const existing = original.split(/\r?\n/).map((l) => l.trim()).filter((l) =>
    /^(search|domain)\s/.test(l)
  )
    .flatMap((l) => l.split(/\s+/).slice(1));
  const search = [...new Set([...SEARCH_DOMAINS, ...existing])];
  return [`nameserver ${server}`, `search ${search.join(" ")}`, "options timeout:1 attempts:1"];
}

/** The content of /etc/resolver/cluster.local on macOS. */
export function macResolverText(server: string): string {
  return `# written by firestream\nnameserver ${server}\ntimeout 1\n`;
}

/** Split-DNS settings of a link, as resolvectl reports them. */
export async function linkDns(iface: string): Promise<{ dns: string[]; domains: string[] }> {
  const parse = (out: string) =>
    out.slice(out.indexOf(":") + 1).trim().split(/\s+/).filter(Boolean);
  const dns = await exec(["resolvectl", "dns", iface]);
  const domains = await exec(["resolvectl", "domain", iface]);
  return { dns: parse(dns.stdout), domains: parse(domains.stdout) };
}

/** Points the bridge's DNS at kube-dns for ~cluster.local only. */
export async function setLinkDns(iface: string, server: string): Promise<void> {
  await exec(["resolvectl", "dns", iface, server], { sudo: true });
  await exec(["resolvectl", "domain", iface, `~${CLUSTER_DOMAIN}`], { sudo: true });
}

/** Drops the link's DNS settings. */
export async function revertLinkDns(iface: string): Promise<void> {
  await exec(["resolvectl", "revert", iface], { sudo: true });
}

/** Where the DNS test sends its query: FIRESTREAM_DNS_PROBE=off|HOST:PORT, else kube-dns on port 53. */
export function probeTarget(server: string): { ipAddr: string; port: number } | "off" {
  const setting = Deno.env.get("FIRESTREAM_DNS_PROBE");
  if (setting === "off") return "off";
  if (setting) {
    const at = setting.lastIndexOf(":");
    return {
      ipAddr: setting.slice(0, at).replace(/^\[|\]$/g, ""),
      port: Number(setting.slice(at + 1)),
    };
  }
  return { ipAddr: server, port: 53 };
}

/** Asks kube-dns for `kubernetes.default.svc.cluster.local`; the answer, or why it failed. */
export async function probeDns(
  target: { ipAddr: string; port: number },
  timeoutMs = 2000,
): Promise<{ ok: true; addresses: string[] } | { ok: false; error: string }> {
  try {
    const addresses = await Deno.resolveDns(`kubernetes.default.svc.${CLUSTER_DOMAIN}`, "A", {
      nameServer: target,
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { ok: true, addresses };
  } catch (err) {
    return { ok: false, error: plainDnsError((err as Error).message) };
  }
}

/** The resolver's failure in words, without its library's debug text (`Query { name: … }`). */
export function plainDnsError(message: string): string {
  if (/no records found|NXDomain|NoRecordsFound/i.test(message)) return "no records found";
  if (/timed? ?out|timeout|aborted/i.test(message)) return "no answer in time";
  if (/refused/i.test(message)) return "connection refused";
  const plain = message
    .replace(/^proto error:\s*/i, "")
    .replace(/\s*(for\s+)?[A-Z]\w*\s*[{(][\s\S]*$/, "")
    .replace(/\s*\(os error \d+\)/, "")
    .trim();
  return plain || "the lookup failed";
}
