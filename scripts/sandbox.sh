# Sourced by scripts/test-servers.sh: makes the code sandbox's tools available for the sandbox
# tests (tests/Agentry.Tests/Tools/Sandbox): bubblewrap (bwrap) and Debian's own python3 in
# /usr/bin, which is what runs inside the sandbox (a pyenv or venv python under /root or /home is
# not mounted there); pyflakes3, the analyser the code-review case runs in the sandbox, and git for
# its forge. Never fatal here: without them the sandbox tests fail and say what is missing.

sandbox_tools_usable() {
  command -v bwrap >/dev/null 2>&1 && [ -x /usr/bin/python3 ] && command -v pyflakes3 >/dev/null 2>&1 && command -v git >/dev/null 2>&1
}

ensure_sandbox_tools() {
  if sandbox_tools_usable; then
    echo "test.sh: sandbox: bubblewrap, /usr/bin/python3, pyflakes3 and git available"
    return 0
  fi
  if [ -f /etc/debian_version ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "test.sh: sandbox: installing bubblewrap, python3, pyflakes3 and git with apt-get"
    { timeout 120 apt-get update -qq && DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -qq --no-install-recommends bubblewrap python3 pyflakes3 git; } >/dev/null 2>&1 || true
  fi
  if sandbox_tools_usable; then
    echo "test.sh: sandbox: installed bubblewrap, python3, pyflakes3 and git"
    return 0
  fi
  echo "test.sh: WARNING: no bubblewrap (bwrap), /usr/bin/python3, pyflakes3 or git: the sandbox and code-review tests will fail and say so" >&2
  return 0
}
