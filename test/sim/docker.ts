/** Simulated docker client: info, version, ps, inspect, network inspect, with Docker's messages. */
import { bool, flag, type Parsed, SimExit } from "./core.ts";
import { renderTemplate } from "./gotemplate.ts";
import { notSimulated } from "./modelled.ts";
import { restartRegistry, runRealDocker, stopRegistry } from "./registry.ts";
import { freeAddress, readdress, type SimContainer, type World } from "./world.ts";

/**
 * The client's words when no engine answers: ≤ 28 (captured, fixtures/docker/daemon-down.json;
 * docker/cli v28.5.2 vendor/github.com/docker/docker/client/errors.go:47), and 29 with its socket
 * gone (docker/cli v29.7.2 vendor/github.com/moby/moby/client/request.go:177, the dial error
 * unwrapped from the request error).
 */
export function daemonDownMessage(world: World): string {
  return clientMajor(world) >= 29
    ? "failed to connect to the docker API at unix:///var/run/docker.sock; check if the path is correct and if the daemon is running: dial unix /var/run/docker.sock: connect: no such file or directory\n"
    : "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n";
}

/** The major version of the simulated docker client. */
function clientMajor(world: World): number {
  return Number(world.docker.clientVersion.split(".")[0]);
}

/**
 * The API version the client asks for: 1.50 for 28.2 (captured), 1.52 for 29.0 (docker/cli v29.0.0
 * vendor/github.com/moby/moby/client/client.go:112 MaxAPIVersion).
 */
function apiVersion(world: World): string {
  return clientMajor(world) >= 29 ? "1.52" : "1.50";
}

/** The API path a docker call asks for first (for the permission-denied message). */
function apiPath(p: Parsed): string {
  if (p.path === "version") return "version";
  if (p.path === "info") return "info";
  if (/inspect$/.test(p.path) && p.path.startsWith("network")) return `networks/${p.args[0]}`;
  if (/inspect$/.test(p.path)) return `containers/${p.args[0]}/json`;
  if (p.path === "ps" || p.path === "container ls") {
    // the client asks for sizes when the format shows .Size ({{json .}} does)
    const format = flag(p, "format") ?? "";
    return /\{\{json \.\}\}|\.Size/.test(format) ? "containers/json?size=1" : "containers/json";
  }
  return `containers/${p.args[0] ?? ""}`;
}

/**
 * The client's words when the socket refuses this user (not in the `docker` group): ≤ 28 captured
 * from the real client (fixtures/docker/permission-denied.json); 29 drops the request from the
 * message (docker/cli v29.7.2 vendor/github.com/moby/moby/client/request.go:171).
 */
export function deniedMessage(world: World, p: Parsed): string {
  if (clientMajor(world) >= 29) {
    return "permission denied while trying to connect to the docker API at unix:///var/run/docker.sock\n";
  }
  return `permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock: Get "http://%2Fvar%2Frun%2Fdocker.sock/v${
    apiVersion(world)
  }/${apiPath(p)}": dial unix /var/run/docker.sock: connect: permission denied\n`;
}

function deniedStdout(p: Parsed): string {
  return /inspect$/.test(p.path) ? "[]\n" : p.path === "version" && flag(p, "format") ? "\n" : "";
}

/** Is this docker call a change? */
export function dockerMutating(p: Parsed): boolean {
  return /^(run|rm|stop|start|restart|push|pull|tag|exec|network (create|rm|connect|disconnect)|volume (create|rm)|container (rm|stop|start|restart))$/
    .test(p.path);
}

