/**
 * Every name under the ingress domain answers with Traefik's Service: a CoreDNS server block in one
 * key of k3s's `coredns-custom` ConfigMap, the Ingress hosts a host without a route to it needs in
 * its hosts block, and the lookup `cluster info` and `doctor` make.
 *
 * k3s's CoreDNS (k3s-io/k3s manifests/coredns.yaml, since v1.21) mounts the optional ConfigMap
 * `coredns-custom` of kube-system at /etc/coredns/custom; its Corefile ends with
 * `import /etc/coredns/custom/*.server` (each such key is a server block of its own) and has
 * `import /etc/coredns/custom/*.override` inside the main `.:53` block, whose `reload` plugin
 * loads a changed file within about a minute (kubelet's ConfigMap sync, then reload's 30 s check).
 */
import { FirestreamError } from "../errors.ts";
import { exec, firstLine } from "../tools/exec.ts";
import { getOptional, kubectl, type KubeObject } from "../tools/kubectl.ts";
import { macResolverPath, probeTarget } from "./dns.ts";

/** The ConfigMap k3s's CoreDNS imports, where it lives. */
export const COREDNS_CUSTOM = { name: "coredns-custom", namespace: "kube-system" };

/** The one key of {@link COREDNS_CUSTOM} Firestream writes (a `*.server` key: a server block). */
export const INGRESS_DNS_KEY = "firestream.server";

/** Traefik's Service as k3s installs it (its `traefik` HelmChart in kube-system). */
export const TRAEFIK_SERVICE = { name: "traefik", namespace: "kube-system" };

/** How long an answer may be cached: short, so a changed Traefik address is seen soon. */
export const ANSWER_TTL = 30;

/** Traefik's addresses, by family. */
export interface IngressAddresses {
  v4: string[];
  v6: string[];
}

/** The addresses of Traefik's Service (its cluster IPs, both families where the cluster has them). */
export function traefikAddresses(services: KubeObject[]): IngressAddresses | undefined {
  const svc = services.find((s) =>
    s.metadata?.name === TRAEFIK_SERVICE.name && s.metadata?.namespace === TRAEFIK_SERVICE.namespace
  );
  if (!svc) return undefined;
  const ips: string[] = svc.spec?.clusterIPs ?? (svc.spec?.clusterIP ? [svc.spec.clusterIP] : []);
  const usable = ips.filter((ip) => ip && ip !== "None");
  const v4 = usable.filter((ip) => !ip.includes(":"));
  const v6 = usable.filter((ip) => ip.includes(":"));
  return v4.length || v6.length ? { v4, v6 } : undefined;
}

/** All of Traefik's addresses, IPv4 first. */
export function addressList(a: IngressAddresses): string[] {
  return [...a.v4, ...a.v6];
}

/**
 * The server block for `domain`. Each directive is a CoreDNS plugin:
 * - `errors` (coredns/coredns plugin/errors/README.md): errors met while answering are logged.
 * - `template CLASS TYPE ZONE { answer RR }` (plugin/template/README.md): with no `match`, the
 *   default regex `.*` matches every name of ZONE, the zone itself included; `{{ .Name }}` is the
 *   name asked. One `answer` per address; the first template whose class and type fit answers.
 * - `template ANY ANY ZONE { rcode NOERROR }`: every other type (AAAA on an IPv4 cluster, MX, TXT)
 *   gets an empty answer (NODATA) at once, so a resolver asking AAAA beside A never waits, and no
 *   name under the domain is ever NXDOMAIN.
 * The header `ZONE:53 { … }` is a server block (coredns.io/manual/configuration: a zone and port,
 * then the plugins it runs); `#` starts a comment (corefile(5)).
 */
export function corednsServerBlock(
  cluster: string,
  domain: string,
  addresses: IngressAddresses,
): string {
  const template = (type: "A" | "AAAA", ips: string[]) => [
    `    template IN ${type} ${domain} {`,
    ...ips.map((ip) => `        answer "{{ .Name }} ${ANSWER_TTL} IN ${type} ${ip}"`),
    "    }",
  ];
  return [
    `# written by firestream for cluster ${cluster}: every name under ${domain} is Traefik's Service`,
    `${domain}:53 {`,
    "    errors",
    ...(addresses.v4.length ? template("A", addresses.v4) : []),
    ...(addresses.v6.length ? template("AAAA", addresses.v6) : []),
    `    template ANY ANY ${domain} {`,
    "        rcode NOERROR",
    "    }",
    "}",
    "",
  ].join("\n");
}

