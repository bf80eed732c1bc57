// Writes the seed corpus of request_decode_fuzz: for every API, random requests (without the
// size prefix) in its lowest, highest and a middle version, from fixed seeds so the output
// is reproducible. Usage: request_corpus_gen <folder>
#include "protocol/headers.h"
#include "protocol/messages/all.h"
#include "protocol/messages/random_fill.h"

#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <string>

namespace {

using namespace gregor::protocol;

template <class Api>
void write_seed(const std::string& folder, std::int16_t version, std::uint64_t seed) {
    typename Api::request_type req;
    random_source rng(seed);
    random_fill(req, rng, version);
    writer w;
    encode_request_header(w, request_header{Api::key, version, static_cast<std::int32_t>(seed),
                                            "seed", {}});
    req.encode(w, version);
    gregor::bytes out = std::move(w).finish().flatten();
    std::string path = fmt::format("{}/{}_v{}", folder, Api::name, version);
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(out.data()), static_cast<std::streamsize>(out.size()));
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s <folder>\n", argv[0]);
        return 2;
    }
    std::string folder = argv[1];
    std::uint64_t seed = 1;
    for_each_api([&](auto api) {
        using api_t = decltype(api);
        auto middle = static_cast<std::int16_t>((api_t::version_min + api_t::version_max) / 2);
        for (auto v : {api_t::version_min, middle, api_t::version_max}) {
            write_seed<api_t>(folder, v, seed++);
        }
    });
    return 0;
}
