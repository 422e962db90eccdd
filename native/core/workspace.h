// Internal: per-thread scratch memory reused across calls. A paper-size bptt call needs tens of MB per chunk;
// allocating them fresh each call costs a page fault per 4 KB (and zero-filling them is wasted work), which at
// B=32, T=900 was ~10 % of the call. The memory is uninitialised: callers write before they read.
#pragma once
#include <cstddef>
#include <memory>

namespace modprop {

class Workspace {
 public:
  // Kept between calls up to this size; larger requests are released when the Workspace is destroyed.
  static constexpr std::size_t kRetainBytes = std::size_t(256) << 20;

  explicit Workspace(std::size_t bytes);
  ~Workspace();
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;

  // The next `count` elements, 64-byte aligned.
  template <typename Real>
  Real* take(std::size_t count) {
    Real* p = reinterpret_cast<Real*>(base_ + used_);
    used_ += round(count * sizeof(Real));
    return p;
  }
  static std::size_t round(std::size_t bytes) { return (bytes + 63) & ~std::size_t(63); }

 private:
  char* base_;
  std::size_t used_ = 0;
  bool owned_ = false;  // true when this call's buffer is not the thread's retained one
};

}  // namespace modprop
