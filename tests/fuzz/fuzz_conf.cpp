// Runs on: the fuzzer. Feeds arbitrary text through the whole configuration
// front end (lexer, tree, every section parser, validation, JSON dump).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "conf/json_dump.h"
#include "conf/load.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    std::string_view text(reinterpret_cast<const char*>(data), size);
    kadp::conf::LoadOptions options;
    options.config_id = "fuzz";
    options.allow_include = false;
    options.check_host = false;
    kadp::conf::Diagnostics diags;
    auto config = kadp::conf::load_text(text, "fuzz.conf", options, diags);
    auto json = kadp::conf::dump_json(config);
    (void)json;
    return 0;
}