/** Runs a docker command. */
export async function docker(world: World, p: Parsed): Promise<string> {
  if (!p.path) {
    throw new SimExit(
      1,
      `docker: '${p.args[0] ?? ""}' is not a docker command.\nSee 'docker --help'\n`,
    );
  }
  if (world.dockerDenied) throw new SimExit(1, deniedMessage(world, p), deniedStdout(p));
  if (p.path !== "version" && !world.docker.running) {
    throw new SimExit(1, daemonDownMessage(world));
  }
  switch (p.path) {
    case "version": {
      const data = {
        Client: {
          Version: world.docker.clientVersion,
          ApiVersion: apiVersion(world),
          Os: "linux",
          Arch: "amd64",
        },
        Server: world.docker.running
          ? { Version: world.docker.serverVersion, ApiVersion: apiVersion(world) }
          : null,
      };
      if (!world.docker.running) throw new SimExit(1, daemonDownMessage(world));
      return templated(
        p,
        data,
        () =>
          `Client:\n Version: ${world.docker.clientVersion}\n\nServer:\n Version: ${world.docker.serverVersion}\n`,
      );
    }
    case "info": {
      const data = {
        ID: "SIMU:LATE:D000",
        Containers: Object.keys(world.containers).length,
        ContainersRunning: Object.values(world.containers).filter((c) => c.running).length,
        ServerVersion: world.docker.serverVersion,
        OperatingSystem: "Debian GNU/Linux 12 (bookworm)",
        OSType: "linux",
        Architecture: "x86_64",
        NCPU: 2,
        MemTotal: 25769803776,
        Name: Deno.hostname(),
        CgroupVersion: "2",
      };
      return templated(
        p,
        data,
        () => `Server:\n Containers: ${data.Containers}\n Server Version: ${data.ServerVersion}\n`,
      );
    }
    case "ps":
    case "container ls":
      return ps(world, p);
    case "container inspect":
    case "inspect":
      return await inspect(world, p);
    case "network inspect":
      return networkInspect(world, p);
    case "stop":
    case "container stop": {
      const out: string[] = [];
      for (const name of p.args) {
        const c = world.containers[name];
        if (!c) throw new SimExit(1, `Error response from daemon: No such container: ${name}\n`);
        // what answered for it goes away, and so does its published port
        if (c.real) await stopRegistry(c);
        c.running = false;
        out.push(name);
      }
      return out.join("\n") + "\n";
    }
    case "start":
    case "container start": {
      const out: string[] = [];
      for (const name of p.args) {
        const c = world.containers[name];
        if (!c) {
          throw new SimExit(
            1,
            `Error response from daemon: No such container: ${name}\nError: failed to start containers: ${name}\n`,
          );
        }
        if (c.real && !c.running) await restartRegistry(c);
        // Docker frees a stopped container's address; it gets the lowest free one again
        if (!c.running) readdress(world, c);
        out.push(name);
      }
      return out.join("\n") + "\n";
    }
    case "network connect": {
      const [netName, name] = p.args;
      const net = world.networks[netName];
      const c = world.containers[name];
      if (!net) throw new SimExit(1, `Error response from daemon: network ${netName} not found\n`);
      if (!c) throw new SimExit(1, `Error response from daemon: No such container: ${name}\n`);
      if (c.networks[netName]) {
        throw new SimExit(
          1,
          `Error response from daemon: endpoint with name ${name} already exists in network ${netName}\n`,
        );
      }
      c.networks[netName] = { ip: freeAddress(world, netName) };
      return "";
    }
    case "network ls": {
      const rows = Object.values(world.networks).map((n) => ({
        ID: n.id.slice(0, 12),
        Name: n.name,
        Driver: "bridge",
        Scope: "local",
        Labels: labelString(n.labels),
      }));
      return rows.map((r) => renderTemplate(flag(p, "format") ?? "{{json .}}", r) + "\n").join("");
    }
    default:
      throw new SimExit(98, `sim: docker ${p.path} is not simulated\n`);
  }
}

function templated(p: Parsed, data: unknown, plain: () => string): string {
  const format = flag(p, "format");
  if (!format) return plain();
  return renderTemplate(format, data) + "\n";
}

function labelString(labels: Record<string, string>): string {
  return Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(",");
}

/**
 * The filter keys the engine takes for `docker ps` (moby v29.7.2 daemon/list.go:26
 * acceptedPsFilterTags); the simulator models label, name, status and network.
 */