/** The server block of a recorded key (its domain and addresses). */
export function recordedServerBlock(
  cluster: string,
  rec: { domain: string; addresses: string[] },
): string {
  return corednsServerBlock(cluster, rec.domain, {
    v4: rec.addresses.filter((a) => !a.includes(":")),
    v6: rec.addresses.filter((a) => a.includes(":")),
  });
}

/** The domain and addresses a server block of {@link corednsServerBlock} names, or undefined. */
export function readServerBlock(
  text: string,
): { domain: string; addresses: string[] } | undefined {
  const header = /^([a-z0-9.-]+):53 \{$/m.exec(text);
  if (!header) return undefined;
  const addresses = [...text.matchAll(/answer "\{\{ \.Name \}\} \d+ IN A{1,4} ([0-9a-f.:]+)"/gi)]
    .map((m) => m[1]);
  return { domain: header[1], addresses };
}

/** A name under `domain` (or the domain itself). */
export function underDomain(name: string, domain: string): boolean {
  const n = name.toLowerCase().replace(/\.$/, "");
  return n === domain || n.endsWith(`.${domain}`);
}

/** The hosts of every Ingress (rules and TLS) under `domain`, sorted; wildcards left out. */
export function ingressHosts(ingresses: KubeObject[], domain: string): string[] {
  const hosts = new Set<string>();
  for (const ing of ingresses) {
    const names: string[] = [
      ...(ing.spec?.rules ?? []).map((r: KubeObject) => r.host),
      ...(ing.spec?.tls ?? []).flatMap((t: KubeObject) => t.hosts ?? []),
    ];
    for (const n of names) {
      if (typeof n === "string" && !n.startsWith("*") && underDomain(n, domain)) {
        hosts.add(n.toLowerCase());
      }
    }
  }
  return [...hosts].sort();
}

/** The `coredns-custom` ConfigMap, or undefined when the cluster has none. */
export function corednsCustomOf(configmaps: KubeObject[]): KubeObject | undefined {
  return configmaps.find((c) =>
    c.metadata?.name === COREDNS_CUSTOM.name && c.metadata?.namespace === COREDNS_CUSTOM.namespace
  );
}

/** Reads the `coredns-custom` ConfigMap now. */
export function getCorednsCustom(context: string): Promise<KubeObject | undefined> {
  return getOptional(context, ["configmap", COREDNS_CUSTOM.name, "-n", COREDNS_CUSTOM.namespace]);
}

/**
 * Sets (or, with null, removes) Firestream's key with a JSON merge patch (RFC 7386: a key set to
 * null is removed, keys not named stay as they are): the other keys are never sent, so they stay
 * byte for byte, whoever wrote them.
 */
export async function patchIngressKey(context: string, text: string | null): Promise<void> {
  await kubectl(context, [
    "patch",
    "configmap",
    COREDNS_CUSTOM.name,
    "-n",
    COREDNS_CUSTOM.namespace,
    "--type",
    "merge",
    "-p",
    JSON.stringify({ data: { [INGRESS_DNS_KEY]: text } }),
  ]);
}

/** Creates the ConfigMap holding only Firestream's key, labelled as Firestream's. */
export async function createCorednsCustom(
  context: string,
  text: string,
  labels: Record<string, string>,
): Promise<void> {
  const manifest = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: COREDNS_CUSTOM.name, namespace: COREDNS_CUSTOM.namespace, labels },
    data: { [INGRESS_DNS_KEY]: text },
  };
  await kubectl(context, ["create", "-f", "-"], { stdin: JSON.stringify(manifest) });
}

/** Deletes the ConfigMap (only ever one Firestream created and holding nothing else). */
export async function deleteCorednsCustom(context: string): Promise<void> {
  await kubectl(context, [
    "delete",
    "configmap",
    COREDNS_CUSTOM.name,
    "-n",
    COREDNS_CUSTOM.namespace,
    "--ignore-not-found",
  ]);
}

/**
 * Takes Firestream's key out: the whole ConfigMap goes when Firestream created it and nothing else
 * was added since; otherwise only the key.
 */
export async function removeIngressKey(context: string, created: boolean): Promise<void> {
  const cm = await getCorednsCustom(context);
  if (!cm || !(INGRESS_DNS_KEY in (cm.data ?? {}))) return;
  const others = Object.keys(cm.data ?? {}).filter((k) => k !== INGRESS_DNS_KEY);
  if (created && !others.length && !Object.keys(cm.binaryData ?? {}).length) {
    return await deleteCorednsCustom(context);
  }
  await patchIngressKey(context, null);
}

