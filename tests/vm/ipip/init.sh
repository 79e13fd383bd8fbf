#!/bin/sh
# Runs as /init in the TUN real server VM of tests/scripts/dr_tun_netns.sh
# (Debian's kernel, busybox userland): a real ipip device holding the VIP.
#   eth0 198.19.0.4/24 on the test's bridge; tunl0 (ipip's fallback device,
#   which takes IP-in-IP from any source) holds VIP 198.18.0.102; answers go
#   to the client via 198.19.0.253, bypassing kadp; nginx on VIP:80.
# Prints "IPIP-VM: ready" once nginx listens, then waits to be killed.
export PATH=/sbin:/usr/sbin:/bin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
modprobe virtio_pci
modprobe virtio_net
modprobe ipip
ip link set lo up
ip link set eth0 up
ip addr add 198.19.0.4/24 dev eth0
ip route add 198.18.0.0/24 via 198.19.0.253
ip addr add 198.18.0.102/32 dev tunl0
ip link set tunl0 up
# The inner packets come in on tunl0 from a client routed via eth0.
for c in all default tunl0 eth0; do echo 0 > /proc/sys/net/ipv4/conf/$c/rp_filter; done
cat > /tmp/nginx.conf <<NGINX
user root;
worker_processes 1;
daemon on;
pid /tmp/nginx.pid;
error_log /tmp/error.log;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path /tmp/body;
    proxy_temp_path /tmp/proxy;
    fastcgi_temp_path /tmp/fastcgi;
    uwsgi_temp_path /tmp/uwsgi;
    scgi_temp_path /tmp/scgi;
    server {
        listen 198.18.0.102:80;
        root /www;
    }
}
NGINX
if nginx -c /tmp/nginx.conf -e /tmp/error.log; then
    echo "IPIP-VM: ready $(ip -o link show tunl0 | awk '{print $2}') $(ip -o addr show tunl0 | awk '{print $4}')"
else
    echo "IPIP-VM: nginx failed"
    cat /tmp/error.log
fi
while :; do sleep 3600; done