export const PS_FILTERS = {
  modelled: ["label", "name", "status", "network"],
  unmodelled: [
    "ancestor",
    "before",
    "exited",
    "id",
    "isolation",
    "health",
    "since",
    "volume",
    "is-task",
    "publish",
    "expose",
  ],
} as const;

/** The states the engine knows (moby v29.7.2 api/types/container/state.go:21 validStates). */
const CONTAINER_STATES = [
  "created",
  "running",
  "paused",
  "restarting",
  "removing",
  "exited",
  "dead",
];

/**
 * The `--filter` values of a ps call by key, as the client sends them (docker/cli v29.7.2
 * opts/opts.go:304 FilterOpt.Set: an empty value is dropped, one without `=` is refused, the key is
 * lower-cased and both sides trimmed), checked as the engine checks them (moby v29.7.2
 * daemon/list.go:107 Validate, :280 the status values).
 */
function psFilters(p: Parsed): Map<string, string[]> {
  const filters = new Map<string, string[]>();
  for (const f of p.flags["filter"] ?? []) {
    if (f === "") continue;
    if (!f.includes("=")) {
      // pflag's InvalidValueError, through docker/cli v29.7.2 cli/cobra.go:79 FlagErrorFunc
      throw new SimExit(
        125,
        `invalid argument "${f}" for "-f, --filter" flag: bad format of filter (expected name=value)\n\nUsage:  docker ${p.path} [OPTIONS]\n\nRun 'docker ${p.path} --help' for more information\n`,
      );
    }
    const key = f.slice(0, f.indexOf("=")).trim().toLowerCase();
    const value = f.slice(f.indexOf("=") + 1).trim();
    if (!filters.has(key)) filters.set(key, []);
    filters.get(key)!.push(value);
  }
  for (const key of filters.keys()) {
    if ((PS_FILTERS.unmodelled as readonly string[]).includes(key)) {
      throw notSimulated("docker", p.path, `--filter ${key}`);
    }
    if (!(PS_FILTERS.modelled as readonly string[]).includes(key)) {
      // moby v29.7.2 daemon/internal/filters/errors.go:11, through the client's "Error response
      // from daemon: " (vendor/github.com/moby/moby/client/request.go:306)
      throw new SimExit(1, `Error response from daemon: invalid filter '${key}'\n`);
    }
  }
  for (const value of filters.get("status") ?? []) {
    if (!CONTAINER_STATES.includes(value)) {
      throw new SimExit(
        1,
        `Error response from daemon: invalid filter 'status=${value}': invalid value for state (${value}): must be one of ${
          CONTAINER_STATES.join(", ")
        }\n`,
      );
    }
  }
  for (const value of filters.get("name") ?? []) goRegexp(p, value);
  return filters;
}

/**
 * A name filter as a regular expression (moby v29.7.2 daemon/internal/filters/parse.go:161 Match:
 * Go's regexp, unanchored; a pattern that does not compile matches nothing). Constructs whose meaning
 * differs between Go's RE2 and JavaScript are refused rather than guessed.
 */
