/** What each key of firestream.toml means, in one line: the comments `init` writes above each key. */
export const KEY_DOCS: Record<string, string> = {
  "project.name": "project name",
  "project.environment": "free text, e.g. development",
  "cluster.k3d.name":
    "cluster name: lowercase hostname, at most 32 characters; kube context k3d-<name>",
  "cluster.k3d.api_port": "Kubernetes API on 127.0.0.1:<port>",
  "cluster.k3d.http_port": "load balancer port 80 on 127.0.0.1:<port>",
  "cluster.k3d.https_port": "load balancer port 443 on 127.0.0.1:<port>",
  "cluster.k3d.servers":
    "server nodes (1-9); 3 or more run embedded etcd (HA); changing it replaces the cluster",
  "cluster.k3d.agents": "agent nodes (0-99), added or removed in place",
  "cluster.k3d.k3s_version": "node image rancher/k3s:<version>",
  "cluster.k3d.registry.enabled": "create (or reuse) a local registry",
  "cluster.k3d.registry.name":
    "registry host name: the container firestream makes is k3d-<name>; one k3d made with the cluster keeps <name>",
  "cluster.k3d.registry.port": "registry on 127.0.0.1:<port>",
  "cluster.k3d.tls.enabled": "a local CA, a certificate and its TLS secret in the cluster",
  "cluster.k3d.tls.secret_name": "kubernetes.io/tls secret name",
  "cluster.k3d.tls.namespaces": "namespaces that get the secret (plus kube-system for Traefik)",
  "cluster.k3d.tls.certs_dir": "where the CA and certificates live",
  "cluster.k3d.tls.certificate.country": "subject C (two letters)",
  "cluster.k3d.tls.certificate.state": "subject ST",
  "cluster.k3d.tls.certificate.locality": "subject L",
  "cluster.k3d.tls.certificate.organization": "subject O",
  "cluster.k3d.tls.certificate.organizational_unit": "subject OU",
  "cluster.k3d.tls.certificate.common_name":
    "subject CN and first name; a wildcard covers one level",
  "cluster.k3d.tls.certificate.email": "subject emailAddress",
  "cluster.k3d.network.configure_routes": "routes to the pod and service networks (Linux; sudo)",
  "cluster.k3d.network.configure_dns": "cluster DNS names resolve on this host (sudo)",
  "cluster.k3d.network.patch_etc_hosts": "a marked block in /etc/hosts (sudo)",
  "cluster.k3d.network.pod_cidr": "pod network (k3s --cluster-cidr), a private range",
  "cluster.k3d.network.service_cidr": "service network (k3s --service-cidr, kube-dns at .10)",
  "cluster.k3d.network.hosts": "extra names for the hosts block and the certificate",
  "cluster.k3d.ingress.wildcard_dns":
    "every name of the ingress domain (ingress.domain, else the wildcard CN's parent) answers with Traefik",
  "cluster.k3d.dev_mode.port_forward_all": "forward every service to 127.0.0.1 after create",
  "cluster.k3d.dev_mode.port_offset": "local port = service port + offset (8080 -> 18080)",
  "cluster.k3d.dev_mode.namespaces":
    "namespaces to forward (empty: all but kube-system, kube-public, kube-node-lease)",
};

/** What the top-level keys that are not config tables mean. */
export const FILE_KEY_DOCS: Record<string, string> = {
  extends: "a firestream.toml merged first, relative to this file; this file's keys win",
  profiles:
    "[profiles.NAME] tables overlay any keys above when selected (--profile NAME or FIRESTREAM_PROFILE)",
};
