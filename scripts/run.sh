#!/usr/bin/env bash
# Builds the release binary and runs a local cluster in the foreground: a ZooKeeper and
# three brokers in ./gregor-cluster (Ctrl-C stops them; running it again resumes them).
# Every argument goes to `gregor cluster up`, for example:
#   scripts/run.sh --brokers 5 --dir /tmp/demo --base-port 19092
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target gregor
exec build/release/gregor cluster up "$@"
