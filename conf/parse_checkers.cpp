// Runs on: control thread. Checker blocks inside real_server: TCP_CHECK,
// HTTP_GET, SSL_GET, SMTP_CHECK, MISC_CHECK and the other keepalived checkers.
// Values a checker does not set stay unset here; resolve_lvs fills them from
// the real server, the virtual server and the checker type's defaults.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <climits>
#include <memory>

#include "conf/lvs_internal.h"

namespace kadp::conf {
namespace {

constexpr double kMaxTimer = 1e13;

bool has_connection(CheckerType t)
{
    // MISC_CHECK runs a script; FILE_CHECK and BFD_CHECK watch other things.
    return t != CheckerType::misc_check && t != CheckerType::file_check && t != CheckerType::bfd_check;
}

bool has_common(CheckerType t) { return t != CheckerType::file_check && t != CheckerType::bfd_check; }

std::optional<bool> flag_value(const Node& n, ParseContext& ctx)
{
    std::size_t before = ctx.diags.error_count();
    bool v = arg_flag(n, ctx);
    if (ctx.diags.error_count() != before) return std::nullopt;
    return v;
}

// connect_ip, connect_port, bindto, bind_port, bind_if, fwmark.
void add_connection_keywords(KeywordTable& table, Checker& c, ParseContext& ctx)
{
    table.insert(table.end(), {
        {"connect_ip", [&](const Node& n) {
             if (!need_args(n, 1, 1, ctx)) return;
             if (auto ip = arg_ip(n, 0, ctx)) c.connect_ip = *ip;
         }},
        {"connect_port", [&](const Node& n) {
             if (!need_args(n, 1, 1, ctx)) return;
             if (auto p = arg_port(n, 0, ctx)) c.connect_port = *p;
         }},
        {"bindto", [&](const Node& n) {
             if (!need_args(n, 1, 1, ctx)) return;
             if (auto ip = arg_ip(n, 0, ctx)) c.bindto = *ip;
         }},
        {"bind_port", [&](const Node& n) {
             if (!need_args(n, 1, 1, ctx)) return;
             if (auto p = arg_port(n, 0, ctx)) c.bind_port = *p;
         }},
        {"bind_if", [&](const Node& n) {
             if (!need_args(n, 1, 1, ctx)) return;
             if (n.arg(0).size() >= 16) {  // IFNAMSIZ
                 ctx.diags.error(n.loc, "Interface name " + n.arg(0) + " is too long");
                 return;
             }
             c.bind_if = n.arg(0);
         }},
        {"fwmark", [&](const Node& n) {
             if (!need_args(n, 1, 1, ctx)) return;
             if (auto v = arg_int(n, 0, 0, UINT32_MAX, ctx)) c.fwmark = static_cast<std::uint32_t>(*v);
         }},
    });
}

// alpha, connect_timeout, retry (nb_get_retry), delay_before_retry, warmup,
// delay_loop, log_all_failures.
void add_common_keywords(KeywordTable& table, Checker& c, ParseContext& ctx)
{
    auto retry = [&](const Node& n) {
        if (n.keyword() == "nb_get_retry")
            ctx.diags.warning(n.loc, "nb_get_retry is deprecated - please use 'retry'");
        if (!need_args(n, 1, 1, ctx)) return;
        if (auto v = arg_int(n, 0, 0, INT_MAX, ctx)) c.retry.assign(static_cast<int>(*v));
    };
    auto timer = [&ctx](Inherited<double>& field, double min) {
        return [&field, min, &ctx](const Node& n) {
            if (!need_args(n, 1, 1, ctx)) return;
            if (auto v = arg_seconds(n, 0, min, kMaxTimer, ctx)) field.assign(*v);
        };
    };
    table.insert(table.end(), {
        {"alpha", [&](const Node& n) {
             if (auto v = flag_value(n, ctx)) c.alpha.assign(*v);
         }},
        {"connect_timeout", [&](const Node& n) {
             if (!need_args(n, 1, 1, ctx)) return;
             if (auto v = arg_seconds(n, 0, 0.000001, 4294.967295, ctx)) c.connect_timeout.assign(*v);
         }},
        {"retry", retry},
        {"nb_get_retry", retry},
        {"delay_before_retry", timer(c.delay_before_retry, 0)},
        {"warmup", timer(c.warmup, 0)},
        {"delay_loop", timer(c.delay_loop, 0.000001)},
        {"log_all_failures", [&](const Node& n) {
             if (auto v = flag_value(n, ctx)) c.log_all_failures = *v;
         }},
    });
}

// ------------------------------------------------------------ HTTP_GET / SSL_GET

// "200", "200-299": keepalived accepts codes 100..599.
std::optional<std::pair<int, int>> status_range(std::string_view s)
{
    auto number = [](std::string_view t) -> std::optional<int> {
        int v = 0;
        auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
        if (t.empty() || ec != std::errc{} || p != t.data() + t.size() || v < 100 || v > 599) return std::nullopt;
        return v;
    };
    auto dash = s.find('-');
    auto lo = number(s.substr(0, dash));
    auto hi = dash == std::string_view::npos ? lo : number(s.substr(dash + 1));
    if (!lo || !hi || *hi < *lo) return std::nullopt;
    return std::pair{*lo, *hi};
}

void parse_digest(const Node& n, HttpUrl& url, ParseContext& ctx)
{
    if (!need_args(n, 1, 1, ctx)) return;
    std::string d = n.arg(0);
    if (d.size() != 32) {
        ctx.diags.warning(n.loc, "digest '" + d + "' character length should be 32 rather than " +
                                     std::to_string(d.size()) + " - digest ignored");
        return;
    }
    for (char& ch : d) {
        if (!std::isxdigit(static_cast<unsigned char>(ch))) {
            ctx.diags.warning(n.loc, "Unable to interpret hex digit in '" + n.arg(0) + "' - digest ignored");
            return;
        }
        ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    }
    url.digest = d;
}

// url's regex keywords are kept in the checker's `other` (kadp does not match
// bodies against regexes yet).
std::optional<HttpUrl> parse_url(const Node& node, Checker& c, ParseContext& ctx)
{
    HttpUrl url;
    url.loc = node.loc;
    auto keep = [&](const Node& n) { keep_other(n, c.other); };
    KeywordTable table = {
        {"path", [&](const Node& n) {
             if (need_args(n, 1, 1, ctx)) url.path = n.arg(0);
         }},
        {"digest", [&](const Node& n) { parse_digest(n, url, ctx); }},
        {"status_code", [&](const Node& n) {
             if (!need_args(n, 1, SIZE_MAX, ctx)) return;
             for (std::size_t i = 0; i < n.arg_count(); ++i) {
                 if (auto r = status_range(n.arg(i))) url.status_code.push_back(*r);
                 else ctx.diags.warning(n.loc, "Invalid HTTP_GET status code '" + n.arg(i) +
                                                   "' (expects N or N-M within 100-599) - ignored");
             }
         }},
        {"virtualhost", [&](const Node& n) {
             if (n.arg_count() == 0) ctx.diags.warning(n.loc, "Missing HTTP_GET virtualhost name");
             else url.virtualhost = n.arg(0);
         }},
        {"regex", keep},
        {"regex_no_match", keep},
        {"regex_options", keep},
        {"regex_stack", keep},
        {"regex_min_offset", keep},
        {"regex_max_offset", keep},
    };
    dispatch(node.children, table, ctx);
    if (url.path.empty()) {
        ctx.diags.warning(node.loc, "HTTP/SSL_GET checker url has no path - ignoring");
        return std::nullopt;
    }
    if (url.status_code.empty()) url.status_code.emplace_back(200, 299);
    return url;
}

void add_http_keywords(KeywordTable& table, Checker& c, ParseContext& ctx)
{
    table.insert(table.end(), {
        {"url", [&](const Node& n) {
             if (auto url = parse_url(n, c, ctx)) c.url.push_back(std::move(*url));
         }},
        {"virtualhost", [&](const Node& n) {
             if (n.arg_count() == 0) ctx.diags.warning(n.loc, "HTTP_GET virtualhost name missing");
             else c.virtualhost = n.arg(0);
         }},
        {"http_protocol", [&](const Node& n) {
             if (n.arg_count() == 0) {
                 ctx.diags.warning(n.loc, "Missing http_protocol version");
                 return;
             }
             const std::string& v = n.arg(0);
             if (v == "1.0" || v == "1.1") c.http_protocol = v;
             else if (v == "1.0C" || v == "1.0c") c.http_protocol = "1.0C";
             else ctx.diags.warning(n.loc, "Invalid http_protocol version " + v + " (expects 1.0, 1.0C or 1.1) - ignoring");
         }},
        {"fast_recovery", [&](const Node& n) {
             if (auto v = flag_value(n, ctx)) c.fast_recovery = *v;
         }},
        {"enable_sni", [&](const Node& n) {
             if (auto v = flag_value(n, ctx)) c.enable_sni = *v;
         }},
    });
}

// ------------------------------------------------------------------ MISC_CHECK

void add_misc_keywords(KeywordTable& table, Checker& c, ParseContext& ctx)
{
    table.insert(table.end(), {
        {"misc_path", [&](const Node& n) { c.misc_path = arg_script(n, ctx); }},
        {"misc_timeout", [&](const Node& n) {
             if (!need_args(n, 1, 1, ctx)) return;
             if (auto v = arg_int(n, 0, 0, UINT32_MAX, ctx)) c.misc_timeout = static_cast<double>(*v);
         }},
        {"misc_dynamic", [&](const Node& n) {
             if (auto v = flag_value(n, ctx)) c.misc_dynamic = *v;
         }},
        {"user", [&](const Node& n) {
             if (!need_args(n, 1, 2, ctx)) return;
             c.user = n.arg(0);
             c.group = n.arg_count() > 1 ? n.arg(1) : std::string();
         }},
    });
}

// ------------------------------------------------------------------- DNS_CHECK

// keepalived 2.2.7's test for an empty label, quirk included: it looks at
// the character after the start of the name and after every dot, so a
// first label of one letter ("a.example.com") is refused too.
bool dns_name_has_empty_label(std::string_view name)
{
    if (name.size() > 1 && name[0] == '.') return true;
    for (std::size_t p = 0; p != std::string_view::npos; p = name.find('.', p + 1))
        if (p + 1 < name.size() && name[p + 1] == '.') return true;
    return false;
}

// Words after the value are ignored silently, as keepalived does.
void add_dns_keywords(KeywordTable& table, Checker& c, ParseContext& ctx)
{
    auto name_set = std::make_shared<bool>(false);
    table.insert(table.end(), {
        {"type", [&](const Node& n) {
             if (!need_args(n, 1, SIZE_MAX, ctx)) return;
             if (auto code = dns_type_code(n.arg(0))) c.dns_type = *code;
             else ctx.diags.warning(n.loc, "Unknown DNS check type " + n.arg(0) + " - ignoring");
         }},
        {"name", [&c, &ctx, name_set](const Node& n) {
             if (!need_args(n, 1, SIZE_MAX, ctx)) return;
             if (*name_set) {
                 ctx.diags.warning(n.loc, "DNS_CHECK name already specified - ignoring");
                 return;
             }
             if (dns_name_has_empty_label(n.arg(0))) {
                 ctx.diags.warning(n.loc, "DNS_CHECK name '" + n.arg(0) + "' has empty label - ignoring");
                 return;
             }
             c.dns_name = n.arg(0);
             *name_set = true;
         }},
    });
}

// Keywords of the other checkers, recognised and kept for the dump.
void add_kept_keywords(KeywordTable& table, Checker& c, std::initializer_list<std::string_view> names)
{
    for (std::string_view name : names) table.emplace_back(name, [&c](const Node& n) { keep_other(n, c.other); });
}

bool has_other(const Checker& c, std::string_view keyword)
{
    return std::any_of(c.other.begin(), c.other.end(), [&](const OtherKeyword& o) { return o.keyword == keyword; });
}

// keepalived drops a checker it cannot run, with a message; so does kadp (a warning).
bool usable(const Node& node, const Checker& c, ParseContext& ctx)
{
    if ((c.type == CheckerType::http_get || c.type == CheckerType::ssl_get) && c.url.empty()) {
        ctx.diags.warning(node.loc, "HTTP/SSL_GET checker has no urls specified - ignoring");
        return false;
    }
    if (c.type == CheckerType::misc_check && c.misc_path.empty()) {
        ctx.diags.warning(node.loc, "No script path has been specified for MISC_CHECKER - skipping");
        return false;
    }
    if (c.type == CheckerType::file_check && !has_other(c, "track_file")) {
        ctx.diags.warning(node.loc, "FILE_CHECK has no track_file specified - ignoring");
        return false;
    }
    return true;
}

// keepalived skips a bindto of another family than connect_ip.
void check_bind_family(const Node& node, Checker& c, ParseContext& ctx)
{
    if (c.bindto.empty() || c.connect_ip.empty() || c.bindto.family == c.connect_ip.family) return;
    ctx.diags.warning(node.loc, "bindto address " + c.bindto.to_string() +
                                    " does not match address family of connect_ip - skipping");
    c.bindto = IpAddr{};
}

// The old SMTP_CHECK form: each `host { ... }` is a checker of its own,
// starting from the options of the SMTP_CHECK block set before it.
struct SmtpHost {
    Checker checker;
    const Node* node;
};

KeywordTable checker_table(Checker& c, ParseContext& ctx)
{
    KeywordTable table;
    if (has_connection(c.type)) add_connection_keywords(table, c, ctx);
    if (has_common(c.type)) add_common_keywords(table, c, ctx);
    switch (c.type) {
    case CheckerType::http_get:
    case CheckerType::ssl_get: add_http_keywords(table, c, ctx); break;
    case CheckerType::smtp_check:
        table.emplace_back("helo_name", [&c, &ctx](const Node& n) {
            if (n.arg_count() == 0) ctx.diags.warning(n.loc, "SMTP_CHECK helo name missing");
            else c.helo_name = n.arg(0);
        });
        break;
    case CheckerType::misc_check: add_misc_keywords(table, c, ctx); break;
    case CheckerType::dns_check: add_dns_keywords(table, c, ctx); break;
    case CheckerType::udp_check:
        add_kept_keywords(table, c, {"payload", "require_reply", "min_reply_length", "max_reply_length"});
        break;
    case CheckerType::file_check: add_kept_keywords(table, c, {"track_file", "dynamic", "weight"}); break;
    case CheckerType::bfd_check: add_kept_keywords(table, c, {"name"}); break;
    case CheckerType::tcp_check:
    case CheckerType::ping_check: break;
    }
    return table;
}

}  // namespace

std::optional<CheckerType> checker_type_of(std::string_view keyword)
{
    static constexpr std::pair<std::string_view, CheckerType> kTypes[] = {
        {"TCP_CHECK", CheckerType::tcp_check},   {"HTTP_GET", CheckerType::http_get},
        {"SSL_GET", CheckerType::ssl_get},       {"SMTP_CHECK", CheckerType::smtp_check},
        {"MISC_CHECK", CheckerType::misc_check}, {"DNS_CHECK", CheckerType::dns_check},
        {"UDP_CHECK", CheckerType::udp_check},   {"PING_CHECK", CheckerType::ping_check},
        {"FILE_CHECK", CheckerType::file_check}, {"BFD_CHECK", CheckerType::bfd_check},
    };
    for (const auto& [name, type] : kTypes)
        if (name == keyword) return type;
    return std::nullopt;
}

void parse_checker(const Node& node, CheckerType type, RealServer& rs, ParseContext& ctx)
{
    Checker c;
    c.loc = node.loc;
    c.type = type;
    if (node.arg_count() > 0) ctx.diags.warning(node.loc, node.keyword() + ": words after the checker name ignored");
    std::vector<SmtpHost> hosts;
    KeywordTable table = checker_table(c, ctx);
    if (type == CheckerType::smtp_check) {
        table.emplace_back("host", [&](const Node& n) {
            SmtpHost host{c, &n};
            host.checker.loc = n.loc;
            KeywordTable host_table;
            add_connection_keywords(host_table, host.checker, ctx);
            add_common_keywords(host_table, host.checker, ctx);
            dispatch(n.children, host_table, ctx);
            hosts.push_back(std::move(host));
        });
    }
    dispatch(node.children, table, ctx);
    if (!usable(node, c, ctx)) return;
    check_bind_family(node, c, ctx);
    if (hosts.empty()) {
        rs.checkers.push_back(std::move(c));
        return;
    }
    // With host blocks, the block's own connection counts only if it names one.
    if (!c.connect_ip.empty() || c.connect_port != 0) rs.checkers.push_back(c);
    for (auto& host : hosts) {
        // Settings after the host block (helo_name, timers) apply to it too.
        Checker merged = c;
        const Checker& h = host.checker;
        merged.loc = h.loc;
        merged.connect_ip = h.connect_ip;
        merged.connect_port = h.connect_port;
        merged.bindto = h.bindto;
        merged.bind_port = h.bind_port;
        merged.bind_if = h.bind_if;
        merged.fwmark = h.fwmark;
        if (h.connect_timeout.set) merged.connect_timeout = h.connect_timeout;
        if (h.retry.set) merged.retry = h.retry;
        if (h.delay_before_retry.set) merged.delay_before_retry = h.delay_before_retry;
        if (h.delay_loop.set) merged.delay_loop = h.delay_loop;
        if (h.warmup.set) merged.warmup = h.warmup;
        if (h.alpha.set) merged.alpha = h.alpha;
        check_bind_family(*host.node, merged, ctx);
        rs.checkers.push_back(std::move(merged));
    }
}

}  // namespace kadp::conf
