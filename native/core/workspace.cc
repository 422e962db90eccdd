#include "workspace.h"

#include <cstdlib>
#include <new>

namespace modprop {

namespace {

struct Retained {
  char* data = nullptr;
  std::size_t bytes = 0;
  bool inUse = false;
  ~Retained() { std::free(data); }
};
thread_local Retained retained;

char* allocate(std::size_t bytes) {
  void* p = std::aligned_alloc(64, Workspace::round(bytes ? bytes : 64));
  if (p == nullptr) throw std::bad_alloc();
  return static_cast<char*>(p);
}

}  // namespace

Workspace::Workspace(std::size_t bytes) {
  if (retained.inUse || bytes > kRetainBytes) {  // nested use on one thread, or too big to keep
    base_ = allocate(bytes);
    owned_ = true;
    return;
  }
  if (retained.bytes < bytes) {
    std::free(retained.data);
    retained.data = nullptr;
    retained.bytes = 0;
    retained.data = allocate(bytes);
    retained.bytes = round(bytes);
  }
  retained.inUse = true;
  base_ = retained.data;
}

Workspace::~Workspace() {
  if (owned_)
    std::free(base_);
  else
    retained.inUse = false;
}

}  // namespace modprop
