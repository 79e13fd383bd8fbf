// Runs on: control thread. A client of Linux IPVS over generic netlink
// (libnl-genl-3, family "IPVS"): the same requests ipvsadm makes — dump
// services and real servers with their counters, add/edit/delete them,
// read and set the connection timeouts, flush. Each call is one blocking
// request/reply on a netlink socket of our own: the kernel answers at once,
// so the control loop does not wait on anything remote.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "control/ipvs_model.h"
#include "control/reconcile.h"

struct nl_sock;

namespace kadp::ctl {

// A request the kernel refused (or that could not be sent). what() is the
// operator's message; error() the errno the kernel returned (0 when the
// failure was libnl's own).
class IpvsError : public std::runtime_error {
public:
    IpvsError(const std::string& message, int error) : std::runtime_error(message), error_(error) {}
    [[nodiscard]] int error() const { return error_; }

private:
    int error_;
};

// The kernel has no "IPVS" generic netlink family: ip_vs is not loaded (or
// not built), or this is a network namespace without it.
class IpvsMissing : public IpvsError {
public:
    using IpvsError::IpvsError;
};

// IPVS_CMD_GET_INFO: what ipvsadm's header line shows,
// "IP Virtual Server version 1.2.1 (size=4096)".
struct IpvsInfo {
    std::string version;                  // "1.2.1"
    std::uint32_t conn_table_size = 0;    // the connection hash table's buckets
};

class IpvsNetlink {
public:
    // Connects and resolves the family. Throws IpvsMissing when the kernel
    // has no IPVS, IpvsError for anything else.
    IpvsNetlink();
    ~IpvsNetlink();
    IpvsNetlink(const IpvsNetlink&) = delete;
    IpvsNetlink& operator=(const IpvsNetlink&) = delete;

    // Every service with its real servers and counters (ipvsadm -Ln --stats
    // --rate in one). Services of protocols kadp does not configure
    // (AH, ESP) are left out.
    std::vector<IpvsService> services();

    // One reconcile() operation. Throws IpvsError whose message names the
    // operation, the kernel's reason and, where there is one, the likely
    // cause ("is ip_vs_foo loaded?").
    void apply(const IpvsOp& op);

    IpvsInfo info();
    IpvsTimeouts timeouts();
    // Only the non-zero fields change.
    void set_timeouts(const IpvsTimeouts& t);
    // Removes every service and real server (ipvsadm -C).
    void flush();

private:
    struct Request;
    void transact(Request& request);
    std::vector<IpvsDest> dests(const IpvsService& s);

    struct SockFree {
        void operator()(nl_sock* s) const;
    };
    std::unique_ptr<nl_sock, SockFree> sock_;
    int family_ = 0;
};

}  // namespace kadp::ctl
