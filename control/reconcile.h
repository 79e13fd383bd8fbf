// Runs on: control thread. The reload diff: from the services a backend
// has now and the services the configuration wants, the operations that
// make the first into the second, touching nothing that is already right
// (an unchanged service or real server keeps its connections, counters and
// scheduler state). Pure: no I/O, so it is unit-tested without a kernel.
#pragma once

#include <string>
#include <vector>

#include "control/ipvs_model.h"

namespace kadp::ctl {

struct IpvsOp {
    enum class Kind { add_service, edit_service, delete_service, add_dest, edit_dest, delete_dest };
    Kind kind = Kind::add_service;
    // The service (its settings for add/edit; its identity for the others).
    // Its `dests` are empty: dest operations carry theirs in `dest`.
    IpvsService service;
    IpvsDest dest;  // add/edit/delete_dest
};

// `current`: what the backend reports (e.g. read from the kernel).
// `managed`: the services this kadp put there before (the previous desired
// state; empty at start-up). `desired`: what the configuration wants now.
//
// * a desired service missing from `current` is added, then its real servers;
// * a desired service present in `current` is adopted: its settings are
//   edited in place when they differ, then real servers not desired are
//   deleted, changed ones edited, missing ones added;
// * a current service that `managed` has and `desired` has not is deleted
//   (the kernel drops its real servers with it);
// * any other current service is someone else's (ipvsadm, another daemon)
//   and is left alone.
// Order: deletions of services first, then per desired service (in order)
// add or edit, dest deletions, dest edits, dest additions — so a removed
// real server's slot is free before a new one is added and a thresholds
// change never briefly overloads.
std::vector<IpvsOp> reconcile(const std::vector<IpvsService>& current, const std::vector<IpvsService>& managed,
                              const std::vector<IpvsService>& desired);

// "add service TCP 198.18.0.10:80", "edit real server 198.18.1.1:80 of
// TCP 198.18.0.10:80": for logs and error messages.
std::string describe(const IpvsOp& op);

}  // namespace kadp::ctl
