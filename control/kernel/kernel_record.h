// Runs on: control thread. The kernel backend's record of what it put into
// the kernel: the IPVS services it manages and the static addresses and
// routes it added. kadp rewrites it after each change (a small text file
// beside the control socket, /run/kadp/kadp.state by default) and removes
// it at a clean stop, so a record found at start means the previous kadp
// died (SIGKILL, OOM, power cut of the process): the next start reads it to
// tell that kadp's leftovers (adopted: kept when the configuration still
// has them, removed when it does not) from what others put there (left
// alone). keepalived 2.2.7 keeps no such record: it re-adds what its
// configuration has over whatever is there and leaves the rest, unless
// lvs_flush. The file lives on /run (tmpfs): a reboot clears it along with
// the kernel state it describes.
//
// Format, one entry a line ('#' comments):
//   service TCP 198.18.0.10 80        (UDP, SCTP; IPv6 addresses bare)
//   service FWM 5 inet6               (a firewall-mark service and its family)
//   static_ipaddress LINE             (the line as the configuration wrote it)
//   static_routes LINE
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "conf/model.h"
#include "control/ipvs_model.h"

namespace kadp::ctl {

struct KernelRecord {
    std::vector<IpvsService> services;  // identities only (no settings, no real servers)
    std::vector<conf::IpAddress> addresses;
    std::vector<conf::Route> routes;

    [[nodiscard]] bool empty() const { return services.empty() && addresses.empty() && routes.empty(); }
};

// The file's text (pure).
std::string format_record(const KernelRecord& record);
// Reads the text back (pure). A line it cannot read is skipped and named in
// `problems` ("NAME:LINE: why"); the entries' loc is NAME:LINE.
KernelRecord parse_record(std::string_view text, const std::string& name, std::vector<std::string>& problems);

// The record's path for a control socket: "/run/kadp/kadp.sock" ->
// "/run/kadp/kadp.state" (".state" appended when the name has no ".sock").
std::string record_path_for(const std::string& control_socket);

// nullopt when there is no file (the previous kadp stopped cleanly, or none
// ran); unreadable lines go to `problems`.
std::optional<KernelRecord> read_record(const std::string& path, std::vector<std::string>& problems);
// Replaces the file atomically (a temporary file renamed over it): a kadp
// killed mid-write leaves the old record or the new one. "" when done, else
// why not.
std::string write_record(const std::string& path, const KernelRecord& record);
void remove_record(const std::string& path);

}  // namespace kadp::ctl
