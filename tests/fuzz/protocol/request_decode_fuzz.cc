// Fuzz target: a Kafka request without its 4-byte size prefix, as the network layer hands it
// to the broker. Parses the request header, decodes the body if the api and version are
// supported, then re-encodes what decoded and decodes that again: it must succeed, consume
// every byte and compare equal. Any crash, sanitizer report or trap is a bug.
#include "protocol/headers.h"
#include "protocol/messages/all.h"

#include <cstddef>
#include <cstdint>

namespace {

using namespace gregor::protocol;

template <class Api>
void check_request(reader& r, std::int16_t version) {
    using request = typename Api::request_type;
    if (version < Api::version_min || version > Api::version_max) {
        return;
    }
    auto first = request::decode(r, version);
    if (!first.has_value()) {
        return;
    }
    writer w;
    first->encode(w, version);
    if (!w.ok()) {
        __builtin_trap();  // whatever decoded must encode in the same version
    }
    gregor::bytes again = std::move(w).finish().flatten();
    reader r2(again);
    auto second = request::decode(r2, version);
    if (!second.has_value() || r2.remaining() != 0 || !(*second == *first)) {
        __builtin_trap();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    reader r(gregor::bytes_view(data, size));
    auto header = decode_request_header(r);
    if (!header.has_value()) {
        return 0;
    }
    std::int16_t version = header->api_version;
    visit_api(header->api_key, [&](auto api) { check_request<decltype(api)>(r, version); });
    return 0;
}
