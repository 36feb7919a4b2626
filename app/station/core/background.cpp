#include "exhibit/station/background.hpp"

namespace exhibit::station {

BackgroundTasks::BackgroundTasks() : thread_([this] { work(); }) {}

BackgroundTasks::~BackgroundTasks() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        queue_.clear();
    }
    changed_.notify_all();
    thread_.join();
}

void BackgroundTasks::run(Task task) {
    {
        std::lock_guard lock(mutex_);
        queue_.push_back(std::move(task));
    }
    changed_.notify_all();
}

int BackgroundTasks::drain() {
    std::deque<Completion> ready;
    {
        std::lock_guard lock(mutex_);
        ready.swap(done_);
    }
    int n = 0;
    for (auto& c : ready) {
        if (c) c();
        ++n;
    }
    return n;
}

bool BackgroundTasks::busy() const {
    std::lock_guard lock(mutex_);
    return in_flight_ || !queue_.empty() || !done_.empty();
}

bool BackgroundTasks::wait_idle(std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [this] { return !in_flight_ && queue_.empty(); });
}

void BackgroundTasks::work() {
    std::unique_lock lock(mutex_);
    for (;;) {
        changed_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (stopping_) return;
        Task task = std::move(queue_.front());
        queue_.pop_front();
        in_flight_ = true;
        lock.unlock();
        Completion completion = task();
        lock.lock();
        in_flight_ = false;
        if (completion) done_.push_back(std::move(completion));
        changed_.notify_all();
    }
}

}  // namespace exhibit::station
