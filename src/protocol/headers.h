// Kafka request headers (v0-v2) and response headers (v0-v1), and which version of each a
// given (api key, api version) uses.
//
// Request header v0: api_key int16, api_version int16, correlation_id int32. v1 adds
// client_id, a nullable string that stays non-compact even in v2. v2 adds a tagged-field
// section. Response header v0: correlation_id int32; v1 adds a tagged-field section.
// Flexible versions of an API use request header v2 and response header v1, others v1/v0,
// except that ApiVersions responses always use response header v0 (so a client that sent a
// version the broker does not know can still parse the answer, KIP-511) and
// ControlledShutdown v0 used request header v0. Pure functions; any thread.
#pragma once

#include "base/result.h"
#include "protocol/reader.h"
#include "protocol/types.h"
#include "protocol/writer.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace gregor::protocol {

struct request_header {
    std::int16_t api_key = 0;
    std::int16_t api_version = 0;
    std::int32_t correlation_id = 0;
    std::optional<std::string> client_id;  // v1+
    std::vector<tagged_field> unknown_tags;  // v2

    bool operator==(const request_header&) const = default;
};

struct response_header {
    std::int32_t correlation_id = 0;
    std::vector<tagged_field> unknown_tags;  // v1

    bool operator==(const response_header&) const = default;
};

// Header versions for a request of `api_key` at `api_version`. Unknown api keys get request
// header v1 and response header v0, enough to read the correlation id and answer. Versions
// above an API's maximum follow its flexible rule, so a newer client's header still parses.
std::int16_t request_header_version(std::int16_t api_key, std::int16_t api_version);
std::int16_t response_header_version(std::int16_t api_key, std::int16_t api_version);

// Reads a request header from the start of a request frame (without the size prefix); its
// version follows from the api key and version that open it.
result<request_header> decode_request_header(reader& r);
// Writes `h` in the header version its api key and version call for.
void encode_request_header(writer& w, const request_header& h);

result<response_header> decode_response_header(reader& r, std::int16_t header_version);
void encode_response_header(writer& w, const response_header& h, std::int16_t header_version);

}  // namespace gregor::protocol
