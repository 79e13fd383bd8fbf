// Runs on: any (unit test). FragTable on its own: fake mbuf pointers (the
// table never dereferences them), a hand-driven clock.
#include <gtest/gtest.h>

#include <cstdint>
#include <set>

#include "dataplane/frag_table.h"

namespace kadp::dp {
namespace {

rte_mbuf* fake(std::uintptr_t n) { return reinterpret_cast<rte_mbuf*>(0x1000 + n * 64); }
FragKey key(std::uint16_t id, std::uint32_t saddr = 0x010112c6) { return FragKey{saddr, 0x640012c6, id, 17}; }
FragRewrite nat_in(std::uint32_t addr)
{
    FragRewrite rw;
    rw.addr = addr;
    rw.route_to = addr;
    rw.end = FragEnd::destination;
    return rw;
}

TEST(FragTable, AResolvedDatagramIsFoundUntilItsBytesAreAllSeen)
{
    FragTable t(64, 2000, 16);
    FragSpill sp;
    ASSERT_NE(t.resolve(key(1), nat_in(7), 24, 100, sp), nullptr);
    EXPECT_EQ(t.in_use(), 1U);
    FragEntry* e = t.find(key(1), 101);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->rw.addr, 7U);
    EXPECT_EQ(t.find(key(2), 101), nullptr);
    EXPECT_EQ(t.account(*e, 24, 16, true), FragAccount::more);
    EXPECT_EQ(t.account(*e, 40, 8, false), FragAccount::complete);  // 24 + 16 + 8 = 48 = the end
    EXPECT_EQ(t.in_use(), 0U);
    EXPECT_EQ(t.find(key(1), 102), nullptr);
}

TEST(FragTable, ContradictionsAreInconsistent)
{
    FragTable t(64, 2000, 16);
    FragSpill sp;
    FragEntry* e = t.resolve(key(1), nat_in(7), 24, 0, sp);
    EXPECT_EQ(t.account(*e, 64, 8, false), FragAccount::more);          // the end is 72; 32 bytes seen
    EXPECT_EQ(t.account(*e, 72, 8, true), FragAccount::inconsistent);   // beyond the end
    EXPECT_EQ(t.account(*e, 40, 8, false), FragAccount::inconsistent);  // another last fragment
    // More bytes than any datagram holds.
    for (int i = 0; i < 3; ++i) EXPECT_EQ(t.account(*e, 24, 8, true), FragAccount::more);
    FragTable u(64, 2000, 16);
    FragEntry* f = u.resolve(key(2), nat_in(7), 1480, 0, sp);
    FragAccount last = FragAccount::more;
    for (int i = 0; i < 60 && last == FragAccount::more; ++i) last = u.account(*f, 8, 1480, true);  // the same bytes again
    EXPECT_EQ(last, FragAccount::inconsistent);
}

TEST(FragTable, HeldFragmentsAreReleasedByTheirFirst)
{
    FragTable t(64, 2000, 16);
    FragSpill sp;
    EXPECT_EQ(t.hold(key(1), fake(1), 0, sp), FragHold::held);
    EXPECT_EQ(t.hold(key(1), fake(2), 0, sp), FragHold::held);
    EXPECT_EQ(t.find(key(1), 0), nullptr) << "a pending entry is not a hit";
    EXPECT_EQ(t.held(), 2U);
    FragSpill rel;
    ASSERT_NE(t.resolve(key(1), nat_in(7), 24, 1, rel), nullptr);
    ASSERT_EQ(rel.n_released, 2U);
    EXPECT_EQ(rel.released[0], fake(1));
    EXPECT_EQ(rel.released[1], fake(2));
    EXPECT_EQ(t.held(), 0U);
    EXPECT_EQ(t.in_use(), 1U);
    EXPECT_NE(t.find(key(1), 1), nullptr);
}

TEST(FragTable, HoldingIsBoundedPerDatagramAndPerTable)
{
    FragTable t(64, 2000, 6);
    FragSpill sp;
    for (std::uintptr_t i = 0; i < FragEntry::kHoldPerEntry; ++i) EXPECT_EQ(t.hold(key(1), fake(i), 0, sp), FragHold::held);
    EXPECT_EQ(t.hold(key(1), fake(9), 0, sp), FragHold::entry_full);
    EXPECT_EQ(t.hold(key(2), fake(10), 0, sp), FragHold::held);
    EXPECT_EQ(t.hold(key(3), fake(11), 0, sp), FragHold::held);
    EXPECT_EQ(t.hold(key(4), fake(12), 0, sp), FragHold::limit);
    EXPECT_EQ(t.held(), 6U);
}

TEST(FragTable, EntriesExpireAndTheSweepFreesTheirHeldMbufs)
{
    FragTable t(64, 2000, 16);
    FragSpill sp;
    t.resolve(key(1), nat_in(7), 24, 0, sp);
    t.hold(key(2), fake(1), 0, sp);
    t.hold(key(2), fake(2), 0, sp);
    EXPECT_NE(t.find(key(1), 1999), nullptr);
    EXPECT_EQ(t.find(key(1), 2000), nullptr) << "expired: not found any more";
    FragSpill ex;
    t.expire_step(2000, 64, ex);
    EXPECT_EQ(ex.expired, 2U);
    ASSERT_EQ(ex.n_dropped, 2U);
    EXPECT_EQ(std::set<rte_mbuf*>(ex.dropped, ex.dropped + 2), (std::set<rte_mbuf*>{fake(1), fake(2)}));
    EXPECT_EQ(t.in_use(), 0U);
    EXPECT_EQ(t.held(), 0U);
}

TEST(FragTable, AFullSetEvictsPendingBeforeResolvedAndTheTableStaysBounded)
{
    // 4 entries: one set of 4 ways, every key competes for it.
    FragTable t(4, 2000, 64);
    FragSpill sp;
    for (std::uint16_t id = 0; id < 3; ++id) t.resolve(key(id), nat_in(id), 8, id, sp);
    t.hold(key(100), fake(1), 10, sp);
    EXPECT_EQ(t.in_use(), 4U);
    FragSpill ev;
    t.resolve(key(200), nat_in(9), 8, 20, ev);  // the pending one goes first
    EXPECT_EQ(ev.evicted, 1U);
    ASSERT_EQ(ev.n_dropped, 1U);
    EXPECT_EQ(ev.dropped[0], fake(1));
    for (std::uint16_t id = 0; id < 3; ++id) EXPECT_NE(t.find(key(id), 21), nullptr);
    FragSpill ev2;
    t.resolve(key(300), nat_in(9), 8, 30, ev2);  // then the one expiring first: id 0
    EXPECT_EQ(ev2.evicted, 1U);
    EXPECT_EQ(t.find(key(0), 31), nullptr);
    EXPECT_NE(t.find(key(1), 31), nullptr);
    // An endless stream of new datagrams never grows it.
    for (std::uint16_t id = 1000; id < 3000; ++id) {
        FragSpill s;
        t.hold(key(id), fake(id), 40, s);
        t.resolve(key(id), nat_in(1), 8, 40, s);
    }
    EXPECT_EQ(t.in_use(), 4U);
    EXPECT_EQ(t.held(), 0U);
}

}  // namespace
}  // namespace kadp::dp
