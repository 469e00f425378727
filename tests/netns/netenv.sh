# netenv: several hosts on one machine, as Linux network namespaces, for tests that need real
# addresses, packet loss, partitions and slow links. A bash library:
#
#   source "$(dirname "$0")/netenv.sh"
#   netenv_require            # exit 77 (a ctest skip) unless root with ip netns and nft
#   netenv_up 3               # hosts h0 h1 h2, addresses 10.X.0.1 .. 10.X.0.3 (X per run)
#   netenv_exec h1 curl ...   # a command in h1's namespace
#   netenv_spawn h1 LOG cmd...  # the same in the background; the pid is NETENV_PID, tracked
#   netenv_loss 20            # 20 % of the packets every host receives are dropped
#   netenv_partition "h1" "h2"  # h1 and h2 cannot reach each other, both ways
#   netenv_heal               # partitions removed (loss stays; netenv_loss 0 removes it)
#   netenv_cap h1 2mbit       # h1 sends at most 2 Mbit/s (tbf on its egress); "off" removes it
#   netenv_down               # every process in the namespaces killed, namespaces deleted
#
# Layout: a hub namespace PREFIX-hub holds a bridge "br0"; each host PREFIX-hI has one
# interface "eth0", a veth pair whose other end ("vI") is a port of the bridge. Nothing is
# created in the root namespace, and no route, address or rule of the machine changes. PREFIX is
# "rfg<pid>x<random>", unique per run; /run/refuge-netenv/PREFIX records the owner's pid and
# start time, so that netenv_cleanup_stale (run by netenv_up) removes what runs killed with
# SIGKILL (a ctest timeout) left behind, and never what a live run owns.
#
# netenv_up installs traps: netenv_down runs on exit (success, failure, set -e, SIGINT,
# SIGTERM) before any EXIT trap already installed (tests/integration/lib.sh's), which still runs
# after it with the same exit status. NETENV_ON_FAIL, if set, names a function that is called
# before the teardown when the exit status is not 0 (to print the state of every node).
#
# Loss and partitions are nftables rules on each host's input hook (the kernel here has no
# netem): "numgen random mod 100 < P drop" and "ip saddr {...} drop". Loopback traffic in a
# host is never dropped.

NETENV_STATE_DIR=/run/refuge-netenv
NETENV_PREFIX=
NETENV_HOSTS=()
NETENV_NET=
declare -a _NETENV_PIDS=()
declare -A _NETENV_LOSS=()
_NETENV_DOWN_DONE=0

_netenv_say() { echo "netenv: $*" >&2; }

# _netenv_run CMD...: runs CMD; on failure says which command failed and how, returns 1.
_netenv_run() {
  local out
  if ! out=$("$@" 2>&1); then
    _netenv_say "failed: $* ($out)"
    return 1
  fi
}

# netenv_require: exits 77 (ctest's skip code in these tests) with a reason unless this
# process can make network namespaces and nftables rules.
netenv_require() {
  local name=${TEST_NAME:-$(basename "$0" .sh)}
  if [[ $EUID -ne 0 ]]; then
    echo "SKIP [$name]: network namespaces need root (run the netns tests as root)" >&2
    exit 77
  fi
  local tool
  for tool in ip nft tc; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      echo "SKIP [$name]: needs '$tool' (apt-get install -y iproute2 nftables)" >&2
      exit 77
    fi
  done
  if ! ip netns list >/dev/null 2>&1; then
    echo "SKIP [$name]: 'ip netns' is not available: $(ip netns list 2>&1 | head -1)" >&2
    exit 77
  fi
}

# Start time (clock ticks since boot) of a process, empty if it does not exist.
_netenv_starttime() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
  # Field 22; the command name (field 2) may contain spaces, so cut after its ")".
  stat=${stat##*) }
  awk '{print $20}' <<<"$stat"
}

