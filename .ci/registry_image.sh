#!/usr/bin/env bash
# Builds a local `registry:2` image from Debian's docker-registry package (no Docker Hub needed).
set -euo pipefail
if docker image inspect registry:2 >/dev/null 2>&1; then
  echo "registry:2 image present"
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
# the package lists may be missing on a fresh machine
apt-get download docker-registry >/dev/null 2>&1 || { apt-get update -qq && apt-get download docker-registry >/dev/null; }
dpkg-deb -x docker-registry_*.deb pkg
root="$work/rootfs"
mkdir -p "$root/usr/bin" "$root/etc/docker/registry" "$root/var/lib/registry" "$root/tmp"
cp pkg/usr/bin/docker-registry "$root/usr/bin/registry"
# copy the dynamic loader and every library the binary links against
for lib in $(ldd pkg/usr/bin/docker-registry | grep -oE '/[^ ]+'); do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
cat >"$root/etc/docker/registry/config.yml" <<'YAML'
version: 0.1
log:
  fields:
    service: registry
storage:
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: /var/lib/registry
  delete:
    enabled: true
http:
  addr: :5000
  headers:
    X-Content-Type-Options: [nosniff]
YAML
tar -C "$root" -c . | docker import \
  --change 'ENTRYPOINT ["/usr/bin/registry"]' \
  --change 'CMD ["serve", "/etc/docker/registry/config.yml"]' \
  --change 'EXPOSE 5000' \
  --change 'VOLUME ["/var/lib/registry"]' \
  - registry:2 >/dev/null
echo "built registry:2 from Debian docker-registry"
