// Runs on: control thread. Cross checks of the LVS sections, after
// resolve_lvs. What keepalived drops with a message is dropped here with a
// warning; what would make kadp run a service wrongly is an error.
#include <algorithm>
#include <tuple>

#include "conf/lvs_internal.h"

namespace kadp::conf {
namespace {

// keepalived ignores, at start-up, a virtual server naming a group that
// does not exist (or that it removed).
void drop_unknown_groups(Config& config, ParseContext& ctx)
{
    std::erase_if(config.virtual_servers, [&](const VirtualServer& vs) {
        if (vs.kind != VirtualServer::Kind::group) return false;
        bool found = std::any_of(config.virtual_server_groups.begin(), config.virtual_server_groups.end(),
                                 [&](const VirtualServerGroup& g) { return g.name == vs.group; });
        if (!found)
            ctx.diags.warning(vs.loc, "Virtual server group " + vs.group +
                                          " specified but not configured - ignoring virtual server");
        return !found;
    });
}

void check_duplicate_groups(const Config& config, ParseContext& ctx)
{
    const auto& groups = config.virtual_server_groups;
    for (std::size_t i = 0; i < groups.size(); ++i) {
        for (std::size_t j = 0; j < i; ++j) {
            if (groups[j].name != groups[i].name) continue;
            ctx.diags.error(groups[i].loc, "virtual_server_group " + groups[i].name + " is defined twice (first at line " +
                                               std::to_string(groups[j].loc.line) + ")");
            break;
        }
    }
}

auto service_key(const VirtualServer& vs)
{
    // fwmark services have no protocol of their own.
    Protocol p = vs.kind == VirtualServer::Kind::fwmark ? Protocol::tcp : vs.protocol;
    return std::tuple(vs.kind, vs.address, vs.port, vs.fwmark, vs.group, p);
}

// keepalived -t is silent, but the second definition then fights the first
// for the same IPVS service: kadp refuses it.
void check_duplicate_services(const Config& config, ParseContext& ctx)
{
    const auto& all = config.virtual_servers;
    for (std::size_t i = 0; i < all.size(); ++i) {
        for (std::size_t j = 0; j < i; ++j) {
            if (service_key(all[j]) != service_key(all[i])) continue;
            ctx.diags.error(all[i].loc, "duplicate virtual server " + describe(all[i]) + " " +
                                            (all[i].kind == VirtualServer::Kind::fwmark ? "" : to_string(all[i].protocol)) +
                                            " (first defined at line " + std::to_string(all[j].loc.line) + ")");
            break;
        }
    }
}

void drop_duplicate_real_servers(VirtualServer& vs, ParseContext& ctx)
{
    auto& list = vs.real_servers;
    for (std::size_t i = 1; i < list.size();) {
        bool dup = std::any_of(list.begin(), list.begin() + static_cast<std::ptrdiff_t>(i), [&](const RealServer& r) {
            return r.address == list[i].address && r.port == list[i].port;
        });
        if (!dup) {
            ++i;
            continue;
        }
        ctx.diags.warning(list[i].loc, "VS " + describe(vs) + ": real server " +
                                           describe(list[i].address, list[i].port) +
                                           " is duplicated - removing second rs");
        list.erase(list.begin() + static_cast<std::ptrdiff_t>(i));
    }
}

void check_sorry_inhibit(VirtualServer& vs, ParseContext& ctx)
{
    if (!vs.sorry_server) return;
    for (const auto& rs : vs.real_servers) {
        if (rs.address != vs.sorry_server->address || rs.port != vs.sorry_server->port) continue;
        if (rs.inhibit_on_failure.value == vs.sorry_server_inhibit) continue;
        ctx.diags.warning(rs.loc, "virtual server " + describe(vs) + ": real server " + describe(rs.address, rs.port) +
                                      " matches sorry server, but inhibit setting differs, " +
                                      (rs.inhibit_on_failure.value ? "setting" : "clearing") + " on sorry server");
        vs.sorry_server_inhibit = rs.inhibit_on_failure.value;
    }
}

// Quorum cannot exceed what the real servers can reach, and the hysteresis
// must leave a band below the quorum.
void check_quorum(VirtualServer& vs, ParseContext& ctx)
{
    long long total = 0;
    for (const auto& rs : vs.real_servers) total += rs.weight;
    if (vs.real_servers.empty()) return;
    if (vs.quorum > total) {
        ctx.diags.warning(vs.loc, "quorum " + std::to_string(vs.quorum) + " for " + describe(vs) +
                                      " exceeds total weight of real servers " + std::to_string(total) +
                                      ", reducing quorum to " + std::to_string(total));
        vs.quorum = static_cast<int>(total);
    }
    if (vs.hysteresis >= vs.quorum && vs.hysteresis > 0) {
        int h = vs.quorum > 0 ? vs.quorum - 1 : 0;
        ctx.diags.warning(vs.loc, "virtual server " + describe(vs) + ": hysteresis " + std::to_string(vs.hysteresis) +
                                      " >= quorum " + std::to_string(vs.quorum) + "; setting hysteresis to " +
                                      std::to_string(h));
        vs.hysteresis = h;
    }
}

}  // namespace

void validate_lvs(Config& config, ParseContext& ctx)
{
    check_duplicate_groups(config, ctx);
    drop_unknown_groups(config, ctx);
    check_duplicate_services(config, ctx);
    for (auto& vs : config.virtual_servers) {
        drop_duplicate_real_servers(vs, ctx);
        check_sorry_inhibit(vs, ctx);
        check_quorum(vs, ctx);
    }
    // keepalived sets up no service without real servers (a sorry server alone is not enough).
    std::erase_if(config.virtual_servers, [&](const VirtualServer& vs) {
        if (!vs.real_servers.empty()) return false;
        ctx.diags.warning(vs.loc, "Virtual server " + describe(vs) + " has no real servers - ignoring");
        return true;
    });
}

}  // namespace kadp::conf