_netenv_ns() {
  local host=$1
  [[ -n $NETENV_PREFIX ]] || { _netenv_say "no environment is up"; return 1; }
  local h
  for h in "${NETENV_HOSTS[@]}"; do
    if [[ $h == "$host" ]]; then
      echo "$NETENV_PREFIX-$host"
      return 0
    fi
  done
  _netenv_say "unknown host '$host' (hosts: ${NETENV_HOSTS[*]})"
  return 1
}

# Kills every process in namespace NS (SIGKILL, repeated until none is left, at most ~5 s).
_netenv_kill_ns() {
  local ns=$1 i pids
  for ((i = 0; i < 50; i++)); do
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    [[ -n $pids ]] || return 0
    # shellcheck disable=SC2086
    kill -9 $pids 2>/dev/null || true
    sleep 0.1
  done
  _netenv_say "processes still in $ns after SIGKILL: $(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')"
  return 1
}

# Removes every namespace of the run PREFIX (processes first) and its state file.
_netenv_remove_prefix() {
  local prefix=$1 ns
  local -a all=()
  mapfile -t all < <(ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^${prefix}-" || true)
  for ns in "${all[@]}"; do
    _netenv_kill_ns "$ns" || true
  done
  # Host namespaces first (their veth ends go with them), then the hub (its bridge goes with it).
  for ns in "${all[@]}"; do
    [[ $ns == "$prefix-hub" ]] && continue
    ip netns delete "$ns" 2>/dev/null || _netenv_say "could not delete namespace $ns"
  done
  for ns in "${all[@]}"; do
    [[ $ns == "$prefix-hub" ]] || continue
    ip netns delete "$ns" 2>/dev/null || _netenv_say "could not delete namespace $ns"
  done
  rm -f "$NETENV_STATE_DIR/$prefix"
}

# netenv_cleanup_stale: removes the namespaces (and their processes) of earlier runs whose
# owner is no longer running. A run that is still alive is left alone.
netenv_cleanup_stale() {
  local prefix pid start recorded
  local -A seen=()
  while read -r prefix; do
    [[ -n $prefix && -z ${seen[$prefix]:-} ]] || continue
    seen[$prefix]=1
    [[ $prefix == "$NETENV_PREFIX" ]] && continue
    pid=${prefix#rfg}
    pid=${pid%%x*}
    start=$(_netenv_starttime "$pid")
    recorded=$(cat "$NETENV_STATE_DIR/$prefix" 2>/dev/null || true)
    if [[ -n $start && -n $recorded && $recorded == "$pid $start" ]]; then
      continue  # its owner is alive
    fi
    if [[ -n $start && -z $recorded ]]; then
      # No state file yet: an owner in the middle of netenv_up, or one whose state was lost.
      # Leave it unless the process is not a shell running a test.
      grep -qa bash "/proc/$pid/cmdline" 2>/dev/null && continue
    fi
    _netenv_say "removing the leftovers of an earlier run: $prefix"
    _netenv_remove_prefix "$prefix"
  done < <(ip netns list 2>/dev/null | awk '{print $1}' | sed -nE 's/^(rfg[0-9]+x[0-9a-f]+)-.*/\1/p')
  # State files without namespaces.
  local f
  for f in "$NETENV_STATE_DIR"/rfg*; do
    [[ -e $f ]] || continue
    prefix=${f##*/}
    pid=${prefix#rfg}
    pid=${pid%%x*}
    start=$(_netenv_starttime "$pid")
    [[ -n $start && $(cat "$f" 2>/dev/null) == "$pid $start" ]] || rm -f "$f"
  done
}

# netenv_up N: hosts h0..h(N-1) joined by a bridge. Sets NETENV_PREFIX, NETENV_HOSTS,
# NETENV_NET (the "10.X.0" of the addresses) and installs the teardown traps.
netenv_up() {
  local n=$1 i
  [[ -z $NETENV_PREFIX ]] || { _netenv_say "an environment is already up ($NETENV_PREFIX)"; return 1; }
  ((n >= 1 && n <= 200)) || { _netenv_say "netenv_up: 1 to 200 hosts, got '$n'"; return 1; }
  netenv_require
  netenv_cleanup_stale
  mkdir -p "$NETENV_STATE_DIR"
  NETENV_PREFIX=$(printf 'rfg%dx%04x' "$$" $((RANDOM)))
  NETENV_NET="10.$((RANDOM % 200 + 20)).0"
  echo "$$ $(_netenv_starttime $$)" >"$NETENV_STATE_DIR/$NETENV_PREFIX"
  _netenv_install_traps

  local hub=$NETENV_PREFIX-hub
  # Each step checked, so that a caller without `set -e` also gets a failure (and the trap
  # removes what was made).
  _netenv_run ip netns add "$hub" || return 1
  _netenv_run ip -n "$hub" link set lo up || return 1
  _netenv_run ip -n "$hub" link add br0 type bridge stp_state 0 forward_delay 0 || return 1
  _netenv_run ip -n "$hub" link set br0 up || return 1
  for ((i = 0; i < n; i++)); do
    local host=h$i ns=$NETENV_PREFIX-h$i
    _netenv_run ip netns add "$ns" || return 1
    # Both ends are made in the hub, then one moves: nothing ever appears in the root namespace.
    _netenv_run ip -n "$hub" link add "v$i" type veth peer name "eth0" || return 1
    _netenv_run ip -n "$hub" link set eth0 netns "$ns" || return 1
    _netenv_run ip -n "$hub" link set "v$i" master br0 up || return 1
    _netenv_run ip -n "$ns" link set lo up || return 1
    _netenv_run ip -n "$ns" addr add "$NETENV_NET.$((i + 1))/24" dev eth0 || return 1
    _netenv_run ip -n "$ns" link set eth0 up || return 1
    NETENV_HOSTS+=("$host")
  done
  # Wait until every port forwards (no STP, so at once) and h0 reaches the rest (with ping,
  # when iputils-ping is installed).
  local deadline=$((SECONDS + 10)) ok
  command -v ping >/dev/null 2>&1 || deadline=0
  while ((deadline)); do
    ok=1
    for ((i = 1; i < n; i++)); do
      ip netns exec "$NETENV_PREFIX-h0" ping -c1 -W1 "$NETENV_NET.$((i + 1))" >/dev/null 2>&1 || { ok=0; break; }
    done
    ((ok)) && break
    if ((SECONDS > deadline)); then
      _netenv_say "the hosts cannot reach each other 10 s after setup"
      return 1
    fi
    sleep 0.1
  done
  _netenv_say "up: $n hosts (${NETENV_HOSTS[*]}), namespaces $NETENV_PREFIX-*, addresses $NETENV_NET.1-$n"
}

_netenv_install_traps() {
  local old
  old=$(trap -p EXIT)
  [[ $old == *_netenv_exit_trap* ]] && return 0  # a second netenv_up in this shell
  # `trap -p` prints: trap -- 'CMD' EXIT. Keep CMD, run it after the teardown with the same $?.
  old=${old#"trap -- '"}
  old=${old%"' EXIT"}
  old=${old//"'\\''"/"'"}
  _NETENV_OLD_EXIT=$old
  trap '_netenv_exit_trap' EXIT
  # SIGINT/SIGTERM become an exit (running the EXIT trap); keep an existing handler.
  [[ -n $(trap -p INT) ]] || trap 'exit 130' INT
  [[ -n $(trap -p TERM) ]] || trap 'exit 143' TERM
  trap 'exit 129' HUP
}

_netenv_exit_trap() {
  local rc=$?
  trap - ERR 2>/dev/null
  set +e
  if [[ $rc -ne 0 && -n ${NETENV_ON_FAIL:-} && -n $NETENV_PREFIX ]]; then
    "$NETENV_ON_FAIL" >&2 2>&1
  fi
  netenv_down
  if [[ -n $_NETENV_OLD_EXIT ]]; then
    (exit "$rc")
    eval "$_NETENV_OLD_EXIT"
  fi
  exit "$rc"
}

# netenv_down: kills the tracked processes and every process in the namespaces, deletes
# the namespaces (with them the veths and the bridge). Idempotent.
netenv_down() {
  [[ -n $NETENV_PREFIX && $_NETENV_DOWN_DONE -eq 0 ]] || return 0
  _NETENV_DOWN_DONE=1
  local pid
  for pid in "${_NETENV_PIDS[@]}"; do
    kill -9 "$pid" 2>/dev/null || true
  done
  for pid in "${_NETENV_PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  _netenv_remove_prefix "$NETENV_PREFIX"
  _netenv_say "down: $NETENV_PREFIX removed"
  # Ready for another netenv_up in the same shell.
  NETENV_PREFIX=
  NETENV_HOSTS=()
  _NETENV_PIDS=()
  _NETENV_LOSS=()
  _NETENV_DOWN_DONE=0
}

# netenv_exec HOST CMD...: runs CMD in HOST's namespace.
netenv_exec() {
  local ns
  ns=$(_netenv_ns "$1") || return 2
  shift
  ip netns exec "$ns" "$@"
}

# netenv_spawn HOST LOG CMD...: runs CMD in HOST's namespace in the background, stdout and
# stderr to LOG, stdin from /dev/null; sets NETENV_PID and tracks it (killed by netenv_down).
netenv_spawn() {
  local ns
  ns=$(_netenv_ns "$1") || return 2
  local log=$2
  shift 2
  ip netns exec "$ns" "$@" </dev/null >"$log" 2>&1 &
  NETENV_PID=$!
  _NETENV_PIDS+=("$NETENV_PID")
}

# netenv_track PID: netenv_down kills PID too.
netenv_track() { _NETENV_PIDS+=("$1"); }

# netenv_addr HOST: the host's IPv4 address.
netenv_addr() {
  _netenv_ns "$1" >/dev/null || return 2
  echo "$NETENV_NET.$((${1#h} + 1))"
}

# netenv_alive PID: is the process running (a zombie, dead but not yet reaped, is not)?
netenv_alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat:0:1} != Z ]]
}

# netenv_hosts: every host name, one per line.
netenv_hosts() { printf '%s\n' "${NETENV_HOSTS[@]}"; }

# The nftables table of a host: chain "loss" and chain "partition" on the input hook.
_netenv_ensure_table() {
  local ns=$1
  ip netns exec "$ns" nft list table inet netenv >/dev/null 2>&1 && return 0
  ip netns exec "$ns" nft -f - <<'EOF'
table inet netenv {
  chain partition {
    type filter hook input priority -10; policy accept;
    iifname "lo" accept
  }
  chain loss {
    type filter hook input priority 0; policy accept;
    iifname "lo" accept
  }
}
EOF
}

# netenv_loss PERCENT [HOST...]: each listed host (default: all) drops PERCENT % of the packets
# it receives, at random; 0 removes the loss.
netenv_loss() {
  local p=$1
  shift
  if ! [[ $p =~ ^[0-9]+$ ]] || ((p > 100)); then
    _netenv_say "netenv_loss: a percentage 0-100, got '$p'"
    return 2
  fi
  local -a hosts=("$@")
  ((${#hosts[@]})) || hosts=("${NETENV_HOSTS[@]}")
  local host ns
  for host in "${hosts[@]}"; do
    ns=$(_netenv_ns "$host") || return 2
    _netenv_ensure_table "$ns"
    ip netns exec "$ns" nft flush chain inet netenv loss
    ip netns exec "$ns" nft add rule inet netenv loss iifname "lo" accept
    if ((p > 0)); then
      ip netns exec "$ns" nft add rule inet netenv loss numgen random mod 100 '<' "$p" drop
    fi
    _NETENV_LOSS[$host]=$p
  done
}

# netenv_partition "GROUP_A" "GROUP_B": no packet between a host of A and a host of B, either
# way (hosts separated by spaces). Adds to the partitions already in place.
netenv_partition() {
  local -a a b
  read -r -a a <<<"$1"
  read -r -a b <<<"$2"
  ((${#a[@]} && ${#b[@]})) || { _netenv_say "netenv_partition: two non-empty groups"; return 2; }
  _netenv_block_from "${a[*]}" "${b[*]}"
  _netenv_block_from "${b[*]}" "${a[*]}"
}

# Hosts of the first list drop what comes from the hosts of the second.
_netenv_block_from() {
  local -a dst src
  read -r -a dst <<<"$1"
  read -r -a src <<<"$2"
  local addrs="" h ns
  for h in "${src[@]}"; do
    addrs+="${addrs:+, }$(netenv_addr "$h")" || return 2
  done
  for h in "${dst[@]}"; do
    ns=$(_netenv_ns "$h") || return 2
    _netenv_ensure_table "$ns"
    ip netns exec "$ns" nft add rule inet netenv partition ip saddr "{ $addrs }" drop
  done
}

# netenv_heal: removes every partition (packet loss, if set, stays).
netenv_heal() {
  local h ns
  for h in "${NETENV_HOSTS[@]}"; do
    ns=$NETENV_PREFIX-$h
    ip netns exec "$ns" nft list table inet netenv >/dev/null 2>&1 || continue
    ip netns exec "$ns" nft flush chain inet netenv partition
    ip netns exec "$ns" nft add rule inet netenv partition iifname "lo" accept
  done
}

# Bytes per second of a tc rate such as 800kbit, 2mbit, 1gbit, 500kbps (tc units).
_netenv_rate_bytes() {
  local r=${1,,} num unit
  [[ $r =~ ^([0-9]+)([a-z]*)$ ]] || return 1
  num=${BASH_REMATCH[1]}
  unit=${BASH_REMATCH[2]}
  case $unit in
    bit | "") echo $((num / 8)) ;;
    kbit) echo $((num * 1000 / 8)) ;;
    mbit) echo $((num * 1000000 / 8)) ;;
    gbit) echo $((num * 1000000000 / 8)) ;;
    bps) echo "$num" ;;
    kbps) echo $((num * 1000)) ;;
    mbps) echo $((num * 1000000)) ;;
    *) return 1 ;;
  esac
}

