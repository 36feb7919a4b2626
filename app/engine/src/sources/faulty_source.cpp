// Fault injection for tests: the failures real hardware produces, at chosen places.
#include <algorithm>
#include <cerrno>

#include "exhibit/source.hpp"

namespace exhibit {

namespace {

class FaultySource final : public Source {
  public:
    FaultySource(std::unique_ptr<Source> inner, FaultPlan plan)
        : inner_(std::move(inner)), plan_(std::move(plan)) {}

    const SourceInfo& info() const override { return inner_->info(); }

    Expected<std::size_t> read_at(std::uint64_t offset, std::span<std::byte> buffer) override {
        const std::uint64_t size = inner_->info().size;
        if (offset >= size || buffer.empty()) return std::size_t{0};
        std::size_t want =
            static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), size - offset));
        if (plan_.max_read > 0) want = std::min(want, plan_.max_read);
        const std::uint64_t end = offset + want;
        const std::string where = info().path + " at offset " + std::to_string(offset);
        if (plan_.vanish_from && end > *plan_.vanish_from) {
            return errno_error("cannot read " + where, ENODEV);
        }
        if (plan_.ends_at && offset >= *plan_.ends_at) {
            return make_error(ErrorKind::SourceChanged,
                              info().path + " ended at offset " + std::to_string(*plan_.ends_at) +
                                  " though it reported " + std::to_string(size) + " bytes");
        }
        if (plan_.ends_at)
            want = static_cast<std::size_t>(std::min<std::uint64_t>(want, *plan_.ends_at - offset));
        if (plan_.eio_from && end > *plan_.eio_from)
            return errno_error("cannot read " + where, EIO);
        for (const auto& r : plan_.unreadable) {
            if (offset < r.offset + r.length && r.offset < offset + want) {
                return errno_error("cannot read " + where, EIO);
            }
        }
        return inner_->read_at(offset, buffer.first(want));
    }

  private:
    std::unique_ptr<Source> inner_;
    FaultPlan plan_;
};

}  // namespace

std::unique_ptr<Source> make_faulty_source(std::unique_ptr<Source> inner, FaultPlan plan) {
    return std::make_unique<FaultySource>(std::move(inner), std::move(plan));
}

}  // namespace exhibit
