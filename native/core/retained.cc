// See retained.h.
#include "retained.h"

#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <new>
#include <string>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#endif

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

// Linux: transparent huge pages for the 2 MiB-aligned interior of a fresh block (madvise before its first touch),
// as lib/largeArrays.ts does for large typed arrays: the blocks are streamed whole every step (Wrec's panels, 64 MB at
// N = 4096), and with 4 KiB pages each pass walks 16 Ki page-table entries, far beyond the TLB. Only the backing
// changes, never a value; MODPROP_HUGE_PAGES=0 turns it off, for comparison.
void adviseHugePages(void* p, std::size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  static const bool enabled = [] {
    const char* v = std::getenv("MODPROP_HUGE_PAGES");
    return v == nullptr || std::string(v) != "0";
  }();
  constexpr std::uintptr_t huge = std::uintptr_t(2) << 20;
  if (!enabled || bytes < 2 * huge) return;
  const std::uintptr_t begin = (reinterpret_cast<std::uintptr_t>(p) + huge - 1) & ~(huge - 1);
  const std::uintptr_t end = (reinterpret_cast<std::uintptr_t>(p) + bytes) & ~(huge - 1);
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);  // advice: a refusal is fine
#else
  (void)p, (void)bytes;
#endif
}

void* allocate(std::size_t bytes) {
  const std::size_t rounded = (bytes + 63) & ~std::size_t(63);
  void* p = std::aligned_alloc(64, rounded);
  if (p == nullptr) throw std::bad_alloc();
  adviseHugePages(p, rounded);
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
