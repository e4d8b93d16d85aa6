# Sourced by scripts/test-servers.sh: makes Debian's chromium available for the browser tests (the
# eval report's screenshots, the web console). Playwright drives it with ExecutablePath: its own
# browser download cannot be fetched here. Never fatal here: without it the browser tests fail and
# say what is missing.

ensure_browser() {
  if [ -n "${AGENTRY_CHROMIUM:-}" ] || command -v chromium >/dev/null 2>&1; then
    echo "test.sh: browser: $(command -v chromium || echo "$AGENTRY_CHROMIUM") for the browser tests"
    return 0
  fi
  if [ -f /etc/debian_version ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "test.sh: browser: installing chromium with apt-get"
    { timeout 120 apt-get update -qq && DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq --no-install-recommends chromium fonts-liberation; } >/dev/null 2>&1 || true
  fi
  if command -v chromium >/dev/null 2>&1; then
    echo "test.sh: browser: installed chromium"
    return 0
  fi
  echo "test.sh: WARNING: no chromium (set AGENTRY_CHROMIUM to a Chromium or Chrome executable): the browser tests will fail and say so" >&2
  return 0
}
