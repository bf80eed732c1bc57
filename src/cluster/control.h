// The control channel between `gregor cluster kill|pause|resume|restart` and the running
// `gregor cluster up` (the supervisor).
//
// A request is one line, "<action> <broker-id>", in D/control/<client-pid>.request
// (written to a temporary name and renamed, so the supervisor never reads half a file).
// The client then sends SIGUSR1 to the supervisor, which also scans the directory on every
// tick in case a signal was merged or lost. The supervisor executes the request, writes
// "ok <message>" or "error <message>" to D/control/<client-pid>.reply the same way, and
// removes the request. The client waits for the reply with a deadline and removes it.
// Requests are handled one at a time, at most control_requests_per_scan per scan.
#pragma once

#include "base/result.h"
#include "cluster/layout.h"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace gregor::cluster {

enum class control_action { kill, pause, resume, restart };

inline constexpr std::size_t control_requests_per_scan = 16;
inline constexpr std::size_t control_message_bytes_max = 4096;

struct control_request {
    control_action action = control_action::kill;
    std::int32_t broker = 0;
    bool operator==(const control_request&) const = default;
};

struct control_reply {
    bool ok = false;
    std::string message;
};

std::string_view action_name(control_action a);
result<control_action> parse_action(std::string_view name);

std::string encode_request(const control_request& r);
// Parses "<action> <id>\n"; errc::bad_request on anything else.
result<control_request> parse_request(std::string_view text);
std::string encode_reply(const control_reply& r);
result<control_reply> parse_reply(std::string_view text);

// A request file found by the supervisor.
struct pending_request {
    pid_t client = 0;
    result<control_request> request;
};

// Supervisor side: reads (and removes) up to control_requests_per_scan request files.
std::vector<pending_request> take_requests(const cluster_layout& layout);
// Supervisor side: writes the reply for `client`.
void send_reply(const cluster_layout& layout, pid_t client, const control_reply& reply);

// Client side: sends the request to `supervisor` and waits up to `limit` for the reply.
result<control_reply> call_supervisor(const cluster_layout& layout, pid_t supervisor,
                                      const control_request& request,
                                      std::chrono::milliseconds limit);

}  // namespace gregor::cluster