function goRegexp(p: Parsed, pattern: string): RegExp | undefined {
  if (/\(\?|\\[AzQEpPC1-9]|\[\[:/.test(pattern)) {
    throw notSimulated("docker", p.path, `--filter name=${pattern} (a Go-only regexp construct)`);
  }
  try {
    return new RegExp(pattern);
  } catch {
    return undefined;
  }
}

/**
 * The engine's ps filters (moby v29.7.2 daemon/list.go:440-560): every key must match; within a key
 * one value is enough, except labels, which must all match (parse.go:133 MatchKVList). A name
 * matches with or without its leading slash; a network by name or by a prefix of its ID.
 */
function matchesFilters(
  world: World,
  c: SimContainer,
  filters: Map<string, string[]>,
  p: Parsed,
): boolean {
  const labels = filters.get("label");
  if (labels) {
    const ok = Object.keys(c.labels).length > 0 && labels.every((l) => {
      const [lk, lv] = l.includes("=")
        ? [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]
        : [l];
      return lk in c.labels && (lv === undefined || c.labels[lk] === lv);
    });
    if (!ok) return false;
  }
  const names = filters.get("name");
  if (
    names && !names.some((n) => {
      const re = goRegexp(p, n);
      return n === c.name || n === `/${c.name}` ||
        (re && (re.test(`/${c.name}`) || re.test(c.name)));
    })
  ) return false;
  const states = filters.get("status");
  if (states && !states.some((s) => (c.running ? "running" : "exited") === s)) return false;
  const networks = filters.get("network");
  if (
    networks &&
    !networks.some((n) =>
      n in c.networks ||
      Object.keys(c.networks).some((net) => world.networks[net]?.id.startsWith(n))
    )
  ) return false;
  return true;
}

function portString(c: SimContainer): string {
  return Object.entries(c.ports).flatMap(([port, bindings]) =>
    // the engine lists k3d's bare "6443" with its protocol, like every port
    bindings.map((b) => `${b.HostIp}:${b.HostPort}->${port.includes("/") ? port : `${port}/tcp`}`)
  ).join(", ");
}

function ps(world: World, p: Parsed): string {
  const format = flag(p, "format");
  if (!format) {
    throw new SimExit(98, "sim: docker ps table output is not simulated; use --format\n");
  }
  const filters = psFilters(p);
  // a status filter lists stopped containers too (moby v29.7.2 daemon/list.go:284)
  const all = bool(p, "all") || filters.has("status");
  const rows = Object.values(world.containers)
    .filter((c) => (all || c.running) && matchesFilters(world, c, filters, p))
    .sort((a, b) => b.created.localeCompare(a.created))
    .map((c) => ({
      Command: `"${(c.cmd ?? []).join(" ").slice(0, 20)}…"`,
      CreatedAt: c.created.replace("T", " ").replace(/\.\d+Z$/, " +0000 UTC"),
      ID: c.id.slice(0, 12),
      Image: c.image,
      Labels: labelString(c.labels),
      LocalVolumes: "0",
      Mounts: "",
      Names: c.name,
      Networks: Object.keys(c.networks).join(","),
      Ports: portString(c),
      RunningFor: "About a minute ago",
      Size: "0B",
      State: c.running ? "running" : "exited",
      Status: c.running ? "Up About a minute" : "Exited (0) About a minute ago",
    }));
  if (bool(p, "quiet")) return rows.map((r) => r.ID + "\n").join("");
  return rows.map((r) => renderTemplate(format, r) + "\n").join("");
}

/** Docker's inspect document for a simulated container. */
export function inspectDoc(world: World, c: SimContainer) {
  return {
    Id: c.id,
    Created: c.created,
    Path: "/bin/k3d-entrypoint.sh",
    Args: c.cmd ?? [],
    State: {
      Status: c.running ? "running" : "exited",
      Running: c.running,
      Paused: false,
      Restarting: false,
      OOMKilled: false,
      Dead: false,
      Pid: c.running ? 4242 : 0,
      ExitCode: 0,
      Error: "",
      StartedAt: c.started,
      FinishedAt: "0001-01-01T00:00:00Z",
    },
    Image: c.imageId,
    Name: `/${c.name}`,
    RestartCount: 0,
    HostConfig: {
      Binds: c.binds?.length ? c.binds : null,
      PortBindings: c.ports,
      // every simulated container is a node k3d made "unless-stopped" (pkg/runtimes/docker/translate.go:95-99)
      RestartPolicy: { Name: "unless-stopped", MaximumRetryCount: 0 },
      Memory: 0,
    },
    Config: { Hostname: c.name, Image: c.image, Labels: c.labels, Env: c.env, Cmd: c.cmd },
    NetworkSettings: {
      Ports: c.running ? c.ports : {},
      Networks: Object.fromEntries(
        Object.entries(c.networks).map(([name, n]) => {
          const net = world.networks[name];
          return [name, {
            IPAMConfig: null,
            Links: null,
            Aliases: [c.name],
            NetworkID: net?.id ?? "",
            Gateway: net?.gateway ?? "",
            IPAddress: c.running ? n.ip : "",
            IPPrefixLen: 16,
            MacAddress: "02:42:ac:12:00:02",
          }];
        }),
      ),
    },
  };
}

async function inspect(world: World, p: Parsed): Promise<string> {
  if (p.args.length === 0) {
    throw new SimExit(1, `"docker ${p.path}" requires at least 1 argument.\n`);
  }
  const docs: unknown[] = [];
  const missing: string[] = [];
  for (const name of p.args) {
    const c = world.containers[name] ??
      Object.values(world.containers).find((x) => x.id.startsWith(name));
    // `docker inspect` (no type) also finds networks: fixtures/docker/inspect-mixed.json
    const net = !c && p.path === "inspect" ? findNetwork(world, name) : undefined;
    if (net) {
      docs.push(networkDoc(world, net));
      continue;
    }
    if (!c) {
      missing.push(name);
      continue;
    }
    if (c.real?.kind === "docker") {
      const r = await runRealDocker(["container", "inspect", c.name]);
      if (r.code !== 0) {
        missing.push(name);
        continue;
      }
      const real = JSON.parse(r.stdout)[0];
      // the container's k3d networks are simulated; graft them on
      for (const [net, n] of Object.entries(c.networks)) {
        if (net !== "bridge") {
          real.NetworkSettings.Networks[net] = inspectDoc(world, c).NetworkSettings.Networks[net] ??
            { IPAddress: n.ip };
        }
      }
      docs.push(real);
      continue;
    }
    docs.push(inspectDoc(world, c));
  }
  const format = flag(p, "format");
  let out = format
    ? docs.map((d) => renderTemplate(format, d) + "\n").join("")
    : JSON.stringify(docs, null, 4) + "\n";
  if (!format && docs.length === 0) out = "[]\n";
  if (missing.length) {
    const msg = p.path === "inspect"
      ? missing.map((m) => `Error: No such object: ${m}`).join("\n")
      : missing.map((m) => `Error response from daemon: No such container: ${m}`).join("\n");
    throw new SimExit(1, msg + "\n", out);
  }
  return out;
}

/** A simulated network by name or id prefix. */
function findNetwork(world: World, name: string) {
  return world.networks[name] ?? Object.values(world.networks).find((n) => n.id.startsWith(name));
}

/** Docker's inspect document for a simulated network. */
function networkDoc(world: World, net: World["networks"][string]) {
  const containers = Object.fromEntries(
    Object.values(world.containers).filter((c) => net.name in c.networks).map((c) => [c.id, {
      Name: c.name,
      EndpointID: c.id.slice(0, 64),
      MacAddress: "02:42:ac:12:00:02",
      IPv4Address: `${c.networks[net.name].ip}/16`,
      IPv6Address: "",
    }]),
  );
  return {
    Name: net.name,
    Id: net.id,
    Created: "2026-01-01T00:00:00Z",
    Scope: "local",
    Driver: "bridge",
    EnableIPv6: false,
    IPAM: {
      Driver: "default",
      Options: null,
      Config: [{ Subnet: net.subnet, Gateway: net.gateway }],
    },
    Internal: false,
    Attachable: false,
    Containers: containers,
    // only the default network names its bridge; user networks use br-<first 12 of the id>
    Options: net.name === "bridge"
      ? {
        "com.docker.network.bridge.name": net.bridge,
        "com.docker.network.bridge.default_bridge": "true",
      }
      : {},
    Labels: net.labels,
  };
}

function networkInspect(world: World, p: Parsed): string {
  const docs = [];
  for (const name of p.args) {
    const net = findNetwork(world, name);
    if (!net) {
      throw new SimExit(1, `Error response from daemon: network ${name} not found\n`, "[]\n");
    }
    docs.push(networkDoc(world, net));
  }
  const format = flag(p, "format");
  return format
    ? docs.map((d) => renderTemplate(format, d) + "\n").join("")
    : JSON.stringify(docs, null, 4) + "\n";
}
