/**
 * Which service ports dev mode forwards: every TCP port of every service with a selector, outside
 * system namespaces. A service is forwarded once a pod behind it is ready (`kubectl port-forward
 * svc/S` needs a running pod and ends when it goes); until then it is waiting.
 */
import { getJson, type KubeObject } from "../tools/kubectl.ts";
import type { ServicePort } from "./mapping.ts";

/** Namespaces left out unless `dev_mode.namespaces` names them. */
export const SYSTEM_NAMESPACES = ["kube-system", "kube-public", "kube-node-lease"];

/** A service (port) not forwarded, and why. */
export interface Ignored {
  namespace: string;
  service: string;
  reason: string;
}

/** Options for {@link discover}. */
export interface DiscoverOptions {
  /** only these namespaces (empty: all but the system ones) */
  namespaces: string[];
  /** only this service */
  only?: { namespace: string; service: string };
}

/** A ready pod behind a service, and the pod port each service port goes to. */
export interface PodTarget {
  pod: string;
  /** service port → pod port */
  targets: Map<number, number>;
}

/** What one look at the cluster found. */
export interface Discovery {
  /** ports of services that may be forwarded (ready or waiting) */
  ports: ServicePort[];
  /** "namespace/service" → its ready pods, in the order of its slices */
  pods: Map<string, PodTarget[]>;
  ignored: Ignored[];
}

/**
 * The ready pods behind each service (`ns/name`), from its EndpointSlices: endpoints that name a
 * pod and are not marked unready (discovery/v1: a missing `ready` condition means ready). A service
 * port goes to the slice port of the same name (its targetPort resolved), else to its own
 * targetPort when that is a number, else to its port.
 */
export function readyPods(objects: KubeObject[]): Map<string, PodTarget[]> {
  const services = new Map<string, KubeObject>();
  for (const o of objects) {
    if (o.kind === "Service") services.set(`${o.metadata.namespace}/${o.metadata.name}`, o);
  }
  const found = new Map<string, PodTarget[]>();
  for (const o of objects) {
    if (o.kind !== "EndpointSlice") continue;
    const name = o.metadata?.labels?.["kubernetes.io/service-name"];
    if (!name) continue;
    const key = `${o.metadata.namespace}/${name}`;
    const sliceTargets = new Map<string, number>(
      (o.ports ?? []).map((p: KubeObject) => [p.name ?? "", p.port]),
    );
    const ports: KubeObject[] = services.get(key)?.spec?.ports ?? [];
    const targets = new Map<number, number>();
    for (const p of ports) {
      // a name is the port's identity only when it is unique (the API server requires that)
      const unique = ports.filter((q) => (q.name ?? "") === (p.name ?? "")).length === 1;
      targets.set(
        p.port,
        (unique ? sliceTargets.get(p.name ?? "") : undefined) ??
          (typeof p.targetPort === "number" ? p.targetPort : p.port),
      );
    }
    for (const e of o.endpoints ?? []) {
      const pod = e.targetRef?.kind === "Pod" ? e.targetRef.name : undefined;
      if (e.conditions?.ready === false || !pod) continue;
      const list = found.get(key) ?? [];
      if (!list.some((t) => t.pod === pod)) list.push({ pod, targets });
      found.set(key, list);
    }
  }
  return found;
}

/** Sorts services into forwardable ports and ignored ones (with reasons). Pure. */
export function selectPorts(objects: KubeObject[], options: DiscoverOptions): Discovery {
  const ports: ServicePort[] = [];
  const ignored: Ignored[] = [];
  for (const svc of objects) {
    if (svc.kind !== undefined && svc.kind !== "Service") continue;
    const namespace: string = svc.metadata.namespace;
    const service: string = svc.metadata.name;
    if (
      options.only && (options.only.namespace !== namespace || options.only.service !== service)
    ) continue;
    if (!options.only) {
      const wanted = options.namespaces.length
        ? options.namespaces.includes(namespace)
        : !SYSTEM_NAMESPACES.includes(namespace);
      if (!wanted) continue;
    }
    if (namespace === "default" && service === "kubernetes") {
      ignored.push({ namespace, service, reason: "it is the API server itself" });
      continue;
    }
    if (!svc.spec?.selector || Object.keys(svc.spec.selector).length === 0) {
      ignored.push({
        namespace,
        service,
        reason: "it has no selector, so kubectl has no pod to forward to",
      });
      continue;
    }
    for (const p of svc.spec.ports ?? []) {
      if ((p.protocol ?? "TCP") !== "TCP") {
        ignored.push({
          namespace,
          service,
          reason: `port ${p.port}/${p.protocol}: kubectl port-forward carries TCP only`,
        });
        continue;
      }
      ports.push({ namespace, service, port: p.port });
    }
  }
  return { ports, pods: readyPods(objects), ignored };
}

/** One call for the whole cluster: its services and their EndpointSlices. */
export async function discover(context: string, options: DiscoverOptions): Promise<Discovery> {
  const list = await getJson(context, [
    "services,endpointslices.discovery.k8s.io",
    "--all-namespaces",
  ]);
  return selectPorts(list.items, options);
}
