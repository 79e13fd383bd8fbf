// Runs on: any (unit test, no EAL). The service lookup, the VIP set and the
// long-lived counters registry; the test thread stands in for workers.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <vector>

#include "dataplane/publisher.h"
#include "dataplane/service_table.h"
#include "dataplane/snapshot.h"

namespace kadp::dp {
namespace {

std::uint32_t ip(const char* text) {
    in_addr a{};
    EXPECT_EQ(inet_pton(AF_INET, text, &a), 1) << text;
    return a.s_addr;  // network order
}

ServiceKey key(const char* vip, std::uint16_t port, std::uint8_t proto) {
    return ServiceKey::v4(ip(vip), htons(port), proto);
}

DestKey dest_key(const ServiceKey& svc, const char* addr, std::uint16_t port) {
    return DestKey{svc, {ip(addr), 0, 0, 0}, htons(port), kFamilyInet};
}

// A service with one dest per (address, weight), counters from `lease`.
std::unique_ptr<Service> make_service(StatsLease& lease, const ServiceKey& k,
                                      const std::vector<std::pair<const char*, std::int32_t>>& dests,
                                      const SchedState* prev = nullptr) {
    std::vector<Dest> ds;
    for (const auto& [addr, weight] : dests) {
        Dest d;
        d.addr = {ip(addr), 0, 0, 0};
        d.port = htons(8080);
        d.family = kFamilyInet;
        d.weight = weight;
        DestCounters& c = lease.dest(dest_key(k, addr, 8080));
        d.id = c.id;
        d.counters = &c;
        ds.push_back(d);
    }
    return std::make_unique<Service>(k, FwdMethod::nat, 0, std::move(ds), SchedAlgo::rr, &lease.service(k), prev);
}

// A grace clock under the test's control.
class ManualClock final : public GraceClock {
public:
    std::uint64_t start_grace() override { return ++started_; }
    bool grace_passed(std::uint64_t token) const override { return token <= passed_; }
    void pass_all() { passed_ = started_; }

private:
    std::uint64_t started_ = 0;
    std::uint64_t passed_ = 0;
};

TEST(ServiceTable, LookupHitsOnlyTheExactVipPortAndProtocol) {
    StatsRegistry reg(2);
    StatsLease lease(reg);
    std::vector<std::unique_ptr<Service>> v;
    v.push_back(make_service(lease, key("10.0.0.1", 80, IPPROTO_TCP), {{"192.168.1.1", 1}}));
    v.push_back(make_service(lease, key("10.0.0.1", 80, IPPROTO_UDP), {{"192.168.1.2", 1}}));
    v.push_back(make_service(lease, key("10.0.0.1", 443, IPPROTO_TCP), {{"192.168.1.3", 1}}));
    v.push_back(make_service(lease, key("10.0.0.2", 80, IPPROTO_TCP), {{"192.168.1.4", 1}}));
    const Service* tcp80 = v[0].get();
    const Service* udp80 = v[1].get();
    const Service* tcp443 = v[2].get();
    const Service* other_vip = v[3].get();
    const ServiceTable t(std::move(v));

    EXPECT_EQ(t.size(), 4u);
    EXPECT_EQ(t.find4(ip("10.0.0.1"), htons(80), IPPROTO_TCP), tcp80);
    EXPECT_EQ(t.find4(ip("10.0.0.1"), htons(80), IPPROTO_UDP), udp80);
    EXPECT_EQ(t.find4(ip("10.0.0.1"), htons(443), IPPROTO_TCP), tcp443);
    EXPECT_EQ(t.find4(ip("10.0.0.2"), htons(80), IPPROTO_TCP), other_vip);
    EXPECT_EQ(t.find4(ip("10.0.0.1"), htons(443), IPPROTO_UDP), nullptr);  // proto differs
    EXPECT_EQ(t.find4(ip("10.0.0.2"), htons(443), IPPROTO_TCP), nullptr);  // port differs
    EXPECT_EQ(t.find4(ip("10.0.0.3"), htons(80), IPPROTO_TCP), nullptr);   // vip differs
    EXPECT_EQ(t.find4(htonl(ntohl(ip("10.0.0.1"))), htons(8080), IPPROTO_TCP), nullptr);
    EXPECT_EQ(tcp80->dests()[0].addr[0], ip("192.168.1.1"));
}

TEST(ServiceTable, ManyServicesAllFoundAndNeighboursMissed) {
    StatsRegistry reg(1);
    StatsLease lease(reg);
    std::vector<std::unique_ptr<Service>> v;
    std::vector<const Service*> raw;
    for (std::uint32_t i = 0; i < 500; ++i) {
        const ServiceKey k = ServiceKey::v4(htonl(0x0a000000 + i), htons(static_cast<std::uint16_t>(1000 + i % 7)),
                                            IPPROTO_TCP);
        v.push_back(make_service(lease, k, {{"192.168.1.1", 1}}));
        raw.push_back(v.back().get());
    }
    const ServiceTable t(std::move(v));
    EXPECT_GE(t.capacity(), 2 * t.size());
    for (std::uint32_t i = 0; i < 500; ++i) {
        const std::uint16_t port = static_cast<std::uint16_t>(1000 + i % 7);
        EXPECT_EQ(t.find4(htonl(0x0a000000 + i), htons(port), IPPROTO_TCP), raw[i]) << i;
        EXPECT_EQ(t.find4(htonl(0x0a000000 + i), htons(port + 7), IPPROTO_TCP), nullptr) << i;
        EXPECT_EQ(t.find4(htonl(0x0a000000 + i), htons(port), IPPROTO_UDP), nullptr) << i;
    }
    EXPECT_EQ(t.find4(htonl(0x0a000000 + 500), htons(1000 + 500 % 7), IPPROTO_TCP), nullptr);
}

TEST(ServiceTable, PortZeroServiceCatchesOtherPortsOfItsVip) {
    StatsRegistry reg(1);
    StatsLease lease(reg);
    std::vector<std::unique_ptr<Service>> v;
    v.push_back(make_service(lease, key("10.0.0.1", 0, IPPROTO_TCP), {{"192.168.1.1", 1}}));
    v.push_back(make_service(lease, key("10.0.0.1", 80, IPPROTO_TCP), {{"192.168.1.2", 1}}));
    const Service* any = v[0].get();
    const Service* web = v[1].get();
    const ServiceTable t(std::move(v));
    EXPECT_EQ(t.find4(ip("10.0.0.1"), htons(80), IPPROTO_TCP), web);
    EXPECT_EQ(t.find4(ip("10.0.0.1"), htons(22), IPPROTO_TCP), any);
    EXPECT_EQ(t.find_exact(key("10.0.0.1", 22, IPPROTO_TCP)), nullptr);
    EXPECT_EQ(t.find4(ip("10.0.0.1"), htons(22), IPPROTO_UDP), nullptr);
    EXPECT_EQ(t.find4(ip("10.0.0.2"), htons(22), IPPROTO_TCP), nullptr);
}

TEST(ServiceTable, DuplicateKeysAreRejected) {
    StatsRegistry reg(1);
    StatsLease lease(reg);
    std::vector<std::unique_ptr<Service>> v;
    v.push_back(make_service(lease, key("10.0.0.1", 80, IPPROTO_TCP), {{"192.168.1.1", 1}}));
    v.push_back(make_service(lease, key("10.0.0.1", 80, IPPROTO_TCP), {{"192.168.1.2", 1}}));
    EXPECT_THROW(ServiceTable{std::move(v)}, std::invalid_argument);
}

TEST(ServiceTable, EmptyTableMissesEverything) {
    const ServiceTable t;
    EXPECT_EQ(t.find4(ip("10.0.0.1"), htons(80), IPPROTO_TCP), nullptr);
    const VipSet vips;
    EXPECT_FALSE(vips.contains4(ip("10.0.0.1")));
    EXPECT_FALSE(vips.contains4(0));
}

TEST(VipSet, MembershipOfServedAddressesOnly) {
    const std::vector<ServiceKey> keys = {key("10.0.0.1", 80, IPPROTO_TCP), key("10.0.0.1", 443, IPPROTO_TCP),
                                          key("10.0.0.2", 53, IPPROTO_UDP), key("172.16.5.9", 80, IPPROTO_TCP)};
    const VipSet vips(keys);
    EXPECT_EQ(vips.size(), 3u);  // 10.0.0.1 once
    EXPECT_TRUE(vips.contains4(ip("10.0.0.1")));
    EXPECT_TRUE(vips.contains4(ip("10.0.0.2")));
    EXPECT_TRUE(vips.contains4(ip("172.16.5.9")));
    EXPECT_FALSE(vips.contains4(ip("10.0.0.3")));
    EXPECT_FALSE(vips.contains4(ip("1.0.0.10")));  // byte-swapped 10.0.0.1
    EXPECT_FALSE(vips.contains(kFamilyInet6, {ip("10.0.0.1"), 0, 0, 0}));
}

TEST(Snapshot, ServesItsServicesAndTheirVips) {
    StatsRegistry reg(1);
    StatsLease lease(reg);
    std::vector<std::unique_ptr<Service>> v;
    v.push_back(make_service(lease, key("10.0.0.1", 80, IPPROTO_TCP), {{"192.168.1.1", 1}}));
    const Snapshot s(7, std::move(lease), ServiceTable(std::move(v)));
    EXPECT_EQ(s.generation(), 7u);
    ASSERT_NE(s.find4(ip("10.0.0.1"), htons(80), IPPROTO_TCP), nullptr);
    EXPECT_TRUE(s.serves_vip4(ip("10.0.0.1")));
    EXPECT_FALSE(s.serves_vip4(ip("10.0.0.9")));
}

// --- long-lived counters ------------------------------------------------------

TEST(StatsRegistry, SameIdentityIsTheSameObjectAcrossSnapshots) {
    StatsRegistry reg(4);
    const ServiceKey k = key("10.0.0.1", 80, IPPROTO_TCP);
    StatsLease first(reg);
    DestCounters& a = first.dest(dest_key(k, "192.168.1.1", 8080));
    ServiceCounters& s = first.service(k);
    a.traffic.slot(3).add_in(2, 3000);
    a.traffic.slot(0).add_out(1, 100);
    a.traffic.slot(1).add_conn();
    {
        StatsLease second(reg);
        EXPECT_EQ(&second.dest(dest_key(k, "192.168.1.1", 8080)), &a);
        EXPECT_EQ(&second.service(k), &s);
        EXPECT_NE(&second.dest(dest_key(k, "192.168.1.1", 8081)), &a);                               // port
        EXPECT_NE(&second.dest(dest_key(key("10.0.0.1", 81, IPPROTO_TCP), "192.168.1.1", 8080)), &a);  // service
    }
    const DestTotals t = sum_dest(a);
    EXPECT_EQ(t.traffic, (TrafficTotals{1, 2, 3000, 1, 100}));
    EXPECT_EQ(reg.dest(a.id), &a);
    EXPECT_EQ(reg.service(s.id), &s);
    EXPECT_EQ(reg.find_dest(dest_key(k, "192.168.1.1", 8080)), &a);
}

TEST(StatsRegistry, UnreferencedCountersFreedOnlyAfterTheGracePeriod) {
    StatsRegistry reg(1);
    ManualClock clock;
    const ServiceKey k = key("10.0.0.1", 80, IPPROTO_TCP);
    const DestKey kept = dest_key(k, "192.168.1.1", 8080);
    const DestKey removed = dest_key(k, "192.168.1.2", 8080);
    auto old_lease = std::make_unique<StatsLease>(reg);
    old_lease->service(k);
    old_lease->dest(kept);
    const std::uint32_t removed_id = old_lease->dest(removed).id;
    StatsLease new_lease(reg);  // the rebuild without `removed`
    new_lease.service(k);
    new_lease.dest(kept);

    EXPECT_EQ(reg.collect(clock), 0u);  // the old snapshot still holds it
    clock.pass_all();
    EXPECT_EQ(reg.collect(clock), 0u);
    ASSERT_NE(reg.dest(removed_id), nullptr);

    old_lease.reset();  // the old snapshot was reclaimed
    EXPECT_EQ(reg.collect(clock), 0u);  // unpublished, grace period started
    EXPECT_EQ(reg.dest(removed_id), nullptr);
    EXPECT_NE(reg.find_dest(removed), nullptr);
    EXPECT_EQ(reg.dest_count(), 2u);
    clock.pass_all();
    EXPECT_EQ(reg.collect(clock), 1u);
    EXPECT_EQ(reg.find_dest(removed), nullptr);
    EXPECT_NE(reg.find_dest(kept), nullptr);
    EXPECT_EQ(reg.dest_count(), 1u);
    EXPECT_EQ(reg.service_count(), 1u);
}

TEST(StatsRegistry, DestWithConnectionsOutlivesItsSnapshots) {
    StatsRegistry reg(1);
    ManualClock clock;
    const DestKey dk = dest_key(key("10.0.0.1", 80, IPPROTO_TCP), "192.168.1.1", 8080);
    auto lease = std::make_unique<StatsLease>(reg);
    DestCounters& d = lease->dest(dk);
    d.conns.active.store(1);
    lease.reset();
    clock.pass_all();
    EXPECT_EQ(reg.collect(clock), 0u);
    EXPECT_EQ(reg.dest(d.id), &d);  // a connection may still find it by id
    d.conns.active.store(0);
    EXPECT_EQ(reg.collect(clock), 0u);
    EXPECT_EQ(reg.dest(d.id), nullptr);
    clock.pass_all();
    EXPECT_EQ(reg.collect(clock), 1u);
    EXPECT_EQ(reg.find_dest(dk), nullptr);
}

TEST(StatsRegistry, ServiceCountersStayWhileADestOfItsStillHasConnections) {
    StatsRegistry reg(1);
    ManualClock clock;
    const ServiceKey k = key("10.0.0.1", 80, IPPROTO_TCP);
    auto lease = std::make_unique<StatsLease>(reg);
    ServiceCounters& s = lease->service(k);
    DestCounters& d = lease->dest(dest_key(k, "192.168.1.1", 8080));
    d.conns.inactive.store(1);  // a connection still counts on both ids
    lease.reset();               // a reload removed the service
    clock.pass_all();
    EXPECT_EQ(reg.collect(clock), 0u);
    clock.pass_all();
    EXPECT_EQ(reg.collect(clock), 0u);
    EXPECT_EQ(reg.service(s.id), &s);  // its id is not free for another service
    d.conns.inactive.store(0);
    EXPECT_EQ(reg.collect(clock), 0u);  // the dest starts dying
    clock.pass_all();
    EXPECT_EQ(reg.collect(clock), 1u);  // the dest goes
    EXPECT_EQ(reg.collect(clock), 0u);  // now the service starts dying
    clock.pass_all();
    EXPECT_EQ(reg.collect(clock), 1u);
    EXPECT_EQ(reg.service_count(), 0u);
}

TEST(StatsRegistry, DyingCountersComeBackWhenTheIdentityReturns) {
    StatsRegistry reg(1);
    ManualClock clock;
    const DestKey dk = dest_key(key("10.0.0.1", 80, IPPROTO_TCP), "192.168.1.1", 8080);
    auto lease = std::make_unique<StatsLease>(reg);
    DestCounters* d = &lease->dest(dk);
    d->traffic.slot(0).add_in(1, 60);
    lease.reset();
    reg.collect(clock);
    ASSERT_EQ(reg.dest(d->id), nullptr);
    StatsLease again(reg);
    EXPECT_EQ(&again.dest(dk), d);
    EXPECT_EQ(reg.dest(d->id), d);
    clock.pass_all();
    EXPECT_EQ(reg.collect(clock), 0u);
    EXPECT_EQ(sum_dest(*d).traffic.in_bytes, 60u);
}

TEST(StatsRegistry, IdsAreBoundedAndReusedAfterFree) {
    StatsRegistry reg(1, 2, 2);
    ManualClock clock;
    auto lease = std::make_unique<StatsLease>(reg);
    lease->service(key("10.0.0.1", 80, IPPROTO_TCP));
    lease->service(key("10.0.0.2", 80, IPPROTO_TCP));
    EXPECT_THROW(lease->service(key("10.0.0.3", 80, IPPROTO_TCP)), std::length_error);
    lease.reset();
    reg.collect(clock);
    clock.pass_all();
    EXPECT_EQ(reg.collect(clock), 2u);
    StatsLease next(reg);
    EXPECT_LT(next.service(key("10.0.0.3", 80, IPPROTO_TCP)).id, 2u);
}

TEST(StatsRegistry, PublisherGracePeriodWaitsForRegisteredWorkers) {
    StatsRegistry reg(2);
    SnapshotPublisher pub(2, 4);
    pub.register_worker(0);
    const DestKey dk = dest_key(key("10.0.0.1", 80, IPPROTO_TCP), "192.168.1.1", 8080);
    auto lease = std::make_unique<StatsLease>(reg);
    lease->dest(dk);
    lease.reset();
    EXPECT_EQ(reg.collect(pub), 0u);
    EXPECT_EQ(reg.collect(pub), 0u);  // worker 0 has not reported
    EXPECT_NE(reg.find_dest(dk), nullptr);
    pub.quiescent(0);
    EXPECT_EQ(reg.collect(pub), 1u);
    pub.unregister_worker(0);
}

TEST(TrafficCounters, PerWorkerSlotsSumUp) {
    ServiceCounters c(0, 3);
    for (std::uint32_t w = 0; w < 3; ++w) {
        c.traffic.slot(w).add_conn();
        c.traffic.slot(w).add_in(w + 1, 100 * (w + 1));
    }
    c.traffic.slot(2).add_out(5, 500);
    EXPECT_EQ(sum_service(c), (TrafficTotals{3, 6, 600, 5, 500}));
    EXPECT_NE(&c.traffic.slot(0), &c.traffic.slot(1));
}

}  // namespace
}  // namespace kadp::dp
