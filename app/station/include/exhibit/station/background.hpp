// The station's one rule for I/O: the UI thread never waits for it. Work that touches a
// disk (sysfs, the case store, opening or measuring a device, loading findings) runs here on
// a worker thread; what it produced comes back as a completion that the UI thread runs when
// it drains the queue at the start of a frame (as ImHex's task manager does).
//
//   tasks.run([path] {                      // worker thread
//       auto cases = store.recent();
//       return [cases, &model] { model.recent = cases; };   // UI thread, in drain()
//   });
//   tasks.drain();                          // once a frame
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace exhibit::station {

class BackgroundTasks {
  public:
    using Completion = std::function<void()>;
    using Task = std::function<Completion()>;

    BackgroundTasks();
    // Stops the worker after the task in hand; queued tasks and undrained completions are
    // dropped.
    ~BackgroundTasks();
    BackgroundTasks(const BackgroundTasks&) = delete;
    BackgroundTasks& operator=(const BackgroundTasks&) = delete;

    // Queues `task`; tasks run one at a time in the order given. A task may return an empty
    // completion. Tasks must not throw.
    void run(Task task);
    // Runs every completion that is ready, on the calling (UI) thread. Returns how many ran.
    int drain();
    // True while a task is queued or running, or a completion waits to be drained.
    bool busy() const;
    // For tests and scripted runs: waits until no task is queued or running (completions
    // may still wait for drain()). False on timeout.
    bool wait_idle(std::chrono::milliseconds timeout) const;

  private:
    void work();

    mutable std::mutex mutex_;
    mutable std::condition_variable changed_;
    std::deque<Task> queue_;
    std::deque<Completion> done_;
    bool in_flight_ = false;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace exhibit::station
