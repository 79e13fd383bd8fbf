// Runs on: control thread. The desired IPVS state: what keepalived 2.2.7
// would program into IPVS for a configuration, as IpvsService values (the
// backend-neutral model of ipvs_model.h). Pure: reads the Config and the
// CheckerVerdicts, writes only its result and `diags`.
//
// * every virtual_server expands through expand_endpoints() (groups, ranges,
//   fwmarks), each endpoint one service with the same settings and real
//   servers;
// * lb_algo, persistence_timeout / _granularity / _engine, lb_flags
//   (sh-port, sh-fallback, mh-port, mh-fallback, flag-1..3 as scheduler
//   flags, ops as one-packet scheduling);
// * each real server with its own lvs_method (tunnel options included),
//   weight and uthreshold/lthreshold;
// * a real server whose override is 0 or less is down: removed, or kept at
//   weight 0 with inhibit_on_failure; a positive override is its weight;
// * quorum: when the checkers judged a virtual server's quorum lost
//   (chk::Quorum, with its hysteresis) and it has a sorry_server, the live
//   servers go (weight 0 with inhibit_on_failure) and the sorry server
//   takes their place, weight 1; with sorry_server_inhibit it stays in the
//   pool at weight 0 the rest of the time, as keepalived keeps it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "conf/diagnostics.h"
#include "conf/model.h"
#include "control/ipvs_model.h"
#include "control/vs_expand.h"

namespace kadp::ctl {

struct DesiredOptions {
    // Addresses one virtual_server_group entry may expand to.
    std::uint32_t max_group_expansion = 256;
};

// The services, in configuration order. An endpoint that two virtual
// servers both claim is an error (the second is dropped); errors and
// warnings go to `diags`, so callers check diags.has_errors().
std::vector<IpvsService> desired_services(const conf::Config& config, const CheckerVerdicts& verdicts,
                                          conf::Diagnostics& diags, const DesiredOptions& options = {});

// IPVS's scheduler flag bits (IP_VS_SVC_F_SCHED1..3) from the flag names of
// a service, and back: the names a scheduler gives them (sh-fallback,
// sh-port for sh; mh-* for mh; flag-1..3 otherwise), in bit order so the
// desired and the kernel's lists compare equal.
std::uint32_t scheduler_flag_bits(const std::vector<std::string>& names);
std::vector<std::string> scheduler_flag_names(const std::string& scheduler, std::uint32_t bits);

// "TCP 198.18.0.10:80", "UDP [2001:db8::1]:53", "FWM 5": how ipvsadm and
// kadp's messages name a service; "198.18.1.1:8080" for an address and port.
std::string describe_service(const IpvsService& s);
std::string describe_endpoint(const conf::IpAddr& address, std::uint16_t port);

}  // namespace kadp::ctl
