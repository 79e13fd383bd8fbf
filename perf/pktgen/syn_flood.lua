-- Runs on: the pktgen-dpdk traffic generator host (pktgen -f syn_flood.lua),
-- never on the kadp appliance.
--
-- TCP SYN flood to the VIP 198.18.0.100:80: source addresses
-- 198.18.128.1.. and ports 1025..65535 stepped by range mode, every packet
-- a SYN, so nearly every packet is a new connection for kadp (scheduler
-- pick, table insert, NAT) until the sequence wraps. Address plan: see
-- docs/benchmarking.md. kadp_mac: kadp port 0's MAC.
package.path = package.path .. ";?.lua;test/?.lua;app/?.lua;"
require "Pktgen"

local port = "0"
local kadp_mac = "00:00:00:00:00:01"  -- CHANGE: kadp port 0
local size = 64
local rate = 100
local clients = 16384

pktgen.stop(port)
pktgen.set_mac(port, "dst", kadp_mac)
pktgen.set(port, "size", size)
pktgen.set(port, "rate", rate)
pktgen.set_proto(port, "tcp")
pktgen.set_ipaddr(port, "src", "198.18.0.2/24")
pktgen.set_ipaddr(port, "dst", "198.18.0.100")

pktgen.range.dst_mac(port, "start", kadp_mac)
pktgen.range.ip_proto(port, "tcp")
pktgen.range.dst_ip(port, "start", "198.18.0.100")
pktgen.range.dst_ip(port, "inc", "0.0.0.0")
pktgen.range.dst_ip(port, "min", "198.18.0.100")
pktgen.range.dst_ip(port, "max", "198.18.0.100")
pktgen.range.src_ip(port, "start", "198.18.128.1")
pktgen.range.src_ip(port, "inc", "0.0.0.1")
pktgen.range.src_ip(port, "min", "198.18.128.1")
pktgen.range.src_ip(port, "max", string.format("198.18.%d.%d", 128 + math.floor((clients - 1) / 254),
                                               1 + (clients - 1) % 254))
pktgen.range.dst_port(port, "start", 80)
pktgen.range.dst_port(port, "inc", 0)
pktgen.range.dst_port(port, "min", 80)
pktgen.range.dst_port(port, "max", 80)
pktgen.range.src_port(port, "start", 1025)
pktgen.range.src_port(port, "inc", 1)
pktgen.range.src_port(port, "min", 1025)
pktgen.range.src_port(port, "max", 65535)
pktgen.range.pkt_size(port, "start", size)
pktgen.range.pkt_size(port, "inc", 0)
pktgen.range.pkt_size(port, "min", size)
pktgen.range.pkt_size(port, "max", size)

-- TCP flags: pktgen's default template is an ACK. Newer pktgen releases
-- have range-mode flags in Lua; older ones only on the command line.
if pktgen.range.tcp_flags ~= nil then
    pktgen.range.tcp_flags(port, "clr", "ack")
    pktgen.range.tcp_flags(port, "set", "syn")
else
    printf("kadp syn_flood: this pktgen has no Lua TCP-flag call; type at the prompt:\n")
    printf("    range %s tcp flag clr ack\n    range %s tcp flag set syn\n", port, port)
    printf("then 'start %s' (kadp drops non-SYN packets without a connection: conn_not_syn)\n", port)
    pktgen.set_range(port, "on")
    return
end
pktgen.set_range(port, "on")

printf("kadp syn_flood: SYNs from %d clients x 64511 ports -> 198.18.0.100:80, %d-byte frames\n", clients, size)
pktgen.start(port)
