# Sourced by the single-broker bench scripts: a free port, and a standalone ZooKeeper in
# $1/zk (started in the background; its pid is appended to the caller's `pids` array, and
# `zk_port` is set). Waits until it answers ruok (20 s at most).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start_zookeeper() {
  local work=$1
  zk_port=$(free_port)
  mkdir -p "$work/zk"
  printf 'tickTime=2000\ndataDir=%s/zk\nclientPort=%s\nadmin.enableServer=false\n4lw.commands.whitelist=*\n' \
    "$work" "$zk_port" > "$work/zoo.cfg"
  java -Xmx256m -cp "/usr/share/java/*:/etc/zookeeper/conf" \
    org.apache.zookeeper.server.quorum.QuorumPeerMain "$work/zoo.cfg" > "$work/zk.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do
    [[ $(echo ruok | nc -q1 127.0.0.1 "$zk_port" 2>/dev/null) == imok ]] && return 0
    sleep 0.2
  done
  echo "ZooKeeper did not start (log: $work/zk.log)" >&2
  return 1
}
