# Sourced by scripts/test-servers.sh: makes kustomize available for the tests that build the
# Kubernetes overlays (tests/Agentry.Tests/Deploy/When_the_overlays_are_built.cs). Quick and never
# fatal: without a usable kustomize those tests report NOT RUN, loudly.

# kustomize v4 or later, standalone or bundled in kubectl (1.21+); older ones cannot read deploy/k8s.
# grep without -q reads all its input, so pipefail never sees the writer killed by SIGPIPE.
kustomize_usable() {
  { command -v kustomize >/dev/null 2>&1 && kustomize version 2>/dev/null | grep -E '(^|[^0-9])v?([4-9]|[1-9][0-9])\.' >/dev/null; } \
    || { command -v kubectl >/dev/null 2>&1 && kubectl version --client 2>/dev/null | grep -E 'Kustomize Version: v([4-9]|[1-9][0-9])\.' >/dev/null; }
}

ensure_kustomize() {
  if kustomize_usable; then
    echo "test.sh: kustomize: available; the Kubernetes overlays are built by the tests"
    return 0
  fi
  if [ -f /etc/debian_version ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "test.sh: kustomize: trying apt-get install kubectl (it bundles kustomize)"
    # Debian's own kubernetes-client (1.20) bundles a kustomize too old for these files: not tried.
    { timeout 60 apt-get update -qq && DEBIAN_FRONTEND=noninteractive timeout 120 apt-get install -y -qq --no-install-recommends kubectl; } >/dev/null 2>&1 || true
  fi
  if kustomize_usable; then
    echo "test.sh: kustomize: installed kubectl; the Kubernetes overlays are built by the tests"
    return 0
  fi
  echo "test.sh: WARNING: no kustomize (v4+) nor kubectl 1.21+: the Kubernetes overlay builds will report NOT RUN" >&2
  return 0
}
