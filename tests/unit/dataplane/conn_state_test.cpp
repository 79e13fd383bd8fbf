// Runs on: any (unit test). The IPVS TCP state machine (every cell of the
// three table sections against a second transcription of the kernel's
// tcp_states), flag precedence, handshake/close/reset sequences, timeouts,
// the active flag and the ipvsadm names.
#include <gtest/gtest.h>

#include "dataplane/conn_state.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <utility>

namespace kadp::dp {
namespace {

using S = ConnState;

// Short names as in the kernel source, so the table below can be checked
// against ip_vs_proto_tcp.c by eye.
constexpr S NO = S::none, ES = S::established, SS = S::syn_sent, SR = S::syn_recv, FW = S::fin_wait,
            TW = S::time_wait, CL = S::close, CW = S::close_wait, LA = S::last_ack, LI = S::listen,
            SA = S::synack;

constexpr std::array<S, 11> kTcpStates{NO, ES, SS, SR, FW, TW, CL, CW, LA, LI, SA};

constexpr std::uint8_t kSyn = kTcpSyn, kFin = kTcpFin, kAck = kTcpAck, kRst = kTcpRst;
constexpr std::uint8_t kSynAck = kTcpSyn | kTcpAck, kFinAck = kTcpFin | kTcpAck, kRstAck = kTcpRst | kTcpAck;

using Row = std::array<S, 11>;  // columns: current state NO ES SS SR FW TW CL CW LA LI SA

// Second transcription of Linux's tcp_states (default, not secure_tcp),
// event-major as the kernel writes it: [section][syn, fin, ack, rst].
struct Section {
    const char* name;
    ConnDir dir;
    bool input_only;
    std::array<Row, 4> rows;
};

// clang-format off
const std::array<Section, 3> kExpected{{
    {"INPUT", ConnDir::in, false, {{
        /*         NO  ES  SS  SR  FW  TW  CL  CW  LA  LI  SA */
        /*syn*/ {{ SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SR }},
        /*fin*/ {{ CL, CW, SS, TW, TW, TW, CL, CW, LA, LI, TW }},
        /*ack*/ {{ ES, ES, SS, ES, FW, TW, CL, CW, CL, LI, ES }},
        /*rst*/ {{ CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, SR }},
    }}},
    {"OUTPUT", ConnDir::out, false, {{
        /*         NO  ES  SS  SR  FW  TW  CL  CW  LA  LI  SA */
        /*syn*/ {{ SS, ES, SS, SR, SS, SS, SS, SS, SS, LI, SR }},
        /*fin*/ {{ TW, FW, SS, TW, FW, TW, CL, TW, LA, LI, TW }},
        /*ack*/ {{ ES, ES, SS, ES, FW, TW, CL, CW, LA, ES, ES }},
        /*rst*/ {{ CL, CL, SS, CL, CL, TW, CL, CL, CL, CL, CL }},
    }}},
    {"INPUT-ONLY", ConnDir::in, true, {{
        /*         NO  ES  SS  SR  FW  TW  CL  CW  LA  LI  SA */
        /*syn*/ {{ SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SR }},
        /*fin*/ {{ CL, FW, SS, TW, FW, TW, CL, CW, LA, LI, TW }},
        /*ack*/ {{ ES, ES, SS, ES, FW, TW, CL, CW, CL, LI, ES }},
        /*rst*/ {{ CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, CL }},
    }}},
}};
// clang-format on

constexpr std::array<std::uint8_t, 4> kEventFlags{kSyn, kFin, kAck, kRst};
constexpr std::array<const char*, 4> kEventNames{"syn", "fin", "ack", "rst"};

// Feeds packets (direction, flags) from `start` and returns the final state.
struct Pkt {
    ConnDir dir;
    std::uint8_t flags;
};
S run(S start, bool input_only, std::initializer_list<Pkt> pkts) {
    S s = start;
    for (const Pkt& p : pkts) s = next_tcp_state(s, p.dir, p.flags, input_only);
    return s;
}

constexpr ConnDir kIn = ConnDir::in;
constexpr ConnDir kOut = ConnDir::out;

TEST(ConnState, EveryCellMatchesKernelTable) {
    int checked = 0;
    for (const Section& sec : kExpected) {
        for (std::size_t ev = 0; ev < 4; ++ev) {
            for (std::size_t col = 0; col < kTcpStates.size(); ++col) {
                const S cur = kTcpStates[col];
                EXPECT_EQ(next_tcp_state(cur, sec.dir, kEventFlags[ev], sec.input_only), sec.rows[ev][col])
                    << sec.name << " " << kEventNames[ev] << " in " << to_string(cur) << ": want "
                    << to_string(sec.rows[ev][col]);
                ++checked;
            }
        }
    }
    EXPECT_EQ(checked, 3 * 4 * 11);
}

TEST(ConnState, FlagPrecedenceIsRstSynFinAck) {
    // Every combination of the four flags (plus noise bits IPVS ignores)
    // must behave like the highest-precedence flag alone.
    for (const Section& sec : kExpected) {
        for (unsigned combo = 1; combo < 16; ++combo) {
            std::uint8_t flags = 0;
            if (combo & 1u) flags |= kFin;
            if (combo & 2u) flags |= kSyn;
            if (combo & 4u) flags |= kRst;
            if (combo & 8u) flags |= kAck;
            const std::size_t ev = (flags & kRst) ? 3 : (flags & kSyn) ? 0 : (flags & kFin) ? 1 : 2;
            for (const std::uint8_t noise : {std::uint8_t{0}, std::uint8_t{0x08}, std::uint8_t{0xe8}}) {
                for (std::size_t col = 0; col < kTcpStates.size(); ++col) {
                    const S cur = kTcpStates[col];
                    EXPECT_EQ(next_tcp_state(cur, sec.dir, static_cast<std::uint8_t>(flags | noise), sec.input_only),
                              sec.rows[ev][col])
                        << sec.name << " flags 0x" << std::hex << unsigned(flags | noise) << " in "
                        << to_string(cur);
                }
            }
        }
    }
    // Spot checks that do not go through the table above.
    EXPECT_EQ(next_tcp_state(ES, kIn, kRst | kSyn, false), CL);      // RST beats SYN
    EXPECT_EQ(next_tcp_state(ES, kIn, kSyn | kFin, false), ES);      // SYN beats FIN
    EXPECT_EQ(next_tcp_state(ES, kIn, kFinAck, false), CW);          // FIN beats ACK
    EXPECT_EQ(next_tcp_state(NO, kIn, kAck | 0x08, false), ES);      // PSH is ignored
}

TEST(ConnState, NoUsableFlagClosesLikeIpvs) {
    // IPVS starts from CLOSE and keeps it when no RST/SYN/FIN/ACK is set.
    for (const Section& sec : kExpected) {
        for (const S cur : kTcpStates) {
            for (const std::uint8_t flags : {std::uint8_t{0}, std::uint8_t{0x08}, std::uint8_t{0x20},
                                             std::uint8_t{0xe8}}) {
                EXPECT_EQ(next_tcp_state(cur, sec.dir, flags, sec.input_only), CL)
                    << sec.name << " flags 0x" << std::hex << unsigned(flags) << " in " << to_string(cur);
            }
        }
    }
}

TEST(ConnState, NonTcpStatesNeverMove) {
    for (const S cur : {S::udp, S::dead}) {
        for (unsigned f = 0; f < 256; ++f) {
            for (const ConnDir d : {kIn, kOut}) {
                for (const bool io : {false, true}) {
                    EXPECT_EQ(next_tcp_state(cur, d, static_cast<std::uint8_t>(f), io), cur)
                        << to_string(cur) << " flags " << f;
                }
            }
        }
    }
    // A corrupt state byte is returned unchanged, not used as an index.
    const auto bogus = static_cast<S>(200);
    EXPECT_EQ(next_tcp_state(bogus, kIn, kSyn, false), bogus);
    EXPECT_EQ(next_tcp_state(bogus, kOut, kRst, true), bogus);
}

TEST(ConnState, OutputIgnoresInputOnly) {
    // A reply on an input-only connection uses OUTPUT (IPVS clears NOOUTPUT).
    for (const S cur : kTcpStates) {
        for (const std::uint8_t f : kEventFlags) {
            EXPECT_EQ(next_tcp_state(cur, kOut, f, true), next_tcp_state(cur, kOut, f, false)) << to_string(cur);
        }
    }
    EXPECT_EQ(next_tcp_state(ES, kOut, kFin, true), FW);
}

TEST(ConnState, NatHandshakeReachesEstablished) {
    S s = next_tcp_state(NO, kIn, kSyn, false);
    EXPECT_EQ(s, SR);
    s = next_tcp_state(s, kOut, kSynAck, false);
    EXPECT_EQ(s, SR);  // SYN/ACK counts as syn: stays SYN_RECV
    s = next_tcp_state(s, kIn, kAck, false);
    EXPECT_EQ(s, ES);
    EXPECT_TRUE(state_is_active(s));
    // Data both ways keeps it established.
    EXPECT_EQ(run(s, false, {{kIn, kAck}, {kOut, kAck}, {kIn, kAck | 0x08}}), ES);
    // A retransmitted SYN from the client does not reset an established connection.
    EXPECT_EQ(next_tcp_state(ES, kIn, kSyn, false), ES);
}

TEST(ConnState, ClientClosesFirst) {
    // client FIN -> close_wait; server ACK keeps it; server FIN -> time_wait; client ACK stays.
    S s = next_tcp_state(ES, kIn, kFinAck, false);
    EXPECT_EQ(s, CW);
    s = next_tcp_state(s, kOut, kAck, false);
    EXPECT_EQ(s, CW);
    s = next_tcp_state(s, kOut, kFinAck, false);
    EXPECT_EQ(s, TW);
    s = next_tcp_state(s, kIn, kAck, false);
    EXPECT_EQ(s, TW);
    EXPECT_EQ(state_timeout_ms(s), 120'000u);
}

TEST(ConnState, ServerClosesFirst) {
    // server FIN -> fin_wait; client ACK keeps it; client FIN -> time_wait.
    S s = next_tcp_state(ES, kOut, kFinAck, false);
    EXPECT_EQ(s, FW);
    s = next_tcp_state(s, kIn, kAck, false);
    EXPECT_EQ(s, FW);
    s = next_tcp_state(s, kIn, kFinAck, false);
    EXPECT_EQ(s, TW);
    s = next_tcp_state(s, kOut, kAck, false);
    EXPECT_EQ(s, TW);
}

TEST(ConnState, LastAckOnlyEndsOnClientAck) {
    // last_ack is reachable only from outside the table (sync from a peer);
    // IPVS keeps it on FIN and closes on the client's ACK.
    EXPECT_EQ(next_tcp_state(LA, kIn, kFin, false), LA);
    EXPECT_EQ(next_tcp_state(LA, kOut, kAck, false), LA);
    EXPECT_EQ(next_tcp_state(LA, kIn, kAck, false), CL);
    EXPECT_EQ(next_tcp_state(LA, kIn, kRst, false), LA);
    EXPECT_EQ(next_tcp_state(LA, kOut, kRst, false), CL);
}

TEST(ConnState, RstFromEitherSideCloses) {
    for (const S cur : {ES, FW, TW, CW}) {
        const S from_client = next_tcp_state(cur, kIn, kRstAck, false);
        EXPECT_EQ(from_client, CL) << to_string(cur);
        if (cur != TW) {
            EXPECT_EQ(next_tcp_state(cur, kOut, kRst, false), CL) << to_string(cur);
        }
        EXPECT_EQ(next_tcp_state(cur, kIn, kRst, true), CL) << to_string(cur);
    }
    // The kernel's exceptions: a server RST in TIME_WAIT stays TIME_WAIT, a
    // client RST in SYN_RECV stays SYN_RECV (blind-reset protection), and a
    // server RST in SYN_SENT stays SYN_SENT.
    EXPECT_EQ(next_tcp_state(TW, kOut, kRst, false), TW);
    EXPECT_EQ(next_tcp_state(SR, kIn, kRst, false), SR);
    EXPECT_EQ(next_tcp_state(SS, kOut, kRst, false), SS);
    // Server refuses the connection: RST answering the SYN.
    EXPECT_EQ(run(NO, false, {{kIn, kSyn}, {kOut, kRstAck}}), CL);
    EXPECT_EQ(state_timeout_ms(CL), 10'000u);
}

TEST(ConnState, InputOnlySequences) {
    // DR/TUN: the director never sees replies.
    S s = next_tcp_state(NO, kIn, kSyn, true);
    EXPECT_EQ(s, SR);
    s = next_tcp_state(s, kIn, kAck, true);
    EXPECT_EQ(s, ES);
    s = next_tcp_state(s, kIn, kFinAck, true);
    EXPECT_EQ(s, FW);  // INPUT would say close_wait
    s = next_tcp_state(s, kIn, kAck, true);
    EXPECT_EQ(s, FW);
    s = next_tcp_state(s, kIn, kFin, true);
    EXPECT_EQ(s, FW);
    s = next_tcp_state(s, kIn, kRst, true);
    EXPECT_EQ(s, CL);

    // Client RST right after the SYN keeps SYN_RECV, like INPUT.
    EXPECT_EQ(run(NO, true, {{kIn, kSyn}, {kIn, kRst}}), SR);
    // SYNACK closes on a client RST here, where INPUT keeps SYN_RECV.
    EXPECT_EQ(next_tcp_state(SA, kIn, kRst, true), CL);
    EXPECT_EQ(next_tcp_state(SA, kIn, kRst, false), SR);
    // A mid-stream ACK (no SYN seen) establishes, as in current kernels.
    EXPECT_EQ(next_tcp_state(NO, kIn, kAck, true), ES);
}

TEST(ConnState, InputOnlyThenFirstReplySwitchesToTwoWay) {
    // NAT connection before any reply: caller passes input_only until it
    // sees an output packet, then the INPUT section applies.
    S s = run(NO, true, {{kIn, kSyn}});
    EXPECT_EQ(s, SR);
    s = next_tcp_state(s, kOut, kSynAck, true);
    EXPECT_EQ(s, SR);
    s = run(s, false, {{kIn, kAck}, {kIn, kFinAck}});
    EXPECT_EQ(s, CW);
}

TEST(ConnState, Timeouts) {
    const std::array<std::pair<S, std::uint32_t>, kConnStateCount> want{{
        {NO, 2'000}, {ES, 900'000}, {SS, 120'000}, {SR, 60'000}, {FW, 120'000}, {TW, 120'000},
        {CL, 10'000}, {CW, 60'000}, {LA, 30'000}, {LI, 120'000}, {SA, 120'000}, {S::udp, 300'000},
        {S::dead, 0},
    }};
    for (const auto& [st, ms] : want) EXPECT_EQ(state_timeout_ms(st), ms) << to_string(st);
    EXPECT_EQ(state_timeout_ms(static_cast<S>(kConnStateCount)), 0u);
}

TEST(ConnState, EstablishedAndPreEstablishedAreActive) {
    for (std::uint8_t i = 0; i < kConnStateCount; ++i) {
        const auto st = static_cast<S>(i);
        const bool want = st == S::established || st == S::syn_sent || st == S::syn_recv || st == S::synack;
        EXPECT_EQ(state_is_active(st), want) << to_string(st);
    }
    EXPECT_FALSE(state_is_active(static_cast<S>(kConnStateCount)));
}

TEST(ConnState, IpvsadmNames) {
    const std::array<std::pair<S, const char*>, kConnStateCount> want{{
        {NO, "NONE"}, {ES, "ESTABLISHED"}, {SS, "SYN_SENT"}, {SR, "SYN_RECV"}, {FW, "FIN_WAIT"},
        {TW, "TIME_WAIT"}, {CL, "CLOSE"}, {CW, "CLOSE_WAIT"}, {LA, "LAST_ACK"}, {LI, "LISTEN"},
        {SA, "SYNACK"}, {S::udp, "UDP"}, {S::dead, "DEAD"},
    }};
    for (const auto& [st, name] : want) {
        EXPECT_STREQ(to_string(st), name) << static_cast<int>(st);
    }
    EXPECT_STREQ(to_string(static_cast<S>(kConnStateCount)), "ERR!");
    EXPECT_STREQ(to_string(static_cast<S>(255)), "ERR!");
}

}  // namespace
}  // namespace kadp::dp
