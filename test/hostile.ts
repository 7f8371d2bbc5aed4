/**
 * Hostile values for every config field that is written to a host file or passed to a tool:
 * whitespace, newlines, `#`, shell and TOML metacharacters, unicode look-alikes, wildcards, and
 * lists too long to be meant. Shared by the schema's property tests and the end-to-end refusals.
 */
import fc from "fast-check";

/** Characters no field that reaches a host file or a tool may contain. */
const POISON = [
  " ",
  "\t",
  "\n",
  "\r",
  "\u0000",
  "#",
  ";",
  "$(",
  "`",
  "'",
  '"',
  "\\",
  "/",
  "*",
  "?",
  "\u00e9",
  "\u0430", // Cyrillic a, looks like "a"
  "\u200b", // zero-width space
  "\u2028",
  "\ufeff",
  "\ud83d\ude80",
];

/** A valid value with one poison character put somewhere inside (or at either end). */
function poisoned(valid: string, poison: string[] = POISON): fc.Arbitrary<string> {
  return fc.tuple(fc.constantFrom(...poison), fc.nat({ max: valid.length }), fc.string())
    .map(([p, at, tail]) =>
      valid.slice(0, at) + p + (tail.length % 2 ? tail : "") + valid.slice(at)
    );
}

/** One field: its dotted key, a valid value, and values it must refuse. */
export interface HostileField {
  key: string;
  valid: unknown;
  hostile: fc.Arbitrary<unknown>;
}

const NAME_POISON = POISON.filter((p) => p !== "/");
const huge = <T>(item: fc.Arbitrary<T>) => fc.array(item, { minLength: 300, maxLength: 400 });

/** Every field that reaches a host file or a tool, with what it must refuse. */
export const HOSTILE_FIELDS: HostileField[] = [
  {
    key: "cluster.k3d.name",
    valid: "dev",
    hostile: fc.oneof(
      poisoned("dev", NAME_POISON),
      fc.constantFrom("Dev", "-dev", "dev-", "a".repeat(33), "dev.local", ""),
    ),
  },
  {
    key: "cluster.k3d.k3s_version",
    valid: "v1.31.2-k3s1",
    hostile: fc.oneof(poisoned("v1.31.2-k3s1", NAME_POISON), fc.constantFrom("latest", "--help")),
  },
  {
    key: "cluster.k3d.registry.name",
    valid: "registry.localhost",
    hostile: fc.oneof(
      poisoned("registry.localhost", NAME_POISON),
      fc.constantFrom("*.localhost", "-r.localhost", "a..b", ".r", "r."),
    ),
  },
  {
    key: "cluster.k3d.tls.secret_name",
    valid: "web-tls",
    hostile: fc.oneof(
      poisoned("web-tls", NAME_POISON),
      fc.constantFrom("Web-TLS", "web_tls", "-web", "web.", "a".repeat(254), ""),
    ),
  },
  {
    key: "cluster.k3d.tls.namespaces",
    valid: ["default", "apps"],
    hostile: fc.oneof(
      poisoned("apps", NAME_POISON).map((n) => ["default", n]),
      fc.constantFrom(["my.namespace"], ["Apps"], ["a".repeat(64)], [], ["apps", "apps"]),
      huge(fc.constant("x")).map((a) => a.map((x, i) => `${x}${i}`)),
    ),
  },
  {
    key: "cluster.k3d.dev_mode.namespaces",
    valid: ["apps"],
    hostile: fc.oneof(
      poisoned("apps", NAME_POISON).map((n) => [n]),
      fc.constantFrom(["my.namespace"], ["Apps"], [""], ["-a"]),
      huge(fc.constant("n")).map((a) => a.map((x, i) => `${x}${i}`)),
    ),
  },
  {
    key: "cluster.k3d.network.hosts",
    valid: ["app.firestream.local"],
    hostile: fc.oneof(
      poisoned("app.firestream.local", NAME_POISON).map((n) => [n]),
      fc.constantFrom(["*.example"], ["app..local"], ["-app.local"], [""], ["a".repeat(64)]),
      huge(fc.constant("h")).map((a) => a.map((x, i) => `${x}${i}.local`)),
    ),
  },
  {
    key: "cluster.k3d.ingress.domain",
    valid: "apps.example.test",
    hostile: fc.oneof(
      poisoned("firestream.local", NAME_POISON),
      fc.constantFrom(
        "local",
        "com",
        "cluster.local",
        "svc.cluster.local",
        "co.uk",
        "github.io",
        "nip.io",
        "app.localhost",
        "*.firestream.local",
        "a..b",
        "",
      ),
    ),
  },
  {
    key: "cluster.k3d.tls.certificate.common_name",
    valid: "*.firestream.local",
    hostile: fc.oneof(
      poisoned("firestream.local", NAME_POISON.filter((p) => p !== "*")),
      fc.constantFrom("*", "a.*.local", "**.local", "*.*.local"),
    ),
  },
  {
    key: "cluster.k3d.tls.certs_dir",
    valid: "~/certs",
    hostile: poisoned("~/certs", ["\n", "\r", "\u0000", "\t", "\u2028", "\u001b"]),
  },
  {
    key: "cluster.k3d.network.pod_cidr",
    valid: "10.42.0.0/16",
    hostile: fc.oneof(
      poisoned("10.42.0.0/16", NAME_POISON),
      fc.constantFrom(
        "128.0.0.0/1",
        "0.0.0.0/0",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "224.0.0.0/4",
        "8.8.8.0/24",
        "10.0.0.0/7",
        "10.42.0.0/29",
        "10.42.0.1/16",
      ),
    ),
  },
  {
    key: "cluster.k3d.network.service_cidr",
    valid: "10.43.0.0/16",
    hostile: fc.oneof(
      poisoned("10.43.0.0/16", NAME_POISON),
      fc.constantFrom("192.0.2.0/24", "100.128.0.0/16", "10.42.128.0/17", "172.32.0.0/16"),
    ),
  },
];

/** Sets a dotted key in a raw config object. */
export function rawWith(key: string, value: unknown): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  let node = raw;
  const parts = key.split(".");
  for (const part of parts.slice(0, -1)) node = (node[part] = {}) as Record<string, unknown>;
  node[parts.at(-1)!] = value;
  return raw;
}
