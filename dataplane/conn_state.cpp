// Runs on: worker lcores (per TCP packet of a known connection), the control
// thread and tests (listings, timeouts). Pure lookups, no allocation.
//
// The TCP state machine is Linux IPVS's default table (tcp_states in
// net/netfilter/ipvs/ip_vs_proto_tcp.c, current kernels: a bare ACK in NONE
// establishes the connection; 2.6-era kernels closed it instead), written
// here state-major: one line per current state with the next state for the
// events syn, fin, ack, rst. The kernel lists it event-major; the unit test
// keeps that layout as an independent second transcription.
#include "dataplane/conn_state.h"

#include <array>
#include <cstddef>

namespace kadp::dp {
namespace {

using S = ConnState;

// Events, in the column order of the rows below. `no_flag` is a packet with
// none of RST/SYN/FIN/ACK: IPVS has no row for it and moves the connection
// to CLOSE.
enum Event : std::uint8_t { ev_syn = 0, ev_fin, ev_ack, ev_rst, ev_no_flag, kEventCount };

// Table sections, as IPVS's offsets: INPUT (both directions seen, packet from
// the client), OUTPUT (packet from the real server), INPUT-ONLY (DR/TUN, or
// NAT before the first reply).
enum Section : std::uint8_t { sec_input = 0, sec_output, sec_input_only, kSectionCount };

inline constexpr std::size_t kTcpStates = 11;  // none .. synack: the states IPVS's table covers

struct Row {
    S syn, fin, ack, rst;
};

// clang-format off
constexpr std::array<std::array<Row, kTcpStates>, kSectionCount> kRows{{
    // INPUT: current         syn             fin             ack             rst
    {{
        /* none        */ {S::syn_recv,    S::close,       S::established, S::close},
        /* established */ {S::established, S::close_wait,  S::established, S::close},
        /* syn_sent    */ {S::established, S::syn_sent,    S::syn_sent,    S::close},
        /* syn_recv    */ {S::syn_recv,    S::time_wait,   S::established, S::syn_recv},
        /* fin_wait    */ {S::syn_recv,    S::time_wait,   S::fin_wait,    S::close},
        /* time_wait   */ {S::syn_recv,    S::time_wait,   S::time_wait,   S::close},
        /* close       */ {S::syn_recv,    S::close,       S::close,       S::close},
        /* close_wait  */ {S::syn_recv,    S::close_wait,  S::close_wait,  S::close},
        /* last_ack    */ {S::syn_recv,    S::last_ack,    S::close,       S::last_ack},
        /* listen      */ {S::syn_recv,    S::listen,      S::listen,      S::listen},
        /* synack      */ {S::syn_recv,    S::time_wait,   S::established, S::syn_recv},
    }},
    // OUTPUT
    {{
        /* none        */ {S::syn_sent,    S::time_wait,   S::established, S::close},
        /* established */ {S::established, S::fin_wait,    S::established, S::close},
        /* syn_sent    */ {S::syn_sent,    S::syn_sent,    S::syn_sent,    S::syn_sent},
        /* syn_recv    */ {S::syn_recv,    S::time_wait,   S::established, S::close},
        /* fin_wait    */ {S::syn_sent,    S::fin_wait,    S::fin_wait,    S::close},
        /* time_wait   */ {S::syn_sent,    S::time_wait,   S::time_wait,   S::time_wait},
        /* close       */ {S::syn_sent,    S::close,       S::close,       S::close},
        /* close_wait  */ {S::syn_sent,    S::time_wait,   S::close_wait,  S::close},
        /* last_ack    */ {S::syn_sent,    S::last_ack,    S::last_ack,    S::close},
        /* listen      */ {S::listen,      S::listen,      S::established, S::close},
        /* synack      */ {S::syn_recv,    S::time_wait,   S::established, S::close},
    }},
    // INPUT-ONLY: like INPUT except a client FIN in established goes to
    // fin_wait (no reply will be seen), fin_wait stays on a FIN, and RST in
    // synack closes.
    {{
        /* none        */ {S::syn_recv,    S::close,       S::established, S::close},
        /* established */ {S::established, S::fin_wait,    S::established, S::close},
        /* syn_sent    */ {S::established, S::syn_sent,    S::syn_sent,    S::close},
        /* syn_recv    */ {S::syn_recv,    S::time_wait,   S::established, S::syn_recv},
        /* fin_wait    */ {S::syn_recv,    S::fin_wait,    S::fin_wait,    S::close},
        /* time_wait   */ {S::syn_recv,    S::time_wait,   S::time_wait,   S::close},
        /* close       */ {S::syn_recv,    S::close,       S::close,       S::close},
        /* close_wait  */ {S::syn_recv,    S::close_wait,  S::close_wait,  S::close},
        /* last_ack    */ {S::syn_recv,    S::last_ack,    S::close,       S::last_ack},
        /* listen      */ {S::syn_recv,    S::listen,      S::listen,      S::listen},
        /* synack      */ {S::syn_recv,    S::time_wait,   S::established, S::close},
    }},
}};
// clang-format on

static_assert(static_cast<std::size_t>(S::synack) + 1 == kTcpStates, "kRows covers none..synack in enum order");
static_assert(static_cast<std::size_t>(S::dead) + 1 == kConnStateCount, "dead is the last state");

// The packet's TCP flags squeezed to 4 bits: FIN, SYN, RST at their own
// positions, ACK (0x10) moved down to 0x08. PSH/URG/ECE/CWR drop out.
constexpr unsigned flag_index(std::uint8_t flags) {
    return (flags & 0x07u) | ((flags >> 1) & 0x08u);
}

// IPVS's precedence: RST, then SYN, then FIN, then ACK.
constexpr Event event_of_index(unsigned idx) {
    if (idx & kTcpRst) return ev_rst;
    if (idx & kTcpSyn) return ev_syn;
    if (idx & kTcpFin) return ev_fin;
    if (idx & 0x08u) return ev_ack;
    return ev_no_flag;
}

using NextTable = std::array<std::array<std::array<std::uint8_t, kConnStateCount>, 16>, kSectionCount>;

// Dense [section][flag index][state] table, so the fast path is one load.
// udp and dead (and any state IPVS's TCP table does not know) never move:
// a TCP packet must not turn a UDP entry into a TCP state, and a dead entry
// must not be revived.
constexpr NextTable build_next() {
    NextTable t{};
    for (std::size_t sec = 0; sec < kSectionCount; ++sec) {
        for (unsigned idx = 0; idx < 16; ++idx) {
            const Event ev = event_of_index(idx);
            for (std::size_t st = 0; st < kConnStateCount; ++st) {
                S next = static_cast<S>(st);
                if (st < kTcpStates) {
                    const Row& r = kRows[sec][st];
                    switch (ev) {
                    case ev_syn: next = r.syn; break;
                    case ev_fin: next = r.fin; break;
                    case ev_ack: next = r.ack; break;
                    case ev_rst: next = r.rst; break;
                    default: next = S::close; break;  // IPVS: no usable flag -> CLOSE
                    }
                }
                t[sec][idx][st] = static_cast<std::uint8_t>(next);
            }
        }
    }
    return t;
}

constexpr NextTable kNext = build_next();

// Milliseconds per state, IPVS defaults (tcp_timeouts; udp_timeouts NORMAL).
constexpr std::array<std::uint32_t, kConnStateCount> kTimeoutMs{
    2'000,    // none: IPVS's 2 s
    900'000,  // established
    120'000,  // syn_sent
    60'000,   // syn_recv
    120'000,  // fin_wait
    120'000,  // time_wait
    10'000,   // close
    60'000,   // close_wait
    30'000,   // last_ack
    120'000,  // listen
    120'000,  // synack
    300'000,  // udp
    0,        // dead: not linked, nothing to wait for
};

constexpr std::array<const char*, kConnStateCount> kNames{
    "NONE", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT", "TIME_WAIT", "CLOSE",
    "CLOSE_WAIT", "LAST_ACK", "LISTEN", "SYNACK", "UDP", "DEAD",
};

}  // namespace

ConnState next_tcp_state(ConnState current, ConnDir dir, std::uint8_t flags, bool input_only) {
    const auto st = static_cast<std::uint8_t>(current);
    // A corrupt state byte has no row; leave it for expiry rather than index out of bounds.
    if (st >= kConnStateCount) [[unlikely]] return current;
    // IPVS: an output packet always uses OUTPUT (and ends NOOUTPUT); input
    // packets use INPUT-ONLY while no output has been seen.
    const unsigned out = static_cast<unsigned>(dir == ConnDir::out);
    const unsigned sec = out | ((out ^ 1u) & static_cast<unsigned>(input_only)) << 1;
    return static_cast<ConnState>(kNext[sec][flag_index(flags)][st]);
}

std::uint32_t state_timeout_ms(ConnState state) {
    const auto st = static_cast<std::uint8_t>(state);
    return st < kConnStateCount ? kTimeoutMs[st] : 0;
}

bool state_is_active(ConnState state) {
    // As current kernels count (since "ipvs: count pre-established TCP
    // states as active", 2016): a half-open connection loads its server as
    // much as an established one, which matters to lc/wlc under a SYN flood.
    return state == ConnState::established || state == ConnState::syn_sent || state == ConnState::syn_recv ||
           state == ConnState::synack;
}

const char* to_string(ConnState state) {
    const auto st = static_cast<std::uint8_t>(state);
    return st < kConnStateCount ? kNames[st] : "ERR!";
}

}  // namespace kadp::dp
