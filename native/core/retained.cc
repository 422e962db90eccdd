// See retained.h.
#include "retained.h"

#include <cstdlib>
#include <mutex>
#include <new>
#include <vector>

namespace modprop {
namespace retained {
namespace {

struct Block {
  void* ptr;
  std::size_t bytes;
};

std::mutex& lock() {
  static std::mutex m;
  return m;
}

// Most recently returned last. Leaked at exit on purpose (no destructor order to get wrong at process teardown).
std::vector<Block>& cache() {
  static auto* blocks = new std::vector<Block>();
  return *blocks;
}

std::size_t total = 0;

void* allocate(std::size_t bytes) {
  void* p = std::aligned_alloc(64, (bytes + 63) & ~std::size_t(63));
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

}  // namespace

void* acquire(std::size_t bytes, std::size_t* capacity) {
  const std::size_t rounded = (bytes + 63) & ~std::size_t(63);
  if (rounded >= kMinBytes) {
    std::lock_guard<std::mutex> guard(lock());
    auto& blocks = cache();
    // The smallest cached block that fits and is not more than twice the request (a small call must not hold a
    // large block another call could use).
    std::size_t best = blocks.size();
    for (std::size_t i = 0; i < blocks.size(); i++) {
      const std::size_t b = blocks[i].bytes;
      if (b >= rounded && b / 2 <= rounded && (best == blocks.size() || b < blocks[best].bytes)) best = i;
    }
    if (best != blocks.size()) {
      const Block found = blocks[best];
      blocks.erase(blocks.begin() + std::ptrdiff_t(best));
      total -= found.bytes;
      *capacity = found.bytes;
      return found.ptr;
    }
  }
  *capacity = rounded;
  return allocate(rounded);
}

void release(void* block, std::size_t capacity) {
  if (block == nullptr) return;
  if (capacity < kMinBytes || capacity > kCacheBytes) {
    std::free(block);
    return;
  }
  std::vector<void*> evicted;
  {
    std::lock_guard<std::mutex> guard(lock());
    auto& blocks = cache();
    blocks.push_back({block, capacity});
    total += capacity;
    // Over the budget: drop the least recently returned blocks.
    while (total > kCacheBytes) {
      evicted.push_back(blocks.front().ptr);
      total -= blocks.front().bytes;
      blocks.erase(blocks.begin());
    }
  }
  for (void* p : evicted) std::free(p);
}

std::size_t cachedBytes() {
  std::lock_guard<std::mutex> guard(lock());
  return total;
}

}  // namespace retained
}  // namespace modprop
