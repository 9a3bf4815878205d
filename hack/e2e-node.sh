#!/usr/bin/env bash
# A single-node Kubernetes cluster on this machine for `make e2e`, and its complete removal.
#
#   hack/e2e-node.sh up     snapshot the machine, then start etcd, kube-apiserver, kube-controller-manager,
#                           kube-scheduler, containerd, the kubelet and kube-proxy; import the images
#   hack/e2e-node.sh down   stop all of it by PID and undo every change (safe to run more than once)
#   hack/e2e-node.sh check  fail if anything `up` created or changed is still there
#
# Everything stays on this machine: the control plane listens on, and the node registers with, an
# address on an interface of the suite's own (a dummy interface, or a port-less bridge where the
# kernel has no dummy driver); pods get routes to that address and to the service range only, nothing
# is masqueraded, and forwarding out of the pod bridge is dropped. containerd and the kubelet run in a
# private mount namespace (/ made rshared inside it only), so their mounts never reach the host and
# vanish with it. The kubelet and kube-proxy change sysctls and iptables for the whole machine; `down`
# restores the values `up` recorded and `check` compares.
#
# Needs root. Environment: E2E_DIR (state, default /tmp/orgsync-e2e), K8S_BIN_DIR (kube-apiserver,
# etcd, kubectl), K8S_NODE_BIN_DIR (kubelet, kube-proxy, kube-scheduler, kube-controller-manager;
# default K8S_BIN_DIR), E2E_IMAGES (image tarballs to import, space separated), E2E_PAUSE_TAR.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
dir=${E2E_DIR:-/tmp/orgsync-e2e}
bin=${K8S_BIN_DIR:-$root/bin/k8s}
node_bin=${K8S_NODE_BIN_DIR:-$bin}

node_name=orgsync-e2e
node_if=orgsync-e2e0
node_ip=10.213.0.1
pod_bridge=orgsync-e2e-br
pod_cidr=10.214.0.0/24
pod_gw=10.214.0.1
svc_cidr=10.215.0.0/24
svc_kubernetes=10.215.0.1
pause_image=orgsync.local/pause:e2e
# Directories containerd and the kubelet use whatever their flags say; each gets a tmpfs inside the
# private mount namespace. A missing one is created on the host as an empty mount point and removed.
ns_dirs=(/var/lib/kubelet /var/lib/containerd /run/containerd /var/lib/cni /run/netns /var/log/pods /var/log/containers /opt/containerd)

log() { echo ">> $*" >&2; }
die() { echo "e2e-node: $*" >&2; exit 1; }