/**
 * macOS: the resolver file of the ingress domain, beside the cluster domain's (resolver(5): a file
 * in /etc/resolver named after a domain sends that domain's names to its `nameserver` lines).
 */
export function ingressResolverPath(domain: string): string {
  const clusterFile = macResolverPath();
  return `${clusterFile.slice(0, clusterFile.lastIndexOf("/"))}/${domain}`;
}

/** The name `cluster info` and `doctor` look up: one no Ingress is likely to have. */
export function probeName(domain: string): string {
  return `firestream-probe.${domain}`;
}

/**
 * What the host's resolver answers for `name` right now: `getent hosts` on Linux (the resolver
 * every program uses: nsswitch, the hosts file, systemd-resolved or resolv.conf),
 * `dscacheutil -q host` on macOS. An empty list: the name does not resolve.
 */
export async function hostLookup(name: string): Promise<string[]> {
  if (Deno.build.os === "darwin") {
    const r = await exec(["dscacheutil", "-q", "host", "-a", "name", name], { check: false });
    return [...r.stdout.matchAll(/^ipv6?_address: (\S+)$/gm)].map((m) => m[1]);
  }
  const r = await exec(["getent", "hosts", name], { check: false });
  // getent(1): exit 2 when the key is not found; 0 with "ADDRESS NAME…" lines
  if (r.code === 2) return [];
  if (r.code !== 0) {
    throw new FirestreamError(`getent hosts ${name} failed: ${firstLine(r.stderr) || r.code}`);
  }
  return r.stdout.split("\n").map((l) => l.split(/\s+/)[0]).filter(Boolean);
}

/** Whether a name under the ingress domain resolves on the host right now, and to what. */
export interface IngressStanding {
  domain: string;
  /** what the names answer with: Traefik's addresses (in the cluster), or 127.0.0.1 (hosts block) */
  answer: string[];
  /** the name looked up, and what the host's resolver gave ([]: nothing) */
  lookup?: { name: string; addresses: string[] };
  status: "pass" | "warn";
  detail: string;
  fix?: string;
}

/**
 * Looks a name of the ingress domain up the way programs on this host do. With
 * `FIRESTREAM_DNS_PROBE=HOST:PORT` that server is asked instead (a stand-in kube-dns), and `off`
 * skips the lookup.
 */
export async function lookUpOnHost(name: string): Promise<string[] | "skipped"> {
  const setting = Deno.env.get("FIRESTREAM_DNS_PROBE");
  const target = probeTarget("");
  if (target === "off") return "skipped";
  if (setting) {
    return await Deno.resolveDns(name, "A", {
      nameServer: target,
      signal: AbortSignal.timeout(2000),
    }).catch(() => []);
  }
  return await hostLookup(name);
}

/**
 * The ingress domain as `cluster info` and `doctor` show it: the domain, the answer address, and
 * whether a name under it resolves on the host now (an Ingress host of the hosts block where the
 * address is out of the host's reach, else a name no one wrote anywhere).
 */
export async function ingressStanding(
  rec: { domain: string; addresses: string[] },
  options: { running: boolean; fallbackHosts?: string[] },
): Promise<IngressStanding> {
  const fallback = options.fallbackHosts;
  const answer = fallback ? ["127.0.0.1"] : rec.addresses;
  const base = { domain: rec.domain, answer };
  if (!options.running) {
    return {
      ...base,
      status: "warn",
      detail: "the cluster is not running: its names do not answer",
    };
  }
  const name = fallback ? fallback[0] : probeName(rec.domain);
  if (!name) {
    return {
      ...base,
      status: "pass",
      detail:
        `no Ingress under ${rec.domain} yet; each one's hosts go into the hosts block at 127.0.0.1 (\`firestream apply\`)`,
    };
  }
  const found = await lookUpOnHost(name).catch(() => [] as string[]);
  if (found === "skipped") {
    return {
      ...base,
      status: "pass",
      detail: `lookup of ${name} skipped (FIRESTREAM_DNS_PROBE=off)`,
    };
  }
  const lookup = { name, addresses: found };
  if (found.some((a) => answer.includes(a))) {
    return { ...base, lookup, status: "pass", detail: `${name} resolves to ${found.join(", ")}` };
  }
  return {
    ...base,
    lookup,
    status: "warn",
    detail: found.length
      ? `${name} resolves to ${found.join(", ")}, not ${answer.join(", ")}`
      : `${name} does not resolve on this host`,
    fix: "run `firestream apply` (CoreDNS loads a changed key within about a minute)",
  };
}
