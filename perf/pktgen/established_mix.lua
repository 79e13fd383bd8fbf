-- Runs on: the pktgen-dpdk traffic generator host (pktgen -f
-- established_mix.lua), never on the kadp appliance.
--
-- Established-flow mix on two ports of the generator:
--   port 0 (client side, 90% of the packets by default): first one SYN per
--     flow of a fixed set (flows = clients x ports), then ACK data packets
--     of the same flows cycling through all of them (IPVS: SYN_RECV + ACK
--     -> ESTABLISHED);
--   port 1 (wired to a second kadp client-side port, or the same switch
--     segment, 10%): SYNs of new clients (198.18.192.0/18), i.e. new
--     connections among the established traffic.
-- With a single generator port, run syn_flood.lua at a low rate beside it
-- instead of port 1. Address plan: docs/benchmarking.md.
package.path = package.path .. ";?.lua;test/?.lua;app/?.lua;"
require "Pktgen"

local est, new = "0", "1"
local kadp_mac0 = "00:00:00:00:00:01"  -- CHANGE: kadp port facing generator port 0
local kadp_mac1 = "00:00:00:00:00:01"  -- CHANGE: kadp port facing generator port 1
local size = 64
local est_rate, new_rate = 90, 10      -- percent of line rate
local clients, ports = 16384, 64       -- established flows = clients x ports
local warmup_rate = 5                  -- percent: the opening SYNs at a rate kadp surely takes

local function range_common(p, mac, proto, src_first, src_last, sport_max)
    pktgen.set_mac(p, "dst", mac)
    pktgen.set(p, "size", size)
    pktgen.set_proto(p, proto)
    pktgen.range.dst_mac(p, "start", mac)
    pktgen.range.ip_proto(p, proto)
    for _, k in ipairs({"start", "min", "max"}) do pktgen.range.dst_ip(p, k, "198.18.0.100") end
    pktgen.range.dst_ip(p, "inc", "0.0.0.0")
    pktgen.range.src_ip(p, "start", src_first)
    pktgen.range.src_ip(p, "min", src_first)
    pktgen.range.src_ip(p, "max", src_last)
    pktgen.range.src_ip(p, "inc", "0.0.0.1")
    for _, k in ipairs({"start", "min", "max"}) do pktgen.range.dst_port(p, k, 80) end
    pktgen.range.dst_port(p, "inc", 0)
    pktgen.range.src_port(p, "start", 1025)
    pktgen.range.src_port(p, "min", 1025)
    pktgen.range.src_port(p, "max", sport_max)
    pktgen.range.src_port(p, "inc", 1)
    for _, k in ipairs({"start", "min", "max"}) do pktgen.range.pkt_size(p, k, size) end
    pktgen.range.pkt_size(p, "inc", 0)
    pktgen.set_range(p, "on")
end

local function flags(p, set, clr)
    if pktgen.range.tcp_flags == nil then return false end
    pktgen.range.tcp_flags(p, "clr", clr)
    pktgen.range.tcp_flags(p, "set", set)
    return true
end

if pktgen.range.tcp_flags == nil then
    printf("kadp established_mix: this pktgen has no Lua TCP-flag call (range <port> tcp flag ...);\n")
    printf("use the TRex profile perf/trex/established_mix.py, or set the flags by hand.\n")
    return
end

pktgen.stop("all")
local last = string.format("198.18.%d.%d", 128 + math.floor((clients - 1) / 254), 1 + (clients - 1) % 254)
range_common(est, kadp_mac0, "tcp", "198.18.128.1", last, 1025 + ports - 1)
range_common(new, kadp_mac1, "tcp", "198.18.192.1", "198.18.255.254", 65535)
flags(new, "syn", "ack")

-- 1. The opening SYN of every established flow, exactly once each:
--    range mode steps the address first, then the port.
local flows = clients * ports
flags(est, "syn", "ack")
pktgen.set(est, "rate", warmup_rate)
pktgen.set(est, "count", flows)
printf("kadp established_mix: opening %d flows\n", flows)
pktgen.start(est)
while pktgen.isSending(est)[tonumber(est)] == "y" do pktgen.delay(100) end
pktgen.delay(100)

-- 2. Data packets of those flows, and new flows beside them.
flags(est, "ack", "syn")
pktgen.set(est, "count", 0)  -- 0: send until stopped
pktgen.set(est, "rate", est_rate)
pktgen.set(new, "rate", new_rate)
printf("kadp established_mix: ACK data on %d flows at %d%%, new SYNs at %d%%\n", flows, est_rate, new_rate)
pktgen.start("all")
