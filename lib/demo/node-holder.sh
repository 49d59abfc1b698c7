#!/bin/sh
# Runs inside `ip netns exec <host> unshare --uts --mount`: gives this private mount and UTS
# namespace the node's own /etc/ha.d, /var/lib/heartbeat, /run and /var/log (bind mounts
# that never reach the root namespace, because unshare makes propagation private), sets the
# hostname to the node name, then sleeps so the kit can nsenter(1) into it by this pid.
# usage: node-holder.sh <node-root-dir> <hostname>
set -eu
root=$1
host=$2
hostname "$host"
mount --bind "$root/etc/ha.d" /etc/ha.d
mount --bind "$root/var/lib/heartbeat" /var/lib/heartbeat
mount --bind "$root/var/log" /var/log
mount --bind "$root/run" /run
echo ready
exec sleep infinity
