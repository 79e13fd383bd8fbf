// Runs on: control thread.
#include "control/kernel/ipvs_netlink.h"

#include <arpa/inet.h>
#include <linux/ip_vs.h>
#include <netinet/in.h>
#include <netlink/attr.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <functional>

#include "control/desired_services.h"

namespace kadp::ctl {
namespace {

struct MsgFree {
    void operator()(nl_msg* m) const { nlmsg_free(m); }
};
using Msg = std::unique_ptr<nl_msg, MsgFree>;
struct CbFree {
    void operator()(nl_cb* c) const { nl_cb_put(c); }
};
using Cb = std::unique_ptr<nl_cb, CbFree>;

// Attributes of one reply message, by top-level type.
using Attrs = nlattr* [IPVS_CMD_ATTR_MAX + 1];

int af_of(conf::IpAddr::Family f) { return f == conf::IpAddr::Family::v6 ? AF_INET6 : AF_INET; }

conf::IpAddr::Family family_of(int af) {
    return af == AF_INET6 ? conf::IpAddr::Family::v6 : conf::IpAddr::Family::v4;
}

int ipproto_of(conf::Protocol p) {
    switch (p) {
    case conf::Protocol::tcp: return IPPROTO_TCP;
    case conf::Protocol::udp: return IPPROTO_UDP;
    case conf::Protocol::sctp: return IPPROTO_SCTP;
    }
    return IPPROTO_TCP;
}

std::uint32_t fwd_of(conf::LbKind k) {
    switch (k) {
    case conf::LbKind::nat: return IP_VS_CONN_F_MASQ;
    case conf::LbKind::dr: return IP_VS_CONN_F_DROUTE;
    case conf::LbKind::tun: return IP_VS_CONN_F_TUNNEL;
    }
    return IP_VS_CONN_F_MASQ;
}

// Local (the kernel's own address behind NAT) reads back as NAT: that is
// what was asked for.
conf::LbKind kind_of(std::uint32_t fwd) {
    switch (fwd & IP_VS_CONN_F_FWD_MASK) {
    case IP_VS_CONN_F_DROUTE: return conf::LbKind::dr;
    case IP_VS_CONN_F_TUNNEL: return conf::LbKind::tun;
    default: return conf::LbKind::nat;
    }
}

std::uint8_t tun_type_of(const std::string& t) {
    if (t == "gue") return IP_VS_CONN_F_TUNNEL_TYPE_GUE;
    if (t == "gre") return IP_VS_CONN_F_TUNNEL_TYPE_GRE;
    return IP_VS_CONN_F_TUNNEL_TYPE_IPIP;
}

std::uint16_t tun_flags_of(const std::string& c) {
    if (c == "csum") return IP_VS_TUNNEL_ENCAP_FLAG_CSUM;
    if (c == "remcsum") return IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM;
    return IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM;
}

// nla_put_* fail only when the message is full: a bug, not a kernel answer.
void check_put(int r) {
    if (r < 0) throw IpvsError(std::string("cannot build an IPVS request: ") + nl_geterror(r), 0);
}

void put_addr(nl_msg* m, int type, const conf::IpAddr& a) {
    // The kernel copies a union nf_inet_addr: 16 bytes, IPv4 in the first 4.
    check_put(nla_put(m, type, 16, a.bytes.data()));
}

conf::IpAddr get_addr(const nlattr* attr, int af) {
    conf::IpAddr a;
    a.family = family_of(af);
    if (attr != nullptr) {
        const auto n = std::min<std::size_t>(static_cast<std::size_t>(nla_len(attr)), a.is_v4() ? 4 : 16);
        std::memcpy(a.bytes.data(), nla_data(attr), n);
    }
    return a;
}

std::uint32_t u32_or(nlattr* a, std::uint32_t otherwise = 0) { return a != nullptr ? nla_get_u32(a) : otherwise; }
std::uint16_t u16_or(nlattr* a, std::uint16_t otherwise = 0) { return a != nullptr ? nla_get_u16(a) : otherwise; }

// STATS64 where the kernel has it (every u64), else STATS (u32 except bytes).
IpvsStats get_stats(nlattr* stats64, nlattr* stats32) {
    IpvsStats s;
    nlattr* t[IPVS_STATS_ATTR_MAX + 1] = {};
    const bool wide = stats64 != nullptr;
    nlattr* nest = wide ? stats64 : stats32;
    if (nest == nullptr || nla_parse_nested(t, IPVS_STATS_ATTR_MAX, nest, nullptr) < 0) return s;
    auto get = [&](int type, bool bytes) -> std::uint64_t {
        if (t[type] == nullptr) return 0;
        return wide || bytes ? nla_get_u64(t[type]) : nla_get_u32(t[type]);
    };
    s.conns = get(IPVS_STATS_ATTR_CONNS, false);
    s.in_packets = get(IPVS_STATS_ATTR_INPKTS, false);
    s.out_packets = get(IPVS_STATS_ATTR_OUTPKTS, false);
    s.in_bytes = get(IPVS_STATS_ATTR_INBYTES, true);
    s.out_bytes = get(IPVS_STATS_ATTR_OUTBYTES, true);
    s.cps = get(IPVS_STATS_ATTR_CPS, false);
    s.in_pps = get(IPVS_STATS_ATTR_INPPS, false);
    s.out_pps = get(IPVS_STATS_ATTR_OUTPPS, false);
    s.in_bps = get(IPVS_STATS_ATTR_INBPS, false);
    s.out_bps = get(IPVS_STATS_ATTR_OUTBPS, false);
    return s;
}

// The identity attributes of a service, and with `full` its settings.
void put_service(nl_msg* m, const IpvsService& s, bool full) {
    nlattr* nest = nla_nest_start(m, IPVS_CMD_ATTR_SERVICE);
    if (nest == nullptr) check_put(-NLE_NOMEM);
    check_put(nla_put_u16(m, IPVS_SVC_ATTR_AF, static_cast<std::uint16_t>(af_of(s.family))));
    if (s.fwmark != 0) {
        check_put(nla_put_u32(m, IPVS_SVC_ATTR_FWMARK, s.fwmark));
    } else {
        check_put(nla_put_u16(m, IPVS_SVC_ATTR_PROTOCOL, static_cast<std::uint16_t>(ipproto_of(s.protocol))));
        put_addr(m, IPVS_SVC_ATTR_ADDR, s.address);
        check_put(nla_put_u16(m, IPVS_SVC_ATTR_PORT, htons(s.port)));
    }
    if (full) {
        check_put(nla_put_string(m, IPVS_SVC_ATTR_SCHED_NAME, s.scheduler.c_str()));
        if (!s.persistence_engine.empty()) {
            check_put(nla_put_string(m, IPVS_SVC_ATTR_PE_NAME, s.persistence_engine.c_str()));
        }
        ip_vs_flags flags{};
        flags.flags = scheduler_flag_bits(s.scheduler_flags);
        if (s.persistence_timeout != 0) flags.flags |= IP_VS_SVC_F_PERSISTENT;
        if (s.one_packet) flags.flags |= IP_VS_SVC_F_ONEPACKET;
        flags.mask = ~0u;
        check_put(nla_put(m, IPVS_SVC_ATTR_FLAGS, sizeof flags, &flags));
        check_put(nla_put_u32(m, IPVS_SVC_ATTR_TIMEOUT, s.persistence_timeout));
        check_put(nla_put_u32(m, IPVS_SVC_ATTR_NETMASK,
                              s.family == conf::IpAddr::Family::v6 ? s.persistence_prefix_v6
                                                                   : htonl(s.persistence_netmask_v4)));
    }
    nla_nest_end(m, nest);
}

void put_dest(nl_msg* m, const IpvsDest& d, bool full) {
    nlattr* nest = nla_nest_start(m, IPVS_CMD_ATTR_DEST);
    if (nest == nullptr) check_put(-NLE_NOMEM);
    put_addr(m, IPVS_DEST_ATTR_ADDR, d.address);
    check_put(nla_put_u16(m, IPVS_DEST_ATTR_PORT, htons(d.port)));
    check_put(nla_put_u16(m, IPVS_DEST_ATTR_ADDR_FAMILY, static_cast<std::uint16_t>(af_of(d.address.family))));
    if (full) {
        check_put(nla_put_u32(m, IPVS_DEST_ATTR_FWD_METHOD, fwd_of(d.forward)));
        check_put(nla_put_u32(m, IPVS_DEST_ATTR_WEIGHT, static_cast<std::uint32_t>(d.weight < 0 ? 0 : d.weight)));
        check_put(nla_put_u32(m, IPVS_DEST_ATTR_U_THRESH, d.upper_threshold));
        check_put(nla_put_u32(m, IPVS_DEST_ATTR_L_THRESH, d.lower_threshold));
        // Only when asked: kernels before 5.2 know no tunnel attributes.
        if (d.forward == conf::LbKind::tun && (d.tunnel.type != "ipip" || !d.tunnel.checksum.empty())) {
            check_put(nla_put_u8(m, IPVS_DEST_ATTR_TUN_TYPE, tun_type_of(d.tunnel.type)));
            check_put(nla_put_u16(m, IPVS_DEST_ATTR_TUN_PORT, htons(d.tunnel.port)));
            check_put(nla_put_u16(m, IPVS_DEST_ATTR_TUN_FLAGS, tun_flags_of(d.tunnel.checksum)));
        }
    }
    nla_nest_end(m, nest);
}

// What an operator reads after "cannot OP: strerror": the usual cause.
std::string hint(const IpvsOp& op, int error) {
    const bool service_op = op.kind == IpvsOp::Kind::add_service || op.kind == IpvsOp::Kind::edit_service;
    switch (error) {
    case ENOENT:
        if (service_op) {
            return "is ip_vs_" + op.service.scheduler + " loaded?" +
                   (op.service.persistence_engine.empty()
                        ? std::string()
                        : " (and ip_vs_pe_" + op.service.persistence_engine + " for the persistence engine)");
        }
        break;
    case EEXIST: return "it is already there (added behind kadp's back?)";
    case ESRCH: return "the kernel has no such entry (removed behind kadp's back?)";
    case EPERM: return "kadp needs CAP_NET_ADMIN";
    case EOPNOTSUPP: return "this kernel does not support that setting (tunnel type?)";
    default: break;
    }
    return {};
}

// The settings that explain a refusal, after the operation's name.
std::string details(const IpvsOp& op) {
    switch (op.kind) {
    case IpvsOp::Kind::add_service:
    case IpvsOp::Kind::edit_service:
        return " (scheduler '" + op.service.scheduler + "'" +
               (op.service.persistence_engine.empty() ? "" : ", persistence engine '" + op.service.persistence_engine + "'") +
               ")";
    case IpvsOp::Kind::add_dest:
    case IpvsOp::Kind::edit_dest:
        return std::string(" (") + conf::to_string(op.dest.forward) + ", weight " + std::to_string(op.dest.weight) + ")";
    default: return {};
    }
}

}  // namespace

// One request and what its replies feed.
struct IpvsNetlink::Request {
    Msg msg;
    std::function<void(Attrs&)> on_reply;  // each valid reply message
    int error = 0;                          // the kernel's errno
    int nl_error = 0;                       // libnl's own failure
    bool done = false;
};

void IpvsNetlink::SockFree::operator()(nl_sock* s) const { nl_socket_free(s); }

IpvsNetlink::IpvsNetlink() : sock_(nl_socket_alloc()) {
    if (!sock_) throw IpvsError("cannot allocate a netlink socket", ENOMEM);
    if (const int r = genl_connect(sock_.get()); r < 0) {
        throw IpvsError(std::string("cannot open a generic netlink socket: ") + nl_geterror(r), 0);
    }
    family_ = genl_ctrl_resolve(sock_.get(), IPVS_GENL_NAME);
    if (family_ == -NLE_OBJ_NOTFOUND) {
        throw IpvsMissing("the kernel has no IPVS (generic netlink family \"IPVS\" not found): "
                          "load it with 'modprobe ip_vs', or use --backend dpdk",
                          ENOENT);
    }
    if (family_ < 0) throw IpvsError(std::string("cannot look up IPVS over netlink: ") + nl_geterror(family_), 0);
}

IpvsNetlink::~IpvsNetlink() = default;

void IpvsNetlink::transact(Request& r) {
    Cb cb(nl_cb_alloc(NL_CB_DEFAULT));
    if (!cb) throw IpvsError("cannot allocate a netlink callback", ENOMEM);
    nl_cb_set(
        cb.get(), NL_CB_VALID, NL_CB_CUSTOM,
        [](nl_msg* m, void* arg) -> int {
            auto* req = static_cast<Request*>(arg);
            Attrs attrs = {};
            if (genlmsg_parse(nlmsg_hdr(m), 0, attrs, IPVS_CMD_ATTR_MAX, nullptr) == 0 && req->on_reply) {
                req->on_reply(attrs);
            }
            return NL_OK;
        },
        &r);
    nl_cb_set(
        cb.get(), NL_CB_FINISH, NL_CB_CUSTOM,
        [](nl_msg*, void* arg) -> int {
            static_cast<Request*>(arg)->done = true;
            return NL_STOP;
        },
        &r);
    nl_cb_set(
        cb.get(), NL_CB_ACK, NL_CB_CUSTOM,
        [](nl_msg*, void* arg) -> int {
            static_cast<Request*>(arg)->done = true;
            return NL_STOP;
        },
        &r);
    nl_cb_err(
        cb.get(), NL_CB_CUSTOM,
        [](sockaddr_nl*, nlmsgerr* e, void* arg) -> int {
            auto* req = static_cast<Request*>(arg);
            req->error = -e->error;
            req->done = true;
            return NL_STOP;
        },
        &r);
    if (const int sent = nl_send_auto(sock_.get(), r.msg.get()); sent < 0) {
        r.nl_error = sent;
        return;
    }
    while (!r.done) {
        const int got = nl_recvmsgs(sock_.get(), cb.get());
        if (got < 0 && r.error == 0) {
            r.nl_error = got;
            return;
        }
        if (got < 0) return;
    }
}

namespace {

// The request for `cmd`, asking for an acknowledgement (or, `dump`, every entry).
Msg new_request(int family, std::uint8_t cmd, bool dump) {
    Msg m(nlmsg_alloc());
    if (!m) throw IpvsError("cannot allocate a netlink message", ENOMEM);
    if (genlmsg_put(m.get(), NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, dump ? NLM_F_DUMP : NLM_F_ACK, cmd,
                    IPVS_GENL_VERSION) == nullptr) {
        throw IpvsError("cannot build an IPVS request", ENOMEM);
    }
    return m;
}

// "No such file or directory", or libnl's message when the kernel said nothing.
std::string reason(int error, int nl_error) {
    return error != 0 ? std::strerror(error) : nl_geterror(nl_error);
}

}  // namespace

std::vector<IpvsService> IpvsNetlink::services() {
    std::vector<IpvsService> out;
    Request r{new_request(family_, IPVS_CMD_GET_SERVICE, true), {}, 0, 0, false};
    r.on_reply = [&out](Attrs& a) {
        nlattr* t[IPVS_SVC_ATTR_MAX + 1] = {};
        if (a[IPVS_CMD_ATTR_SERVICE] == nullptr ||
            nla_parse_nested(t, IPVS_SVC_ATTR_MAX, a[IPVS_CMD_ATTR_SERVICE], nullptr) < 0) {
            return;
        }
        IpvsService s;
        const int af = u16_or(t[IPVS_SVC_ATTR_AF], AF_INET);
        s.family = family_of(af);
        s.fwmark = u32_or(t[IPVS_SVC_ATTR_FWMARK]);
        if (s.fwmark == 0) {
            switch (u16_or(t[IPVS_SVC_ATTR_PROTOCOL])) {
            case IPPROTO_TCP: s.protocol = conf::Protocol::tcp; break;
            case IPPROTO_UDP: s.protocol = conf::Protocol::udp; break;
            case IPPROTO_SCTP: s.protocol = conf::Protocol::sctp; break;
            default: return;  // AH/ESP: not kadp's vocabulary
            }
            s.address = get_addr(t[IPVS_SVC_ATTR_ADDR], af);
            s.port = ntohs(u16_or(t[IPVS_SVC_ATTR_PORT]));
        }
        s.scheduler = t[IPVS_SVC_ATTR_SCHED_NAME] != nullptr ? nla_get_string(t[IPVS_SVC_ATTR_SCHED_NAME]) : "";
        s.persistence_engine = t[IPVS_SVC_ATTR_PE_NAME] != nullptr ? nla_get_string(t[IPVS_SVC_ATTR_PE_NAME]) : "";
        ip_vs_flags flags{};
        if (t[IPVS_SVC_ATTR_FLAGS] != nullptr && nla_len(t[IPVS_SVC_ATTR_FLAGS]) >= static_cast<int>(sizeof flags)) {
            std::memcpy(&flags, nla_data(t[IPVS_SVC_ATTR_FLAGS]), sizeof flags);
        }
        s.one_packet = (flags.flags & IP_VS_SVC_F_ONEPACKET) != 0;
        s.scheduler_flags = scheduler_flag_names(s.scheduler, flags.flags);
        if ((flags.flags & IP_VS_SVC_F_PERSISTENT) != 0) s.persistence_timeout = u32_or(t[IPVS_SVC_ATTR_TIMEOUT]);
        const std::uint32_t mask = u32_or(t[IPVS_SVC_ATTR_NETMASK]);
        if (s.family == conf::IpAddr::Family::v6) {
            s.persistence_prefix_v6 = static_cast<std::uint8_t>(mask);
        } else {
            s.persistence_netmask_v4 = ntohl(mask);
        }
        s.stats = get_stats(t[IPVS_SVC_ATTR_STATS64], t[IPVS_SVC_ATTR_STATS]);
        out.push_back(std::move(s));
    };
    transact(r);
    if (r.error != 0 || r.nl_error != 0) {
        throw IpvsError("cannot list the IPVS services: " + reason(r.error, r.nl_error), r.error);
    }
    for (IpvsService& s : out) s.dests = dests(s);
    return out;
}

std::vector<IpvsDest> IpvsNetlink::dests(const IpvsService& s) {
    std::vector<IpvsDest> out;
    Request r{new_request(family_, IPVS_CMD_GET_DEST, true), {}, 0, 0, false};
    put_service(r.msg.get(), s, false);
    r.on_reply = [&out, &s](Attrs& a) {
        nlattr* t[IPVS_DEST_ATTR_MAX + 1] = {};
        if (a[IPVS_CMD_ATTR_DEST] == nullptr ||
            nla_parse_nested(t, IPVS_DEST_ATTR_MAX, a[IPVS_CMD_ATTR_DEST], nullptr) < 0) {
            return;
        }
        IpvsDest d;
        const int af = u16_or(t[IPVS_DEST_ATTR_ADDR_FAMILY], static_cast<std::uint16_t>(af_of(s.family)));
        d.address = get_addr(t[IPVS_DEST_ATTR_ADDR], af);
        d.port = ntohs(u16_or(t[IPVS_DEST_ATTR_PORT]));
        d.forward = kind_of(u32_or(t[IPVS_DEST_ATTR_FWD_METHOD]));
        d.weight = static_cast<int>(u32_or(t[IPVS_DEST_ATTR_WEIGHT]));
        d.upper_threshold = u32_or(t[IPVS_DEST_ATTR_U_THRESH]);
        d.lower_threshold = u32_or(t[IPVS_DEST_ATTR_L_THRESH]);
        d.active_conns = u32_or(t[IPVS_DEST_ATTR_ACTIVE_CONNS]);
        d.inactive_conns = u32_or(t[IPVS_DEST_ATTR_INACT_CONNS]);
        d.persist_conns = u32_or(t[IPVS_DEST_ATTR_PERSIST_CONNS]);
        if (d.forward == conf::LbKind::tun) {
            const std::uint8_t type = t[IPVS_DEST_ATTR_TUN_TYPE] != nullptr ? nla_get_u8(t[IPVS_DEST_ATTR_TUN_TYPE]) : 0;
            d.tunnel.type = type == IP_VS_CONN_F_TUNNEL_TYPE_GUE   ? "gue"
                            : type == IP_VS_CONN_F_TUNNEL_TYPE_GRE ? "gre"
                                                                   : "ipip";
            d.tunnel.port = ntohs(u16_or(t[IPVS_DEST_ATTR_TUN_PORT]));
            const std::uint16_t flags = u16_or(t[IPVS_DEST_ATTR_TUN_FLAGS]);
            d.tunnel.checksum = (flags & IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM) != 0 ? "remcsum"
                                : (flags & IP_VS_TUNNEL_ENCAP_FLAG_CSUM) != 0  ? "csum"
                                                                               : "";
        }
        d.stats = get_stats(t[IPVS_DEST_ATTR_STATS64], t[IPVS_DEST_ATTR_STATS]);
        out.push_back(std::move(d));
    };
    transact(r);
    if (r.error != 0 || r.nl_error != 0) {
        throw IpvsError("cannot list the real servers of " + describe_service(s) + ": " + reason(r.error, r.nl_error),
                        r.error);
    }
    return out;
}

void IpvsNetlink::apply(const IpvsOp& op) {
    std::uint8_t cmd = 0;
    switch (op.kind) {
    case IpvsOp::Kind::add_service: cmd = IPVS_CMD_NEW_SERVICE; break;
    case IpvsOp::Kind::edit_service: cmd = IPVS_CMD_SET_SERVICE; break;
    case IpvsOp::Kind::delete_service: cmd = IPVS_CMD_DEL_SERVICE; break;
    case IpvsOp::Kind::add_dest: cmd = IPVS_CMD_NEW_DEST; break;
    case IpvsOp::Kind::edit_dest: cmd = IPVS_CMD_SET_DEST; break;
    case IpvsOp::Kind::delete_dest: cmd = IPVS_CMD_DEL_DEST; break;
    }
    const bool service_full = op.kind == IpvsOp::Kind::add_service || op.kind == IpvsOp::Kind::edit_service;
    const bool dest_op = op.kind == IpvsOp::Kind::add_dest || op.kind == IpvsOp::Kind::edit_dest ||
                         op.kind == IpvsOp::Kind::delete_dest;
    Request r{new_request(family_, cmd, false), {}, 0, 0, false};
    put_service(r.msg.get(), op.service, service_full);
    if (dest_op) put_dest(r.msg.get(), op.dest, op.kind != IpvsOp::Kind::delete_dest);
    transact(r);
    if (r.error == 0 && r.nl_error == 0) return;
    const std::string why = hint(op, r.error);
    throw IpvsError("cannot " + describe(op) + details(op) + ": " + reason(r.error, r.nl_error) +
                        (why.empty() ? "" : " \u2014 " + why),
                    r.error);
}

IpvsInfo IpvsNetlink::info() {
    IpvsInfo info;
    Request r{new_request(family_, IPVS_CMD_GET_INFO, false), {}, 0, 0, false};
    r.on_reply = [&info](Attrs& a) {
        // ipvsadm's NVERSION: major.minor.patch, a byte each.
        const std::uint32_t v = u32_or(a[IPVS_INFO_ATTR_VERSION]);
        info.version = std::to_string((v >> 16) & 0xff) + "." + std::to_string((v >> 8) & 0xff) + "." +
                       std::to_string(v & 0xff);
        info.conn_table_size = u32_or(a[IPVS_INFO_ATTR_CONN_TAB_SIZE]);
    };
    transact(r);
    if (r.error != 0 || r.nl_error != 0) {
        throw IpvsError("cannot read the IPVS version: " + reason(r.error, r.nl_error), r.error);
    }
    return info;
}

IpvsTimeouts IpvsNetlink::timeouts() {
    IpvsTimeouts t;
    Request r{new_request(family_, IPVS_CMD_GET_CONFIG, false), {}, 0, 0, false};
    r.on_reply = [&t](Attrs& a) {
        t.tcp = u32_or(a[IPVS_CMD_ATTR_TIMEOUT_TCP]);
        t.tcp_fin = u32_or(a[IPVS_CMD_ATTR_TIMEOUT_TCP_FIN]);
        t.udp = u32_or(a[IPVS_CMD_ATTR_TIMEOUT_UDP]);
    };
    transact(r);
    if (r.error != 0 || r.nl_error != 0) {
        throw IpvsError("cannot read the IPVS timeouts: " + reason(r.error, r.nl_error), r.error);
    }
    return t;
}

void IpvsNetlink::set_timeouts(const IpvsTimeouts& t) {
    Request r{new_request(family_, IPVS_CMD_SET_CONFIG, false), {}, 0, 0, false};
    if (t.tcp != 0) check_put(nla_put_u32(r.msg.get(), IPVS_CMD_ATTR_TIMEOUT_TCP, t.tcp));
    if (t.tcp_fin != 0) check_put(nla_put_u32(r.msg.get(), IPVS_CMD_ATTR_TIMEOUT_TCP_FIN, t.tcp_fin));
    if (t.udp != 0) check_put(nla_put_u32(r.msg.get(), IPVS_CMD_ATTR_TIMEOUT_UDP, t.udp));
    transact(r);
    if (r.error != 0 || r.nl_error != 0) {
        throw IpvsError("cannot set the IPVS timeouts (lvs_timeouts tcp " + std::to_string(t.tcp) + " tcpfin " +
                            std::to_string(t.tcp_fin) + " udp " + std::to_string(t.udp) +
                            "): " + reason(r.error, r.nl_error),
                        r.error);
    }
}

void IpvsNetlink::flush() {
    Request r{new_request(family_, IPVS_CMD_FLUSH, false), {}, 0, 0, false};
    transact(r);
    if (r.error != 0 || r.nl_error != 0) {
        throw IpvsError("cannot flush IPVS: " + reason(r.error, r.nl_error), r.error);
    }
}

}  // namespace kadp::ctl
