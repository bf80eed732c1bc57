#include "protocol/headers.h"

#include "protocol/messages/all.h"

#include <algorithm>

namespace gregor::protocol {
namespace {

constexpr std::int16_t api_versions_key = api_versions_api::key;
constexpr std::int16_t controlled_shutdown_key = controlled_shutdown_api::key;

}  // namespace

const api_info* find_api(std::int16_t key) {
    auto apis = all_apis();
    auto it = std::lower_bound(apis.begin(), apis.end(), key,
                               [](const api_info& a, std::int16_t k) { return a.key < k; });
    return it != apis.end() && it->key == key ? &*it : nullptr;
}

std::int16_t request_header_version(std::int16_t api_key, std::int16_t api_version) {
    if (api_key == controlled_shutdown_key && api_version == 0) {
        return 0;
    }
    const api_info* api = find_api(api_key);
    return api != nullptr && api->flexible(api_version) ? 2 : 1;
}

std::int16_t response_header_version(std::int16_t api_key, std::int16_t api_version) {
    if (api_key == api_versions_key) {
        return 0;
    }
    const api_info* api = find_api(api_key);
    return api != nullptr && api->flexible(api_version) ? 1 : 0;
}

result<request_header> decode_request_header(reader& r) {
    request_header h;
    h.api_key = r.read_int16();
    h.api_version = r.read_int16();
    h.correlation_id = r.read_int32();
    std::int16_t version = request_header_version(h.api_key, h.api_version);
    if (version >= 1) {
        h.client_id = r.read_nullable_string(false, true);
    }
    if (version >= 2) {
        r.read_unknown_tags(h.unknown_tags);
    }
    if (!r.ok()) {
        return r.error();
    }
    return h;
}

void encode_request_header(writer& w, const request_header& h) {
    std::int16_t version = request_header_version(h.api_key, h.api_version);
    w.write_int16(h.api_key);
    w.write_int16(h.api_version);
    w.write_int32(h.correlation_id);
    if (version >= 1) {
        w.write_nullable_string(h.client_id, false, true);
    }
    if (version >= 2) {
        w.write_unknown_tags(h.unknown_tags);
    }
}

result<response_header> decode_response_header(reader& r, std::int16_t header_version) {
    response_header h;
    h.correlation_id = r.read_int32();
    if (header_version >= 1) {
        r.read_unknown_tags(h.unknown_tags);
    }
    if (!r.ok()) {
        return r.error();
    }
    return h;
}

void encode_response_header(writer& w, const response_header& h, std::int16_t header_version) {
    w.write_int32(h.correlation_id);
    if (header_version >= 1) {
        w.write_unknown_tags(h.unknown_tags);
    }
}

}  // namespace gregor::protocol
