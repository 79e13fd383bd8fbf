// Runs on: control thread. Declarations shared by the LVS parser, resolver
// and validator (parse_lvs.cpp, parse_checkers.cpp, resolve_lvs.cpp,
// validate_lvs.cpp); not part of conf/'s interface.
#pragma once

#include <string>
#include <string_view>

#include "conf/sections.h"

namespace kadp::conf {

// Checker block names: TCP_CHECK, HTTP_GET, ... (nullopt for anything else).
std::optional<CheckerType> checker_type_of(std::string_view keyword);
// Parses one checker block into rs.checkers (an SMTP_CHECK with `host`
// blocks may add several; an unusable checker adds none, with a warning).
void parse_checker(const Node& node, CheckerType type, RealServer& rs, ParseContext& ctx);

// `lvs_method|lb_kind NAT|DR|TUN [type ...] [csum ...]`; nullopt after an error.
std::optional<LbKind> parse_lvs_method(const Node& node, Tunnel& tunnel, ParseContext& ctx);

// "[198.18.0.1]:80", "FWM 5" or "group G": how messages name a virtual server.
std::string describe(const VirtualServer& vs);
std::string describe(const IpAddr& address, std::uint16_t port);

}  // namespace kadp::conf
