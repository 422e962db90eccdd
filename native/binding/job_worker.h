// A job run on a libuv worker thread behind a promise, for the small bindings (sampler.cc, optimizer.cc): `Job` has
// `void run()` (no JS; it may throw std::exception, which rejects the promise) and `Napi::Value result(Napi::Env)`.
// The typed arrays the job points into are kept alive by `keep` until the promise settles.
#pragma once
#include <napi.h>

#include <exception>
#include <string>
#include <utility>
#include <vector>

namespace modprop {
namespace binding {

template <typename Job>
class JobWorker : public Napi::AsyncWorker {
 public:
  JobWorker(Napi::Env env, const char* name, Job job, std::vector<Napi::ObjectReference> keep)
      : Napi::AsyncWorker(env, name), deferred_(Napi::Promise::Deferred::New(env)), job_(std::move(job)), keep_(std::move(keep)) {}

  void Execute() override {
    try {
      job_.run();
    } catch (const std::exception& e) {
      SetError(std::string("modprop native engine: ") + e.what());
    }
  }
  void OnOK() override { deferred_.Resolve(job_.result(Env())); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }
  // As KernelWorker (kernels.cc): when the environment is torn down mid-call nobody is left to tell.
  void OnWorkComplete(Napi::Env env, napi_status status) override {
    try {
      Napi::AsyncWorker::OnWorkComplete(env, status);
    } catch (...) {
    }
  }

  // Queues `job` and returns its promise; the worker deletes itself when done.
  static Napi::Value queue(Napi::Env env, const char* name, Job job, std::vector<Napi::ObjectReference> keep) {
    auto* worker = new JobWorker(env, name, std::move(job), std::move(keep));
    Napi::Promise promise = worker->deferred_.Promise();
    worker->Queue();
    return promise;
  }

 private:
  Napi::Promise::Deferred deferred_;
  Job job_;
  std::vector<Napi::ObjectReference> keep_;
};

}  // namespace binding
}  // namespace modprop
