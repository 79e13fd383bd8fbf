// Runs on: any (a command-line tool, not the daemon: it may block). `kadp
// genhash`: keepalived's genhash, the MD5 an HTTP_GET/SSL_GET `digest`
// expects for a url, computed by the same code the checkers judge with
// (http_response.h).
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace kadp::chk {

// `args` after "genhash": -s ADDR -p PORT -u URL [-S] [-V VHOST]
// [-P 1.0|1.1|1.0C] [-t SECONDS]. Prints the digest in lowercase hex on
// `out` (whatever the status code, as genhash does); errors on `err`.
// Returns 0, 1 on a failed fetch, 2 on a usage error.
int genhash_main(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace kadp::chk
