#include "net/response.h"

#include "base/assert.h"

#include <limits>

namespace gregor::net {

void response::append(bytes b) {
    if (b.empty()) {
        return;
    }
    size_bytes_ += b.size();
    segments_.emplace_back(std::move(b));
}

void response::append(bytes_view view, std::shared_ptr<const void> owner) {
    if (view.empty()) {
        return;
    }
    size_bytes_ += view.size();
    segments_.emplace_back(external_span{view, std::move(owner)});
}

void response::append_file(int fd, std::int64_t offset, std::size_t length,
                           std::shared_ptr<const void> owner) {
    GREGOR_ASSERT(fd >= 0, "file slice with fd {}", fd);
    GREGOR_ASSERT(offset >= 0, "file slice at offset {}", offset);
    if (length == 0) {
        return;
    }
    size_bytes_ += length;
    segments_.emplace_back(file_slice{fd, offset, length, std::move(owner)});
}

gather_cursor::gather_cursor(std::span<const response* const> batch) {
    prefixes_.reserve(batch.size());  // never reallocates: pieces point into it
    for (const response* r : batch) {
        GREGOR_ASSERT(
            r->size_bytes() <= static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()),
            "response of {} bytes does not fit a frame", r->size_bytes());
        prefixes_.push_back(encode_frame_size(static_cast<std::int32_t>(r->size_bytes())));
        pieces_.push_back({prefixes_.back().data(), nullptr, frame_size_prefix_bytes});
        for (const auto& seg : r->segments()) {
            if (const auto* b = std::get_if<bytes>(&seg)) {
                pieces_.push_back({b->data(), nullptr, b->size()});
            } else if (const auto* s = std::get_if<external_span>(&seg)) {
                pieces_.push_back({s->view.data(), nullptr, s->view.size()});
            } else {
                const auto& f = std::get<file_slice>(seg);
                pieces_.push_back({nullptr, &f, f.length});
            }
        }
        remaining_ += frame_size_prefix_bytes + r->size_bytes();
    }
}

bool gather_cursor::at_file() const {
    GREGOR_ASSERT(!done(), "cursor is done");
    return pieces_[piece_].file != nullptr;
}

gather_cursor::file_chunk gather_cursor::next_file() const {
    GREGOR_ASSERT(at_file(), "next piece is memory");
    const auto& p = pieces_[piece_];
    return {p.file->fd, p.file->offset + static_cast<std::int64_t>(piece_done_),
            p.length - piece_done_};
}

std::size_t gather_cursor::next_iovecs(std::span<iovec> out) const {
    GREGOR_ASSERT(!at_file(), "next piece is a file");
    std::size_t n = 0;
    for (std::size_t i = piece_; i < pieces_.size() && n < out.size(); ++i) {
        const auto& p = pieces_[i];
        if (p.file != nullptr) {
            break;
        }
        std::size_t skip = i == piece_ ? piece_done_ : 0;
        // iovec takes a mutable pointer; sendmsg only reads it.
        out[n].iov_base = const_cast<std::uint8_t*>(p.data + skip);
        out[n].iov_len = p.length - skip;
        ++n;
    }
    return n;
}

void gather_cursor::advance(std::size_t n) {
    GREGOR_ASSERT(n <= remaining_, "advance {} beyond remaining {}", n, remaining_);
    remaining_ -= n;
    while (n > 0) {
        GREGOR_ASSERT(piece_ < pieces_.size(), "advance past the last piece");
        std::size_t left = pieces_[piece_].length - piece_done_;
        if (n < left) {
            piece_done_ += n;
            return;
        }
        n -= left;
        ++piece_;
        piece_done_ = 0;
    }
}

}  // namespace gregor::net
