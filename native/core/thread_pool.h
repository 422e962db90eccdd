// A persistent pool of std::threads running one parallel-for at a time. Results never depend on which thread runs
// a task: callers give every task its own accumulator and reduce them in task order, so the same task count gives
// bit-identical results.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace modprop {

class ThreadPool {
 public:
  // threads = 0 means std::thread::hardware_concurrency() (at least 1). The calling thread counts as one of them.
  // Throws std::system_error when the system cannot start the threads (none is left running then).
  explicit ThreadPool(int threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return size_; }

  // Runs body(task) for task = 0..tasks-1 and returns when all are done. Concurrent calls from different threads
  // are serialised; a call from inside a task runs inline. If tasks throw, the exception of the lowest task index
  // is rethrown after all tasks have finished.
  // hosting: the call may also run the work of a HostedWork scope open on the calling thread (see below).
  void parallelFor(int tasks, const std::function<void(int)>& body, bool hosting = false);

  // Work a job runs beside its own (train()'s next batch beside the gradient): while the scope is open on a thread,
  // the first parallelFor that this thread calls with hosting = true takes the work as one task more, after all of
  // its own, so whichever thread runs out of tasks first runs it in time that thread would have waited; finish()
  // runs it on the calling thread if no such call came (the destructor too, so it never outlives its scope).
  // The work must not depend on when or where it runs, nor touch what the job computes. Its exception, if any, is
  // rethrown by finish().
  class HostedWork {
   public:
    explicit HostedWork(std::function<void()> work);
    ~HostedWork();
    HostedWork(const HostedWork&) = delete;
    HostedWork& operator=(const HostedWork&) = delete;
    void finish();
    // Whether a hosting parallelFor ran it (for the tests).
    bool ranInPool() const { return ranInPool_; }

   private:
    friend class ThreadPool;
    void runOnce() noexcept;
    void runUnclaimed() noexcept;  // runs it here unless a parallelFor or an earlier call took it
    std::function<void()> work_;
    HostedWork* outer_;
    bool claimed_ = false;  // claimed by a parallelFor or by finish (only ever on the opening thread's calls)
    bool ranInPool_ = false;
    std::exception_ptr failure_;
  };

 private:
  void workerLoop();
  void stop() noexcept;
  void drain();

  int size_;
  std::vector<std::thread> workers_;
  std::mutex callMutex_;  // one parallelFor at a time
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  uint64_t generation_ = 0;
  bool stopping_ = false;
  int busy_ = 0;  // workers still inside the current generation
  // The current job (valid while a parallelFor runs).
  const std::function<void(int)>* body_ = nullptr;
  int tasks_ = 0;
  int next_ = 0;  // guarded by mutex_
  int failedTask_ = -1;
  std::exception_ptr failure_;
};

}  // namespace modprop
