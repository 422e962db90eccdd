// Internal: large buffers that outlive the call that used them, for the next call to reuse. At N = 4096 a gradient
// call needs ~256 MB of per-call buffers (the chunk accumulators, N² floats per thread, and Wrec's packed panels, two
// N² copies); fresh memory costs a page fault per 4 KB, and on some virtual machines (the bench's) first-touched
// memory comes at ~0.3 GB/s: 0.7 s of a 1.5 s bptt call went to the kernel. Reused memory is only re-zeroed.
//
// A process-wide cache, not per thread like workspace.h's Workspace (which serves the per-thread state buffers of the
// pool's chunks; libuv's four workers would each keep their own copy of these): a buffer of at least
// kMinBytes goes back to the cache when its owner is destroyed, and the cache keeps at most kCacheBytes (the most
// recently returned buffers first). Smaller buffers are plain heap allocations. Thread-safe.
#pragma once
#include <algorithm>
#include <cstddef>
#include <utility>

namespace modprop {
namespace retained {

constexpr std::size_t kMinBytes = std::size_t(1) << 20;
constexpr std::size_t kCacheBytes = std::size_t(512) << 20;

// At least `bytes` bytes, 64-byte aligned, contents unspecified; *capacity receives the block's real size.
void* acquire(std::size_t bytes, std::size_t* capacity);
// Gives a block from acquire back (to the cache, or to the heap when it is small or the cache is full).
void release(void* block, std::size_t capacity);
// Bytes the cache holds now (for tests).
std::size_t cachedBytes();

}  // namespace retained

// Tag of the Retained constructor that leaves the contents unspecified, for a caller that writes every entry itself.
struct Uninitialized {};

// A zero-filled array of T drawn from the retained cache: the subset of std::vector that the kernels use
// (data, size, empty, indexing), movable, not copyable.
template <typename T>
class Retained {
 public:
  Retained() = default;
  explicit Retained(std::size_t count) : Retained(count, Uninitialized{}) {
    if (data_ != nullptr) std::fill(data_, data_ + count, T(0));
  }
  // Contents unspecified (a packed copy of Wrec at N = 4096 is 67 MB: zeroing it first cost a write of every byte).
  Retained(std::size_t count, Uninitialized) : size_(count) {
    if (count == 0) return;
    data_ = static_cast<T*>(retained::acquire(count * sizeof(T), &capacity_));
  }
  ~Retained() { reset(); }
  Retained(Retained&& o) noexcept { swap(o); }
  Retained& operator=(Retained&& o) noexcept {
    if (this != &o) {
      reset();
      swap(o);
    }
    return *this;
  }
  Retained(const Retained&) = delete;
  Retained& operator=(const Retained&) = delete;

  T* data() { return data_; }
  const T* data() const { return data_; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T& operator[](std::size_t i) { return data_[i]; }
  const T& operator[](std::size_t i) const { return data_[i]; }

 private:
  void reset() {
    if (data_ != nullptr) retained::release(data_, capacity_);
    data_ = nullptr;
    size_ = capacity_ = 0;
  }
  void swap(Retained& o) {
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
    std::swap(capacity_, o.capacity_);
  }

  T* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

}  // namespace modprop