# netenv_cap HOST RATE: HOST sends at most RATE (tc units: 800kbit, 2mbit, ...) through a tbf
# on its interface; "off" removes the cap. Only what HOST sends is limited.
netenv_cap() {
  local ns
  ns=$(_netenv_ns "$1") || return 2
  local rate=$2
  if [[ $rate == off ]]; then
    ip netns exec "$ns" tc qdisc del dev eth0 root 2>/dev/null || true
    return 0
  fi
  local bps
  bps=$(_netenv_rate_bytes "$rate") || { _netenv_say "netenv_cap: a rate like 2mbit, got '$rate'"; return 2; }
  # The bucket holds 10 ms of traffic, at least two full-size packets (and TSO segments are
  # split by tbf). 100 ms of queue before a drop.
  local burst=$((bps / 100))
  ((burst >= 3028)) || burst=3028
  ip netns exec "$ns" tc qdisc replace dev eth0 root tbf rate "$rate" burst "$burst" latency 100ms
}

# netenv_state: a one-screen description (for failure reports).
netenv_state() {
  local h ns
  echo "netenv $NETENV_PREFIX, net $NETENV_NET.0/24"
  for h in "${NETENV_HOSTS[@]}"; do
    ns=$NETENV_PREFIX-$h
    printf '  %s %s: processes [%s] loss %s%%; partition rules: %s; qdisc: %s\n' "$h" "$(netenv_addr "$h")" \
      "$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')" "${_NETENV_LOSS[$h]:-0}" \
      "$(ip netns exec "$ns" nft list chain inet netenv partition 2>/dev/null | grep -c 'saddr' || true)" \
      "$(ip netns exec "$ns" tc qdisc show dev eth0 2>/dev/null | head -1)"
  done
}