# The sysctls the kubelet, kube-proxy and the bridge plugin are known to set, plus forwarding and
# route_localnet of every interface present before the suite.
sysctl_keys() {
  local k
  for k in kernel/panic kernel/panic_on_oops vm/overcommit_memory vm/panic_on_oom kernel/keys/root_maxkeys \
    kernel/keys/root_maxbytes net/ipv4/ip_forward net/netfilter/nf_conntrack_max \
    net/netfilter/nf_conntrack_tcp_timeout_established net/netfilter/nf_conntrack_tcp_timeout_close_wait \
    net/netfilter/nf_conntrack_tcp_be_liberal net/bridge/bridge-nf-call-iptables net/bridge/bridge-nf-call-ip6tables; do
    [[ -e /proc/sys/$k ]] && echo "$k"
  done
  for k in /proc/sys/net/ipv4/conf/*/forwarding /proc/sys/net/ipv4/conf/*/route_localnet /proc/sys/net/ipv6/conf/*/forwarding; do
    [[ -e $k ]] && echo "${k#/proc/sys/}"
  done
}

# The state `check` compares: everything `up` may change, outside its own directory.
machine_state() {
  local snap=$1 k
  mkdir -p "$snap"
  : > "$snap/sysctl"
  while read -r k; do echo "$k=$(cat "/proc/sys/$k")" >> "$snap/sysctl"; done < <(sysctl_keys)
  ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | sort > "$snap/links"
  ip -o addr show | awk '{print $2, $3, $4}' | sort > "$snap/addrs"
  { ip route show table all; ip -6 route show table all; } | sort > "$snap/routes"
  awk '{print $5}' /proc/self/mountinfo | sort > "$snap/mounts"
  for t in iptables ip6tables; do
    "$t-save" 2>/dev/null | grep -v '^#' | sed 's/\[[0-9]*:[0-9]*\]//' > "$snap/$t" || true
  done
  if command -v nft > /dev/null; then nft list tables 2>/dev/null | sort > "$snap/nft-tables" || true; fi
  find /sys/fs/cgroup -maxdepth 3 -type d -name 'kubepods*' 2>/dev/null | sort > "$snap/cgroups"
  for k in "${ns_dirs[@]}"; do [[ -e $k ]] && echo "$k"; done > "$snap/dirs"
  true
}

# Processes of the suite that are still alive: the PIDs it recorded, anything naming its directory
# (containerd's shims), and anything in the kubelet's cgroups (containers).
leftover_processes() {
  local f p
  for f in "$dir"/pids/*; do
    [[ -e $f ]] || continue
    p=$(cat "$f")
    kill -0 "$p" 2>/dev/null && echo "$p $(basename "$f")"
  done
  for f in /proc/[0-9]*/cmdline; do
    p=${f#/proc/}; p=${p%/cmdline}
    [[ $p == "$$" || $p == "$BASHPID" ]] && continue
    if tr '\0' ' ' < "$f" 2>/dev/null | grep -q -- "$dir/"; then
      echo "$p $(tr '\0' ' ' < "$f" 2>/dev/null | cut -c1-120)"
    fi
  done
  find /sys/fs/cgroup -path '*kubepods*' -name cgroup.procs 2>/dev/null | xargs -r cat 2>/dev/null | sed 's/$/ (in a kubepods cgroup)/'
  true
}

# The node's own leftovers, which `down` kills by PID: containerd's shims (they name its socket) and
# whatever runs in the kubelet's cgroups (the containers).
node_processes() {
  local f p
  for f in /proc/[0-9]*/cmdline; do
    p=${f#/proc/}; p=${p%/cmdline}
    if tr '\0' ' ' < "$f" 2>/dev/null | grep -q -- "-address $dir/containerd.sock"; then echo "$p"; fi
  done
  find /sys/fs/cgroup -path '*kubepods*' -name cgroup.procs 2>/dev/null | xargs -r cat 2>/dev/null
  true
}

start() {
  local name=$1; shift
  "$@" < /dev/null > "$dir/logs/$name.log" 2>&1 &
  echo $! > "$dir/pids/$name"
}

stop_pid() {
  local name=$1 f="$dir/pids/$1" p i
  [[ -e $f ]] || return 0
  p=$(cat "$f")
  if kill -0 "$p" 2>/dev/null; then
    kill -TERM "$p" 2>/dev/null || true
    for i in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$p" 2>/dev/null || true
    for i in $(seq 1 25); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
  fi
  rm -f "$f"
}

kubectl() { "$bin/kubectl" --kubeconfig "$dir/admin.kubeconfig" "$@"; }

wait_for() {
  local what=$1 timeout=$2 i; shift 2
  for i in $(seq 1 $((timeout * 5))); do
    if "$@" > /dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  die "$what not ready after ${timeout}s (logs in $dir/logs)"
}

ensure_packages() {
  local missing=()
  command -v containerd > /dev/null || missing+=(containerd)
  command -v runc > /dev/null || missing+=(runc)
  [[ -x /usr/lib/cni/bridge && -x /usr/lib/cni/host-local ]] || missing+=(containernetworking-plugins)
  command -v nft > /dev/null || missing+=(nftables)
  if ((${#missing[@]})); then
    log "Installing ${missing[*]} (apt-get)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" > "$dir/logs/apt.log" 2>&1 ||
      { DEBIAN_FRONTEND=noninteractive apt-get update -q > /dev/null 2>&1 &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" > "$dir/logs/apt.log" 2>&1; } ||
      { cat "$dir/logs/apt.log" >&2; die "apt-get install ${missing[*]} failed"; }
  fi
}

certs() {
  local pki=$dir/pki
  mkdir -p "$pki"
  ( cd "$pki"
    gen() { openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$1.key" -out "$1.csr" -subj "$2" 2> /dev/null; }
    sign() { openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -out "$1.crt" -extfile <(printf '%s\n' "$2") 2> /dev/null; }
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.crt -days 2 \
      -subj /CN=orgsync-e2e-ca -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2> /dev/null
    gen apiserver /CN=kube-apiserver
    sign apiserver "subjectAltName=IP:$node_ip,IP:$svc_kubernetes,IP:127.0.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local
extendedKeyUsage=serverAuth
keyUsage=critical,digitalSignature"
    # One client identity for the components and the tests: the suite tests orgsync, not node authorization.
    gen admin "/O=system:masters/CN=orgsync-e2e-admin"
    sign admin "extendedKeyUsage=clientAuth
keyUsage=critical,digitalSignature"
    openssl ecparam -name prime256v1 -genkey -noout -out sa.key 2> /dev/null
    openssl ec -in sa.key -pubout -out sa.pub 2> /dev/null
  )
  cat > "$dir/admin.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster: {server: "https://$node_ip:6443", certificate-authority: "$pki/ca.crt"}
users:
- name: admin
  user: {client-certificate: "$pki/admin.crt", client-key: "$pki/admin.key"}
contexts:
- name: e2e
  context: {cluster: e2e, user: admin}
current-context: e2e
EOF
}

configs() {
  mkdir -p "$dir/cni"
  cat > "$dir/cni/10-orgsync-e2e.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "orgsync-e2e",
  "plugins": [{
    "type": "bridge", "bridge": "$pod_bridge", "isGateway": true, "ipMasq": false, "hairpinMode": true,
    "ipam": {
      "type": "host-local", "dataDir": "$dir/cni-ipam",
      "ranges": [[{"subnet": "$pod_cidr", "gateway": "$pod_gw"}]],
      "routes": [{"dst": "$node_ip/32"}, {"dst": "$svc_cidr"}]
    }
  }]
}
EOF
  cat > "$dir/containerd.toml" <<EOF
version = 2
root = "/var/lib/containerd"
state = "/run/containerd"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "$dir/containerd.sock"
[plugins."io.containerd.internal.v1.opt"]
  path = "/opt/containerd"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$pause_image"
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$dir/cni"
EOF
  cat > "$dir/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# This machine runs cgroup v1, which Kubernetes 1.35+ refuses unless told otherwise.
failCgroupV1: false
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix://$dir/containerd.sock
address: $node_ip
readOnlyPort: 0
healthzPort: 0
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $dir/pki/ca.crt}
authorization: {mode: Webhook}
failSwapOn: false
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1%}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
maxPods: 32
serializeImagePulls: false
clusterDomain: cluster.local
shutdownGracePeriod: 0s
EOF
  cat > "$dir/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
hostnameOverride: $node_name
bindAddress: $node_ip
clientConnection: {kubeconfig: $dir/admin.kubeconfig}
healthzBindAddress: $node_ip:10256
metricsBindAddress: $node_ip:10249
nodePortAddresses: ["$node_ip/32"]
# Zeros leave the machine's conntrack sysctls alone; no localhost node ports leaves route_localnet alone.
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
iptables: {localhostNodePorts: false, masqueradeAll: false}
EOF
}

check_addresses_free() {
  local net
  for net in 10.213. 10.214. 10.215.; do
    if ip -o addr show | grep -q " inet $net" || ip route show table all | grep -q "^$net"; then
      die "the suite's addresses ($node_ip, $pod_cidr, $svc_cidr) collide with this machine's: $(ip -o addr show | grep " inet $net")"
    fi
  done
}

up() {
  [[ $(id -u) == 0 ]] || die "must run as root (containerd, the kubelet and the network need it)"
  if [[ -d $dir/pids ]] && [[ -n $(ls -A "$dir/pids" 2>/dev/null) ]]; then
    die "$dir holds a running node; run 'hack/e2e-node.sh down' first"
  fi
  rm -rf "$dir"
  mkdir -p "$dir/logs" "$dir/pids"
  ensure_packages
  for b in "$bin/kube-apiserver" "$bin/etcd" "$bin/kubectl" "$node_bin/kubelet" "$node_bin/kube-proxy" \
    "$node_bin/kube-scheduler" "$node_bin/kube-controller-manager"; do
    [[ -x $b ]] || die "$b is missing (make k8s-binaries k8s-node-binaries)"
  done
  check_addresses_free
  machine_state "$dir/before"
  local t0; t0=$(date +%s.%N)

  # The node's address, on an interface of the suite's own.
  if ! ip link add "$node_if" type dummy 2> /dev/null; then
    ip link add "$node_if" type bridge
  fi
  ip link set "$node_if" up
  ip addr add "$node_ip/32" dev "$node_if"
  # The machine's own packets to a service leave from the node's address (which the pods can answer)
  # and, for a service without endpoints, go nowhere instead of out of the default route.
  ip route add "$svc_cidr" dev "$node_if" src "$node_ip"
  # Nothing the pods send is forwarded anywhere: they reach the node's address and the services
  # (DNAT to that address or to a pod), which are local delivery, never forwarding.
  iptables -w -I FORWARD 1 -i "$pod_bridge" ! -o "$pod_bridge" -j DROP
  iptables -w -I FORWARD 1 ! -i "$pod_bridge" -o "$pod_bridge" -j DROP

  certs
  configs

  start etcd "$bin/etcd" --data-dir "$dir/etcd" --name default --unsafe-no-fsync \
    --listen-client-urls "http://$node_ip:2379" --advertise-client-urls "http://$node_ip:2379" \
    --listen-peer-urls "http://$node_ip:2380" --initial-advertise-peer-urls "http://$node_ip:2380" \
    --initial-cluster "default=http://$node_ip:2380" --listen-metrics-urls ""
  start kube-apiserver "$bin/kube-apiserver" --etcd-servers "http://$node_ip:2379" \
    --advertise-address "$node_ip" --bind-address "$node_ip" --secure-port 6443 \
    --service-cluster-ip-range "$svc_cidr" --authorization-mode Node,RBAC \
    --tls-cert-file "$dir/pki/apiserver.crt" --tls-private-key-file "$dir/pki/apiserver.key" \
    --client-ca-file "$dir/pki/ca.crt" \
    --kubelet-client-certificate "$dir/pki/admin.crt" --kubelet-client-key "$dir/pki/admin.key" \
    --kubelet-preferred-address-types InternalIP \
    --service-account-issuer https://kubernetes.default.svc --service-account-key-file "$dir/pki/sa.pub" \
    --service-account-signing-key-file "$dir/pki/sa.key"
  wait_for kube-apiserver 120 kubectl get --raw /readyz
  start kube-controller-manager "$node_bin/kube-controller-manager" --kubeconfig "$dir/admin.kubeconfig" \
    --leader-elect=false --secure-port 0 --service-account-private-key-file "$dir/pki/sa.key" \
    --root-ca-file "$dir/pki/ca.crt" --use-service-account-credentials=false
  start kube-scheduler "$node_bin/kube-scheduler" --kubeconfig "$dir/admin.kubeconfig" \
    --authentication-kubeconfig "$dir/admin.kubeconfig" --authorization-kubeconfig "$dir/admin.kubeconfig" \
    --leader-elect=false --secure-port 0

  # The mount namespace: a holder process keeps it alive; / is made private first (so nothing
  # propagates back to the host) and then rshared inside (so the kubelet's volume mounts reach runc).
  local d
  : > "$dir/created-dirs"
  for d in "${ns_dirs[@]}"; do
    if [[ ! -e $d ]]; then mkdir -p "$d"; echo "$d" >> "$dir/created-dirs"; fi
  done
  start mount-namespace unshare --mount --propagation private sleep infinity
  local holder; holder=$(cat "$dir/pids/mount-namespace")
  own_mount_ns() { [[ "$(readlink "/proc/$1/ns/mnt")" != "$(readlink /proc/self/ns/mnt)" ]]; }
  wait_for "mount namespace" 10 own_mount_ns "$holder"
  nsenter -t "$holder" -m -- sh -c 'mount --make-rshared / && for d in "$@"; do mount -t tmpfs -o mode=0755 orgsync-e2e "$d"; done' \
    sh "${ns_dirs[@]}"

  start containerd nsenter -t "$holder" -m -- containerd --config "$dir/containerd.toml"
  wait_for containerd 30 ctr --address "$dir/containerd.sock" version
  local tar
  for tar in ${E2E_PAUSE_TAR:-} ${E2E_IMAGES:-}; do
    ctr --address "$dir/containerd.sock" -n k8s.io images import "$tar" > /dev/null ||
      die "ctr images import $tar failed"
  done

  local t_kubelet; t_kubelet=$(date +%s.%N)
  start kubelet nsenter -t "$holder" -m -- "$node_bin/kubelet" --config "$dir/kubelet.yaml" \
    --kubeconfig "$dir/admin.kubeconfig" --hostname-override "$node_name" --node-ip "$node_ip" \
    --cert-dir /var/lib/kubelet/pki
  start kube-proxy "$node_bin/kube-proxy" --config "$dir/kube-proxy.yaml"
  wait_for "node $node_name" 120 sh -c "'$bin/kubectl' --kubeconfig '$dir/admin.kubeconfig' get node $node_name \
    -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' | grep -qx True"
  local t_ready; t_ready=$(date +%s.%N)
  local f
  for f in "$dir"/pids/*; do
    kill -0 "$(cat "$f")" 2> /dev/null ||
      die "$(basename "$f") exited during bring-up: $(tail -5 "$dir/logs/$(basename "$f").log")"
  done
  # The controller-manager makes each namespace's default ServiceAccount; the first pods need it.
  wait_for "default ServiceAccount" 60 kubectl -n default get serviceaccount default
  awk -v n="$node_name" -v a="$t_ready" -v k="$t_kubelet" -v s="$t0" \
    'BEGIN { printf ">> Node %s Ready %.1fs after the kubelet started (%.1fs after bring-up began)\n", n, a - k, a - s }' >&2
}

down() {
  [[ -d $dir ]] || return 0
  local holder=""
  [[ -e $dir/pids/mount-namespace ]] && holder=$(cat "$dir/pids/mount-namespace")
  stop_pid kube-proxy
  "$node_bin/kube-proxy" --cleanup > "$dir/logs/kube-proxy-cleanup.log" 2>&1 || true
  stop_pid kubelet
  # The containers: killed through containerd, so it unmounts their filesystems and the shims exit.
  if [[ -S $dir/containerd.sock ]] && [[ -e $dir/pids/containerd ]]; then
    local c
    for c in $(ctr --address "$dir/containerd.sock" -n k8s.io tasks ls -q 2> /dev/null); do
      ctr --address "$dir/containerd.sock" -n k8s.io tasks kill -s SIGKILL "$c" > /dev/null 2>&1 || true
    done
    for c in $(ctr --address "$dir/containerd.sock" -n k8s.io tasks ls -q 2> /dev/null); do
      ctr --address "$dir/containerd.sock" -n k8s.io tasks delete -f "$c" > /dev/null 2>&1 || true
    done
  fi
  stop_pid containerd
  # Whatever is left of the node (shims, containers) is killed by PID.
  local p n
  for n in 1 2 3; do
    p=$(node_processes | sort -u)
    [[ -z $p ]] && break
    kill -KILL $p 2> /dev/null || true
    sleep 0.5
  done
  stop_pid mount-namespace
  stop_pid kube-scheduler
  stop_pid kube-controller-manager
  stop_pid kube-apiserver
  stop_pid etcd

  # The kubelet's cgroups, deepest first, in every hierarchy.
  local cg
  for n in 1 2 3 4 5; do
    while read -r cg; do rmdir "$cg" 2> /dev/null || true; done < <(find /sys/fs/cgroup -depth -type d -path '*kubepods*' 2> /dev/null)
    [[ -z $(find /sys/fs/cgroup -type d -path '*kubepods*' 2> /dev/null) ]] && break
    sleep 1
  done

  ip link del "$pod_bridge" 2> /dev/null || true
  ip link del "$node_if" 2> /dev/null || true
  # The host ends of the pods' veth pairs go with their network namespaces; any still here names the bridge's peers.
  for n in $(ip -o link show type veth 2> /dev/null | awk -F': ' '{print $2}' | sed 's/@.*//'); do
    grep -qx "$n" "$dir/before/links" 2> /dev/null || ip link del "$n" 2> /dev/null || true
  done

  restore_firewall
  if [[ -e $dir/before/sysctl ]]; then
    local kv
    while IFS= read -r kv; do
      [[ -e /proc/sys/${kv%%=*} ]] || continue
      [[ "$(cat "/proc/sys/${kv%%=*}")" == "${kv#*=}" ]] || echo "${kv#*=}" > "/proc/sys/${kv%%=*}" || true
    done < "$dir/before/sysctl"
  fi
  if [[ -e $dir/created-dirs ]]; then
    while read -r d; do rmdir "$d" 2> /dev/null || true; done < <(tac "$dir/created-dirs")
  fi
}

# iptables as it was: rules of the suite's own removed, tables it created deleted, chains restored.
restore_firewall() {
  iptables -w -D FORWARD -i "$pod_bridge" ! -o "$pod_bridge" -j DROP 2> /dev/null || true
  iptables -w -D FORWARD ! -i "$pod_bridge" -o "$pod_bridge" -j DROP 2> /dev/null || true
  [[ -e $dir/before/iptables ]] || return 0
  local t fam tables
  for t in iptables ip6tables; do
    fam=ip; [[ $t == ip6tables ]] && fam=ip6
    if [[ -s $dir/before/$t ]]; then
      "$t-restore" -w < "$dir/before/$t" 2> /dev/null || true
    fi
    # Tables the suite brought into being (nothing was there before): gone again.
    tables=$("$t-save" 2> /dev/null | sed -n 's/^\*//p')
    for tab in $tables; do
      grep -qx "\*$tab" "$dir/before/$t" && continue
      nft delete table "$fam" "$tab" 2> /dev/null || true
    done
  done
  # nftables tables of kube-proxy's nftables mode, should it have probed them.
  if [[ -e $dir/before/nft-tables ]]; then
    nft list tables 2> /dev/null | sort | comm -13 "$dir/before/nft-tables" - | while read -r _ fam tab; do
      nft delete table "$fam" "$tab" 2> /dev/null || true
    done
  fi
}

check() {
  [[ -e $dir/before/sysctl ]] || die "no snapshot in $dir/before: run 'up' first"
  machine_state "$dir/after"
  local bad=0 f
  for f in sysctl links addrs routes mounts iptables ip6tables nft-tables cgroups dirs; do
    [[ -e $dir/before/$f ]] || continue
    if ! diff -u "$dir/before/$f" "$dir/after/$f" > "$dir/after/$f.diff"; then
      echo "e2e-node: $f differs from before the suite:" >&2
      cat "$dir/after/$f.diff" >&2
      bad=1
    fi
  done
  local procs; procs=$(leftover_processes)
  if [[ -n $procs ]]; then
    echo "e2e-node: processes of the suite still running:" >&2
    echo "$procs" >&2
    bad=1
  fi
  ((bad == 0)) || die "the machine is not as the suite found it"
  log "Machine as found: no process, mount, interface, route, iptables chain, cgroup or sysctl of the suite remains"
}

case ${1:-} in
  up) up ;;
  down) down ;;
  check) check ;;
  *) die "usage: $0 up|down|check" ;;
esac
