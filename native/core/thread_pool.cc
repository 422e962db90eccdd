#include "thread_pool.h"

#include <algorithm>

namespace modprop {

namespace {
thread_local const ThreadPool* insidePool = nullptr;
// The innermost HostedWork scope open on this thread.
thread_local ThreadPool::HostedWork* hostedHere = nullptr;
}

ThreadPool::HostedWork::HostedWork(std::function<void()> work) : work_(std::move(work)), outer_(hostedHere) {
  hostedHere = this;
}

ThreadPool::HostedWork::~HostedWork() {
  runUnclaimed();
  hostedHere = outer_;
}

void ThreadPool::HostedWork::runUnclaimed() noexcept {
  if (claimed_) return;
  claimed_ = true;
  runOnce();
}

void ThreadPool::HostedWork::runOnce() noexcept {
  try {
    if (work_) work_();
  } catch (...) {
    failure_ = std::current_exception();
  }
}

void ThreadPool::HostedWork::finish() {
  runUnclaimed();
  if (failure_) {
    std::exception_ptr f = failure_;
    failure_ = nullptr;
    std::rethrow_exception(f);
  }
}

ThreadPool::ThreadPool(int threads) {
  if (threads <= 0) threads = static_cast<int>(std::thread::hardware_concurrency());
  size_ = std::max(1, threads);
  // When the system refuses a thread (address space, ulimit -u), the ones already started must be stopped and
  // joined before the exception leaves: a joinable std::thread destroyed by the unwinding is std::terminate.
  try {
    workers_.reserve(size_ - 1);
    for (int i = 1; i < size_; i++) workers_.emplace_back([this] { workerLoop(); });
  } catch (...) {
    stop();
    throw;
  }
}

void ThreadPool::stop() noexcept {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& w : workers_) w.join();
  workers_.clear();
}

ThreadPool::~ThreadPool() { stop(); }

// Claims tasks until none are left. Tasks are few and long (one batch chunk each), so a mutex-guarded counter is
// cheaper to reason about than lock-free claiming and costs nothing measurable.
void ThreadPool::drain() {
  const ThreadPool* outer = insidePool;
  insidePool = this;
  for (;;) {
    int task;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (next_ >= tasks_) break;
      task = next_++;
    }
    try {
      (*body_)(task);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (failedTask_ < 0 || task < failedTask_) {
        failedTask_ = task;
        failure_ = std::current_exception();
      }
    }
  }
  insidePool = outer;
}

void ThreadPool::workerLoop() {
  uint64_t seen = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
      if (stopping_) return;
      seen = generation_;
    }
    drain();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (--busy_ == 0) done_.notify_all();
    }
  }
}

void ThreadPool::parallelFor(int tasks, const std::function<void(int)>& body, bool hosting) {
  if (tasks <= 0) return;
  HostedWork* hosted = hosting && insidePool == nullptr ? hostedHere : nullptr;
  if (hosted != nullptr && !hosted->claimed_) {
    // One task more, numbered last so that it is claimed after every task of the body.
    hosted->claimed_ = true;
    const std::function<void(int)> withHosted = [&](int t) {
      if (t < tasks) return body(t);
      hosted->ranInPool_ = true;
      hosted->runOnce();
    };
    return parallelFor(tasks + 1, withHosted, false);
  }
  if (insidePool != nullptr || size_ == 1 || tasks == 1) {
    for (int t = 0; t < tasks; t++) body(t);  // nested or trivially serial: no hand-off
    return;
  }
  std::lock_guard<std::mutex> call(callMutex_);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    body_ = &body;
    tasks_ = tasks;
    next_ = 0;
    failedTask_ = -1;
    failure_ = nullptr;
    busy_ = static_cast<int>(workers_.size());
    generation_++;
  }
  wake_.notify_all();
  drain();
  std::exception_ptr failure;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [&] { return busy_ == 0; });
    body_ = nullptr;
    failure = failure_;
    failure_ = nullptr;
  }
  if (failure) std::rethrow_exception(failure);
}

}  // namespace modprop
