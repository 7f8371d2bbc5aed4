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

/** What one look at the cluster found. */
export interface Discovery {
  /** ports of services that may be forwarded (ready or waiting) */
  ports: ServicePort[];
  /** "namespace/service" of services with at least one ready endpoint */
  ready: Set<string>;
  ignored: Ignored[];
}

/** The services (`ns/name`) that an EndpointSlice names with a ready endpoint. */
export function readyServices(objects: KubeObject[]): Set<string> {
  const ready = new Set<string>();
  for (const o of objects) {
    if (o.kind !== "EndpointSlice") continue;
    const service = o.metadata?.labels?.["kubernetes.io/service-name"];
    if (!service) continue;
    // discovery/v1: a missing `ready` condition means ready
    if ((o.endpoints ?? []).some((e: KubeObject) => e.conditions?.ready !== false)) {
      ready.add(`${o.metadata.namespace}/${service}`);
    }
  }
  return ready;
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
  return { ports, ready: readyServices(objects), ignored };
}

/** One call for the whole cluster: its services and their EndpointSlices. */
export async function discover(context: string, options: DiscoverOptions): Promise<Discovery> {
  const list = await getJson(context, [
    "services,endpointslices.discovery.k8s.io",
    "--all-namespaces",
  ]);
  return selectPorts(list.items, options);
}
