# Sourced by the bench scripts that run one local cluster for the whole script: start_cluster
# <gregor> <work> [brokers] runs `gregor cluster up` (3 brokers unless told, ZooKeeper
# included) in <work>/cluster,
# waits for its bootstrap line (60 s at most) and sets `cluster`, `up` (its pid) and
# `bootstrap`; the cluster is stopped when the script exits.
start_cluster() {
  local gregor=$1 work=$2 brokers=${3:-3}
  cluster="$work/cluster"
  "$gregor" cluster up -n "$brokers" --dir "$cluster" --base-port 0 > "$work/cluster.out" 2>&1 &
  up=$!
  cluster_gregor=$gregor
  trap stop_cluster EXIT
  for _ in $(seq 300); do grep -q "bootstrap servers:" "$work/cluster.out" && break; sleep 0.2; done
  bootstrap=$(awk '/bootstrap servers:/ {print $3}' "$work/cluster.out")
  [[ -n $bootstrap ]] || { echo "the cluster did not start:" >&2; cat "$work/cluster.out" >&2; exit 1; }
}

stop_cluster() {
  "$cluster_gregor" cluster down --dir "$cluster" > /dev/null 2>&1 || kill "$up" 2>/dev/null || true
  wait 2>/dev/null || true
}
