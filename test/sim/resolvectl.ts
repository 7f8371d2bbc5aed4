/** Simulated systemd-resolved's resolvectl: status, dns, domain, revert. */
import { SimExit } from "./core.ts";
import type { World } from "./world.ts";

/**
 * resolvectl without systemd-resolved: over D-Bus up to systemd 259 (resolvectl.c status_global), over
 * varlink from 260 for status, dns and domain (resolvectl.c varlink_dump_dns_configuration, `%m` of
 * ENOENT: the socket is not there). fixtures/resolvectl/resolved-absent-260.json.
 */
function notRunning(world: World, verb: string): string {
  return world.systemdVersion >= 260 && ["status", "dns", "domain"].includes(verb)
    ? "Failed to connect to service /run/systemd/resolve/io.systemd.Resolve: No such file or directory\n"
    : "Failed to get global data: Unit dbus-org.freedesktop.resolve1.service not found.\n";
}

function linkIndex(world: World, iface: string): number {
  const names = ["lo", "eth0", ...Object.values(world.networks).map((n) => n.bridge)];
  return names.indexOf(iface) + 1;
}

function knownLink(world: World, iface: string): void {
  if (linkIndex(world, iface) <= 0) {
    throw new SimExit(1, `Failed to resolve interface "${iface}": No such device\n`);
  }
}

/** Is this resolvectl call a change? */
export function resolvectlMutating(argv: string[]): boolean {
  const words = argv.filter((a) => !a.startsWith("-"));
  return [
    "dns",
    "domain",
    "revert",
    "default-route",
    "llmnr",
    "mdns",
    "dnssec",
    "dnsovertls",
    "flush-caches",
  ]
    .includes(words[0] ?? "") &&
    (words.length > 2 || words[0] === "revert" || words[0] === "flush-caches");
}

/** Runs `resolvectl …`. */
export function resolvectl(world: World, argv: string[], privileged: boolean): string {
  const [verb = "status", iface, ...values] = argv;
  if (!world.resolved) throw new SimExit(1, notRunning(world, verb));
  const linkName = (i: string) => `Link ${linkIndex(world, i)} (${i})`;
  switch (verb) {
    case "status": {
      const links = iface ? [iface] : Object.keys(world.links);
      if (iface) knownLink(world, iface);
      const out = iface ? [] : [
        "Global",
        "         Protocols: -LLMNR -mDNS -DNSOverTLS DNSSEC=no/unsupported",
        "  resolv.conf mode: stub",
        "",
      ];
      for (const l of links) {
        const link = world.links[l] ?? { dns: [], domains: [] };
        out.push(linkName(l), "    Current Scopes: " + (link.dns.length ? "DNS" : "none"));
        if (link.dns.length) {
          out.push(
            `Current DNS Server: ${link.dns[0]}`,
            `       DNS Servers: ${link.dns.join(" ")}`,
          );
        }
        if (link.domains.length) out.push(`        DNS Domain: ${link.domains.join(" ")}`);
        out.push("");
      }
      // DNS delegates (systemd 258) come after the links, in the whole status only
      // (resolvectl.c status_full; fixtures/resolvectl/status-260.json)
      for (const [name, d] of Object.entries(iface ? {} : world.delegates ?? {})) {
        if (world.systemdVersion < 258) break;
        out.push(`Delegate ${name}`);
        if (d.dns.length) out.push(`       DNS Servers: ${d.dns.join(" ")}`);
        if (d.domains.length) out.push(`        DNS Domain: ${d.domains.join(" ")}`);
        out.push("     Default Route: no", "");
      }
      return out.join("\n");
    }
    case "dns":
    case "domain": {
      if (!iface) {
        return Object.entries(world.links).map(([l, v]) =>
          `${linkName(l)}: ${(verb === "dns" ? v.dns : v.domains).join(" ")}`
        ).join("\n") + "\n";
      }
      knownLink(world, iface);
      const link = world.links[iface] ??= { dns: [], domains: [] };
      if (values.length === 0) {
        return `${linkName(iface)}: ${(verb === "dns" ? link.dns : link.domains).join(" ")}\n`;
      }
      if (!privileged) throw new SimExit(1, "Failed to set DNS configuration: Access denied\n");
      if (verb === "dns") {
        for (const v of values) {
          if (!/^[\d.]+$/.test(v)) {
            throw new SimExit(1, `Failed to parse DNS server address: ${v}\n`);
          }
        }
        link.dns = values;
      } else link.domains = values;
      return "";
    }
    case "revert":
      if (!iface) throw new SimExit(1, "resolvectl revert: interface argument required\n");
      knownLink(world, iface);
      if (!privileged) {
        throw new SimExit(1, "Failed to revert interface configuration: Access denied\n");
      }
      delete world.links[iface];
      return "";
    default:
      throw new SimExit(98, `sim: resolvectl ${verb} is not simulated\n`);
  }
}
