// Request dispatch: one Kafka request frame in, one reply out.
//
// Parses the request header, looks the API up in the broker's handler table (handlers.h:
// the one list of implemented APIs, which is also what ApiVersions advertises), decodes the
// body for the request's version, runs the API's handler, and encodes the response after a
// response header of the version the API calls for. Kafka's rules for bad requests:
// an ApiVersions request of an unsupported version is answered with UNSUPPORTED_VERSION and
// the supported list in a v0 body (KIP-511); any other unknown API key or version, or a
// malformed request, closes the connection with a rate-limited log line. Never throws into
// the loop. Loop thread only.
#pragma once

#include "broker/services.h"
#include "net/request.h"
#include "protocol/messages/api_versions.h"

#include <vector>

namespace gregor::broker {

// The APIs and version ranges this broker implements, ordered by key.
const std::vector<protocol::api_versions_response::api_version>& advertised_apis();

// Handles one request frame.
asio::awaitable<net::reply> dispatch(services& s, net::request req);

}  // namespace gregor::broker
