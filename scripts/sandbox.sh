# Sourced by scripts/test-servers.sh: makes the code sandbox's tools available for the sandbox
# tests (tests/Agentry.Tests/Tools/Sandbox): bubblewrap (bwrap) and Debian's own python3 in
# /usr/bin, which is what runs inside the sandbox (a pyenv or venv python under /root or /home is
# not mounted there). Never fatal here: without them the sandbox tests fail and say what is missing.

sandbox_tools_usable() {
  command -v bwrap >/dev/null 2>&1 && [ -x /usr/bin/python3 ]
}

ensure_sandbox_tools() {
  if sandbox_tools_usable; then
    echo "test.sh: sandbox: bubblewrap and /usr/bin/python3 available"
    return 0
  fi
  if [ -f /etc/debian_version ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "test.sh: sandbox: installing bubblewrap and python3 with apt-get"
    { timeout 120 apt-get update -qq && DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -qq --no-install-recommends bubblewrap python3; } >/dev/null 2>&1 || true
  fi
  if sandbox_tools_usable; then
    echo "test.sh: sandbox: installed bubblewrap and python3"
    return 0
  fi
  echo "test.sh: WARNING: no bubblewrap (bwrap) or /usr/bin/python3: the sandbox tests will fail and say so" >&2
  return 0
}
