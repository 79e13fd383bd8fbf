// Runs on: worker lcores (pure functions, also used by tests and the control
// thread for listings). IPVS connection states: the TCP state machine driven
// by the flags seen in each direction, the per-state timeouts, and which
// states count as active for the schedulers and `kadpctl list`.
#pragma once

#include <cstdint>

#include "dataplane/conn_table.h"
#include "dataplane/packet_parse.h"  // kTcpFin, kTcpSyn, kTcpRst, kTcpAck

namespace kadp::dp {

// The next state of a TCP connection after a packet with `flags` in
// direction `dir` (in: client -> real server, out: real server -> client),
// following IPVS's default tcp_states table (not the secure_tcp one) for a
// NAT/DR/TUN director that sees both directions (NAT) or only the input
// (DR/TUN: `input_only`). As in IPVS, the event is the first of RST, SYN,
// FIN, ACK that is set; a packet with none of them moves to close. An `out`
// packet always uses the OUTPUT section whatever `input_only` says (IPVS
// then clears the connection's NOOUTPUT flag; callers that pass
// input_only for a NAT connection before its first reply do the same).
// udp and dead (and out-of-range values) are returned unchanged.
ConnState next_tcp_state(ConnState current, ConnDir dir, std::uint8_t flags, bool input_only);

// IPVS's default timeouts in milliseconds: none 2 s, established 900 s,
// syn_sent 120 s, syn_recv 60 s, fin_wait 120 s, time_wait 120 s, close 10 s,
// close_wait 60 s, last_ack 30 s, listen 120 s, synack 120 s; UDP 300 s;
// dead (and out-of-range values) 0.
std::uint32_t state_timeout_ms(ConnState state);

// The three timeouts an operator may change, as `ipvsadm --set tcp tcpfin
// udp` does (keepalived's global_defs lvs_timeouts): established, fin_wait
// and UDP; every other state keeps state_timeout_ms(). Published with the
// snapshot (control thread writes, workers read).
struct ConnTimeouts {
    std::uint32_t tcp_ms = 900'000;
    std::uint32_t tcpfin_ms = 120'000;
    std::uint32_t udp_ms = 300'000;

    std::uint32_t of(ConnState state) const {
        switch (state) {
        case ConnState::established: return tcp_ms;
        case ConnState::fin_wait: return tcpfin_ms;
        case ConnState::udp: return udp_ms;
        default: return state_timeout_ms(state);
        }
    }
};

// ipvsadm's ActiveConn as current kernels count it: established and the
// pre-established TCP states (syn_sent, syn_recv, synack); everything else
// that is alive (and every UDP connection) is InActConn.
bool state_is_active(ConnState state);

// A TCP connection whose handshake has not completed: syn_recv (client SYN
// seen), synack, syn_sent (server SYN seen). What a SYN flood fills the
// table with, and what the defense (conn_defense.h) may remove early --
// IPVS's drop_entry takes SYN_RECV and SYNACK.
constexpr bool state_is_half_open(ConnState state) {
    return state == ConnState::syn_recv || state == ConnState::synack || state == ConnState::syn_sent;
}

// As ipvsadm -Lnc prints it: ESTABLISHED, SYN_RECV, ..., UDP; dead is
// "DEAD", an out-of-range value "ERR!" (IPVS's own word for it).
const char* to_string(ConnState state);

}  // namespace kadp::dp
