#!/usr/bin/env bash
# Installs every Debian 12 package that building, running and testing gregor needs.
# Idempotent; run as root (or with sudo available). Debian packages only.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config python3 git clang libfuzzer-14-dev ccache lld
  libclang-rt-14-dev
  # libraries
  libboost-dev libspdlog-dev libfmt-dev nlohmann-json3-dev libcli11-dev
  libzookeeper-st-dev zlib1g-dev libsnappy-dev liblz4-dev libzstd-dev librdkafka-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # 128-bit key digests of the log cleaner's offset map
  libxxhash-dev
  # the metrics registry and text format of /metrics
  prometheus-cpp-dev
  # Chart.js, compiled into the broker's dashboard (src/dashboard)
  libjs-chart.js
  # allocator of the release build (cmake/allocator.cmake)
  libjemalloc-dev
  # the cluster: ZooKeeper server (needs a JRE, pulled in by the package)
  zookeeper
  # real clients used by the integration tests
  kcat python3-kafka python3-confluent-kafka
  # a real Prometheus server scrapes a cluster in the metrics integration test
  prometheus
  # a real browser (headless) loads the dashboard in its integration test
  chromium
  # the codecs kafka-python needs to read lz4 and zstd batches
  python3-lz4 python3-zstandard
  # process tools used by the cluster scripts and tests (jq: bench/failover.sh reads pids)
  procps iproute2 netcat-openbsd jq
  # the fault suite (tests/faults): partitions and packet loss as nftables rules inside the
  # hosts' network namespaces; its checker reads ZooKeeper with kazoo
  nftables python3-kazoo
)

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  sudo_cmd=(sudo)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages already installed"
  exit 0
fi

echo "setup: installing ${missing[*]}"
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
  "${missing[@]}"
echo "setup: done"
