// Runs on: control thread. Small helpers the section parsers share to read
// keyword arguments, each reporting a precise file:line diagnostic.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "conf/diagnostics.h"
#include "conf/inet.h"
#include "conf/load.h"
#include "conf/model.h"
#include "conf/tree.h"

namespace kadp::conf {

struct ParseContext {
    Diagnostics& diags;
    const LoadOptions& options;
    std::string host_name;  // for router_id and other host-name defaults
};

// keyword -> handler for one block; unknown keywords get keepalived's
// "Unknown keyword" warning and parsing goes on.
using KeywordHandler = std::function<void(const Node&)>;
using KeywordTable = std::vector<std::pair<std::string_view, KeywordHandler>>;
void dispatch(const std::vector<Node>& children, const KeywordTable& table, ParseContext& ctx);
void warn_unknown(const Node& node, ParseContext& ctx);
// Records a recognised keyword kadp does not act on.
void keep_other(const Node& node, std::vector<OtherKeyword>& other);

// Argument checks: false (after an error) when the count is out of range.
bool need_args(const Node& node, std::size_t min, std::size_t max, ParseContext& ctx);
// Warns when a keyword that takes no block has one, or a list line has extra items.
void no_block(const Node& node, ParseContext& ctx);

std::optional<long long> arg_int(const Node& node, std::size_t i, long long min, long long max,
                                 ParseContext& ctx);
// Seconds with an optional fraction ("1", "0.5"); min/max in seconds.
std::optional<double> arg_seconds(const Node& node, std::size_t i, double min, double max, ParseContext& ctx);
std::optional<IpAddr> arg_ip(const Node& node, std::size_t i, ParseContext& ctx);
std::optional<std::uint16_t> arg_port(const Node& node, std::size_t i, ParseContext& ctx);
// A keyword that is a flag: bare means true; "true|on|yes" / "false|off|no" accepted too.
bool arg_flag(const Node& node, ParseContext& ctx);
// The whole rest of the line as a command, split as keepalived splits scripts.
Script arg_script(const Node& node, ParseContext& ctx);

}  // namespace kadp::conf
