/** Which service ports dev mode forwards: every TCP port of every service with a selector, outside system namespaces. */
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

/** Sorts services into forwardable ports and ignored ones (with reasons). Pure. */
export function selectPorts(
  services: KubeObject[],
  options: DiscoverOptions,
): { ports: ServicePort[]; ignored: Ignored[] } {
  const ports: ServicePort[] = [];
  const ignored: Ignored[] = [];
  for (const svc of services) {
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
  return { ports, ignored };
}

/** Asks the cluster for its services (one call) and selects the ports to forward. */
export async function discover(context: string, options: DiscoverOptions) {
  const list = await getJson(context, ["services", "--all-namespaces"]);
  return selectPorts(list.items, options);
}
