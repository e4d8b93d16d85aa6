# Sourced by test.sh: makes a real RabbitMQ and a real Redis reachable for the integration tests
# and exports RABBITMQ_URL and REDIS_URL. In order of preference:
#   1. RABBITMQ_URL and REDIS_URL already set: use them;
#   2. servers already answering on loopback: use them;
#   3. Debian, as root: install rabbitmq-server and redis-server with apt-get, start them on loopback;
#   4. a Docker engine: the tests start them with Testcontainers (AGENTRY_TESTCONTAINERS=1).
# In CI (CI=true) a missing server is a failure, never a skip.

# shellcheck source=scripts/kustomize.sh
source "$(dirname "${BASH_SOURCE[0]}")/kustomize.sh"
# shellcheck source=scripts/sandbox.sh
source "$(dirname "${BASH_SOURCE[0]}")/sandbox.sh"
# shellcheck source=scripts/browser.sh
source "$(dirname "${BASH_SOURCE[0]}")/browser.sh"

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

start_redis() {
  port_open 127.0.0.1 6379 && return 0
  redis-server --bind 127.0.0.1 --port 6379 --daemonize yes --save '' --appendonly no >/dev/null
  for _ in $(seq 1 50); do port_open 127.0.0.1 6379 && return 0; sleep 0.2; done
  echo "test.sh: redis-server did not start on 127.0.0.1:6379" >&2; return 1
}

start_rabbitmq() {
  port_open 127.0.0.1 5672 && return 0
  RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 rabbitmq-server -detached >/dev/null 2>&1
  # -detached returns before the node exists, and await_startup fails on a node not yet there.
  for _ in $(seq 1 240); do
    port_open 127.0.0.1 5672 && timeout 60 rabbitmqctl await_startup >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  echo "test.sh: rabbitmq-server did not start within 2 minutes; its log is in /var/log/rabbitmq/" >&2; return 1
}

ensure_test_servers() {
  ensure_kustomize
  ensure_sandbox_tools
  ensure_browser
  if [ -n "${RABBITMQ_URL:-}" ] && [ -n "${REDIS_URL:-}" ]; then
    echo "test.sh: servers: RabbitMQ at ${RABBITMQ_URL%%@*}@... and Redis at $REDIS_URL, as given"
    return 0
  fi
  export RABBITMQ_URL="amqp://guest:guest@127.0.0.1:5672/" REDIS_URL="127.0.0.1:6379"
  if port_open 127.0.0.1 5672 && port_open 127.0.0.1 6379; then
    echo "test.sh: servers: RabbitMQ and Redis already running on loopback"
    return 0
  fi
  if [ -f /etc/debian_version ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    if ! command -v rabbitmq-server >/dev/null || ! command -v redis-server >/dev/null; then
      echo "test.sh: servers: installing rabbitmq-server and redis-server with apt-get"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends rabbitmq-server redis-server >/dev/null \
        || { echo "test.sh: apt-get could not install rabbitmq-server and redis-server" >&2; return 1; }
    fi
    start_redis && start_rabbitmq || return 1
    echo "test.sh: servers: RabbitMQ and Redis from Debian packages, started on loopback"
    return 0
  fi
  if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
    unset RABBITMQ_URL REDIS_URL
    export AGENTRY_TESTCONTAINERS=1
    echo "test.sh: servers: a Docker engine is available; the tests start RabbitMQ and Redis with Testcontainers"
    return 0
  fi
  if [ "${CI:-}" = "true" ]; then
    echo "test.sh: no RabbitMQ and Redis: set RABBITMQ_URL and REDIS_URL, run as root on Debian, or provide a Docker engine" >&2
    return 1
  fi
  echo "test.sh: WARNING: no RabbitMQ and Redis could be made available; the integration tests will report NOT RUN" >&2
}
