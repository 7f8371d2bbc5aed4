/**
 * Pods behind services: the EndpointSlices the endpointslice controller keeps for each Service with
 * a selector, derived from the pods of the simulated cluster on every read.
 *
 * Shapes: k8s.io/api discovery/v1/types.go (EndpointSlice: addressType, endpoints without
 * omitempty so an empty slice reads `null`, ports; Endpoint: addresses, conditions
 * ready/serving/terminating, nodeName, targetRef). Names and labels: pkg/controller/endpointslice
 * (reconciler.go: generateName "<service>-", label kubernetes.io/service-name, managed-by
 * endpointslice-controller.k8s.io). A Service without a selector gets no controller slice.
 */
import { hexId, type KubeObject, type SimCluster } from "./world.ts";

function matches(labels: Record<string, string> | undefined, selector: Record<string, string>) {
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

function podReady(pod: KubeObject): boolean {
  return pod.status?.phase === "Running" &&
    (pod.status?.conditions ?? []).some((c: KubeObject) =>
      c.type === "Ready" && c.status === "True"
    );
}

/** The pods a Service's selector picks, in name order (kubectl port-forward takes one of them). */
export function podsBehind(cluster: SimCluster, svc: KubeObject): KubeObject[] {
  const selector = svc.spec?.selector;
  if (!selector || Object.keys(selector).length === 0) return [];
  return Object.values(cluster.kube.objects.pods ?? {})
    .filter((p) =>
      p.metadata.namespace === svc.metadata.namespace && matches(p.metadata.labels, selector)
    )
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
}

/** One EndpointSlice per Service with a selector. */
export function endpointSlices(cluster: SimCluster): KubeObject[] {
  const out: KubeObject[] = [];
  for (const svc of Object.values(cluster.kube.objects.services ?? {})) {
    if (!svc.spec?.selector || Object.keys(svc.spec.selector).length === 0) continue;
    const ns = svc.metadata.namespace;
    const name = svc.metadata.name;
    const pods = podsBehind(cluster, svc);
    out.push({
      addressType: "IPv4",
      apiVersion: "discovery.k8s.io/v1",
      endpoints: pods.length
        ? pods.map((pod) => {
          // a pod being deleted is never a ready endpoint; it serves while its probe passes
          const serving = podReady(pod);
          const terminating = Boolean(pod.metadata.deletionTimestamp);
          return {
            addresses: [pod.status?.podIP ?? "10.42.0.2"],
            conditions: { ready: serving && !terminating, serving, terminating },
            ...(pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}),
            targetRef: {
              kind: "Pod",
              name: pod.metadata.name,
              namespace: ns,
              uid: pod.metadata.uid,
            },
          };
        })
        : null,
      kind: "EndpointSlice",
      metadata: {
        annotations: {},
        creationTimestamp: svc.metadata.creationTimestamp,
        generateName: `${name}-`,
        generation: 1,
        labels: {
          "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
          "kubernetes.io/service-name": name,
        },
        name: `${name}-${hexId(`${ns}/${name}`).slice(0, 5)}`,
        namespace: ns,
        ownerReferences: [{
          apiVersion: "v1",
          blockOwnerDeletion: true,
          controller: true,
          kind: "Service",
          name,
          uid: svc.metadata.uid,
        }],
        resourceVersion: svc.metadata.resourceVersion,
        uid: hexId(`slice/${ns}/${name}`).replace(
          /^(.{8})(.{4})(.{4})(.{4})(.{12}).*$/,
          "$1-$2-$3-$4-$5",
        ),
      },
      ports: (svc.spec.ports ?? []).map((p: KubeObject) => ({
        ...(p.name ? { name: p.name } : { name: "" }),
        port: typeof p.targetPort === "number" ? p.targetPort : p.port,
        protocol: p.protocol ?? "TCP",
      })),
    });
  }
  return out;
}
