// Runs on: control thread. static_ipaddress and static_routes into the
// kernel over rtnetlink (libnl-route-3): one blocking request per entry on
// a socket of our own (the kernel answers at once).
#pragma once

#include <memory>
#include <string>

#include "conf/model.h"

struct nl_sock;

namespace kadp::ctl {

class Rtnl {
public:
    // Throws std::runtime_error when no rtnetlink socket can be opened.
    Rtnl();
    ~Rtnl();
    Rtnl(const Rtnl&) = delete;
    Rtnl& operator=(const Rtnl&) = delete;

    enum class Added { added, existed };
    // Throws std::runtime_error("cannot add static_ipaddress LINE (FILE:LINE): why").
    Added add_address(const conf::IpAddress& a);
    Added add_route(const conf::Route& r);
    // Failures are returned as a message ("" = done): removal happens at
    // stop and reload, where one failure must not stop the others. An entry
    // already gone is what a delete wanted: "".
    std::string delete_address(const conf::IpAddress& a);
    std::string delete_route(const conf::Route& r);
    // The same, telling whether the address was there: true = removed,
    // false = absent. Throws std::runtime_error for any other failure.
    bool remove_address_if_present(const conf::IpAddress& a);

private:
    int delete_address_raw(const conf::IpAddress& a, const std::string& what);  // libnl's result

    struct SockFree {
        void operator()(nl_sock* s) const;
    };
    std::unique_ptr<nl_sock, SockFree> sock_;
};

}  // namespace kadp::ctl
