// Whole Kafka frames: the int32 size prefix, the request or response header in the version
// the API calls for, then the body. What the network layer sends and the inter-broker client
// builds. The result's records stay spliced by reference (see writer.h). Any thread.
#pragma once

#include "base/result.h"
#include "protocol/errc.h"
#include "protocol/headers.h"
#include "protocol/writer.h"

#include <cstdint>
#include <limits>
#include <optional>
#include <string>

namespace gregor::protocol {

namespace detail {
inline result<wire_buffer> finish_frame(writer& w, std::size_t size_at) {
    if (!w.ok()) {
        return w.error();
    }
    std::size_t size = w.size_bytes() - 4;
    if (size > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max())) {
        return gregor::error(errc::value_too_large, "frame");
    }
    w.patch_int32(size_at, static_cast<std::int32_t>(size));
    return std::move(w).finish();
}
}  // namespace detail

// Encodes a response frame for `Api` at `version`. Fails iff the body does not fit the
// version (see writer.h) or the version is not supported.
template <class Api>
result<wire_buffer> encode_response_frame(std::int32_t correlation_id, std::int16_t version,
                                          const typename Api::response_type& body) {
    writer w(256);
    std::size_t size_at = w.reserve_int32();
    encode_response_header(w, response_header{correlation_id, {}},
                           response_header_version(Api::key, version));
    body.encode(w, version);
    return detail::finish_frame(w, size_at);
}

// Encodes a request frame for `Api` at `version`.
template <class Api>
result<wire_buffer> encode_request_frame(std::int32_t correlation_id,
                                         std::optional<std::string> client_id,
                                         std::int16_t version,
                                         const typename Api::request_type& body) {
    writer w(256);
    std::size_t size_at = w.reserve_int32();
    encode_request_header(w, request_header{Api::key, version, correlation_id,
                                            std::move(client_id), {}});
    body.encode(w, version);
    return detail::finish_frame(w, size_at);
}

// Decodes a message that must fill the rest of `r` (a request or response body): fails with
// trailing_bytes iff bytes are left after it.
template <class T>
result<T> decode_exact(reader& r, std::int16_t version) {
    result<T> out = T::decode(r, version);
    if (out.has_value() && r.remaining() != 0) {
        return gregor::error(errc::trailing_bytes, std::to_string(r.remaining()) + " bytes");
    }
    return out;
}

}  // namespace gregor::protocol
