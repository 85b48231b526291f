-- heap-keep.lua -- the aiolua binary keeps freed heap for reuse
-- (runtime/main.c, tune_malloc: glibc's mmap and trim thresholds at
-- 32 MiB), so that large strings collected in batches (HTTP bodies) are
-- not faulted in again page by page.  An 8 MiB string, once collected,
-- leaves its pages resident; with glibc's defaults it would be an mmap of
-- its own, unmapped when freed.  Run by the aiolua binary only: an
-- embedding host sets its own policy (and the sanitizers their allocator).
local function rss_kb()
  local f = assert(io.open("/proc/self/status"))
  local s = f:read("a")
  f:close()
  return assert(tonumber(s:match("VmRSS:%s*(%d+)")))
end

collectgarbage()
collectgarbage()
local r0 = rss_kb()
local s = string.rep("x", 8 << 20)
local r1 = rss_kb()
assert(#s == 8 << 20)
s = nil
collectgarbage()
collectgarbage()
local r2 = rss_kb()
print(("RSS %d kB, %d kB with the string, %d kB after it was collected")
      :format(r0, r1, r2))
assert(r1 - r0 >= 6 * 1024, "the string was not made resident")
assert(r2 - r0 >= 6 * 1024, "the freed heap was given back to the kernel")
print("freed heap kept")
