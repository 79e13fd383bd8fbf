// Runs on: any (unit test). Shared helpers for the conf/ tests: load a
// configuration from text and look for the diagnostics it produced.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "conf/load.h"

namespace kadp::conf::testing {

struct Loaded {
    Config config;
    Diagnostics diags;
};

// Host checks (kernel interfaces, script files) are off unless asked for:
// unit tests must not depend on the machine they run on.
inline Loaded load(const std::string& text, bool check_host = false)
{
    Loaded l;
    LoadOptions options;
    options.check_host = check_host;
    l.config = load_text(text, "t.conf", options, l.diags);
    return l;
}

inline std::string all_diags(const Loaded& l)
{
    std::string out;
    for (const auto& d : l.diags.all()) out += Diagnostics::format(d) + "\n";
    return out;
}

// The diagnostic at `line` whose message contains `text`, if any.
inline const Diagnostic* find(const Loaded& l, int line, const std::string& text)
{
    for (const auto& d : l.diags.all())
        if (d.loc.line == line && d.message.find(text) != std::string::npos) return &d;
    return nullptr;
}

inline void expect_diag(const Loaded& l, Severity sev, int line, const std::string& text)
{
    const Diagnostic* d = find(l, line, text);
    ASSERT_NE(d, nullptr) << "no diagnostic at line " << line << " containing '" << text << "'\n" << all_diags(l);
    EXPECT_EQ(d->severity, sev) << d->message;
}

inline void expect_clean(const Loaded& l) { EXPECT_TRUE(l.diags.all().empty()) << all_diags(l); }

}  // namespace kadp::conf::testing
