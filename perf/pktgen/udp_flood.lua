-- Runs on: the pktgen-dpdk traffic generator host (pktgen -f udp_flood.lua),
-- never on the kadp appliance.
--
-- UDP flood to the VIP 198.18.0.100:80 from many clients: source addresses
-- 198.18.128.1.. and source ports 1025.. stepped by pktgen's range mode, so
-- kadp sees (addresses x ports) distinct flows. Address plan: see
-- docs/benchmarking.md ("Topology"), all in 198.18.0.0/15.
-- Edit the settings below: kadp_mac is kadp port 0's MAC (`kadp` prints it
-- at start-up, or read it from the ARP table of the generator's side).
package.path = package.path .. ";?.lua;test/?.lua;app/?.lua;"
require "Pktgen"

local port = "0"
local kadp_mac = "00:00:00:00:00:01"  -- CHANGE: kadp port 0
local size = 64                       -- frame bytes, FCS included
local rate = 100                      -- percent of line rate
local clients = 16384                 -- distinct source addresses
local ports = 64                      -- distinct source ports per address

local function ip_plus(base_c, n)     -- 198.18.<base_c + n/254>.<1 + n%254>
    return string.format("198.18.%d.%d", base_c + math.floor(n / 254), 1 + n % 254)
end

pktgen.stop(port)
pktgen.set_mac(port, "dst", kadp_mac)
pktgen.set(port, "size", size)
pktgen.set(port, "rate", rate)
pktgen.set_proto(port, "udp")
pktgen.set_ipaddr(port, "src", "198.18.0.2/24")
pktgen.set_ipaddr(port, "dst", "198.18.0.100")

pktgen.range.dst_mac(port, "start", kadp_mac)
pktgen.range.ip_proto(port, "udp")
pktgen.range.dst_ip(port, "start", "198.18.0.100")
pktgen.range.dst_ip(port, "inc", "0.0.0.0")
pktgen.range.dst_ip(port, "min", "198.18.0.100")
pktgen.range.dst_ip(port, "max", "198.18.0.100")
pktgen.range.src_ip(port, "start", "198.18.128.1")
pktgen.range.src_ip(port, "inc", "0.0.0.1")
pktgen.range.src_ip(port, "min", "198.18.128.1")
pktgen.range.src_ip(port, "max", ip_plus(128, clients - 1))
pktgen.range.dst_port(port, "start", 80)
pktgen.range.dst_port(port, "inc", 0)
pktgen.range.dst_port(port, "min", 80)
pktgen.range.dst_port(port, "max", 80)
pktgen.range.src_port(port, "start", 1025)
pktgen.range.src_port(port, "inc", 1)
pktgen.range.src_port(port, "min", 1025)
pktgen.range.src_port(port, "max", 1025 + ports - 1)
pktgen.range.pkt_size(port, "start", size)
pktgen.range.pkt_size(port, "inc", 0)
pktgen.range.pkt_size(port, "min", size)
pktgen.range.pkt_size(port, "max", size)
pktgen.set_range(port, "on")

printf("kadp udp_flood: %d clients x %d ports -> 198.18.0.100:80, %d-byte frames, %d%% of line rate\n",
       clients, ports, size, rate)
pktgen.start(port)
