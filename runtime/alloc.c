/*
** alloc.c -- the Lua state's allocator: segregated free lists for small
** blocks (16-byte size classes up to 1 KiB, which covers a coroutine's
** initial stack) carved from 1 MiB slabs, plain malloc above that.  A slab
** is mapped with MAP_POPULATE: one system call faults in its 256 pages,
** where touching them one by one cost a fault each (a tenth of the time
** of spawning 100,000 tasks).  Huge pages made runs bimodal (compaction
** stalls on fault).  Tasks make many small, short-lived objects of a
** few sizes (threads, userdata, closures); a free list serves them in a few
** instructions and without malloc's per-block header.  Slabs are returned
** when the state closes.  Sanitizer builds use plain malloc so that ASan
** sees every block.
*/
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "internal.h"

#define CLASS_SHIFT 4
#define MAX_SMALL 1024
#define NCLASSES (MAX_SMALL >> CLASS_SHIFT)
#define SLAB_SIZE (1024 * 1024)

typedef struct freeblock { struct freeblock *next; } freeblock_t;
typedef struct slab { struct slab *next; } slab_t;

struct aiolua_alloc {
  freeblock_t *free[NCLASSES + 1];
  slab_t *slabs;
  char *bump, *bump_end;  /* the unused tail of the newest slab */
};

static size_t class_of(size_t n) { return (n + 15) >> CLASS_SHIFT; }

/* A new block of class cls from a new slab.  NULL if mmap fails. */
static __attribute__((noinline)) void *slab_alloc(aiolua_alloc_t *a,
                                                  size_t cls) {
  size_t size = cls << CLASS_SHIFT;
  /* the first slab is faulted in lazily: a short script never touches
  ** most of it, and start-up time matters */
  int populate = a->slabs ? MAP_POPULATE : 0;
  slab_t *s = mmap(NULL, SLAB_SIZE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | populate, -1, 0);
  if (s == MAP_FAILED) return NULL;
  s->next = a->slabs;
  a->slabs = s;
  a->bump = (char *)s + 16;  /* keep 16-byte alignment */
  a->bump_end = (char *)s + SLAB_SIZE;
  void *p = a->bump;
  a->bump += size;
  return p;
}

static void *small_alloc(aiolua_alloc_t *a, size_t cls) {
  freeblock_t *b = a->free[cls];
  if (b) {
    a->free[cls] = b->next;
    return b;
  }
  size_t size = cls << CLASS_SHIFT;
  if ((size_t)(a->bump_end - a->bump) < size) return slab_alloc(a, cls);
  void *p = a->bump;
  a->bump += size;
  return p;
}

static void small_free(aiolua_alloc_t *a, void *p, size_t cls) {
  freeblock_t *b = p;
  b->next = a->free[cls];
  a->free[cls] = b;
}

/* Everything but a new or freed small block: resizes, large blocks. */
static __attribute__((noinline)) void *alloc_slow(aiolua_alloc_t *a,
                                                  void *ptr, size_t osize,
                                                  size_t nsize) {
  if (ptr == NULL) osize = 0;  /* osize then only tells the object type */
  if (nsize == 0) {
    if (ptr) free(ptr);        /* a large block: small ones are freed above */
    return NULL;
  }
  if (nsize <= MAX_SMALL) {
    size_t cls = class_of(nsize);
    if (ptr && osize <= MAX_SMALL && class_of(osize) == cls) return ptr;
    void *p = small_alloc(a, cls);
    if (p && ptr) {
      memcpy(p, ptr, osize < nsize ? osize : nsize);
      if (osize <= MAX_SMALL) small_free(a, ptr, class_of(osize));
      else free(ptr);
    }
    return p;
  }
  if (ptr && osize > MAX_SMALL) return realloc(ptr, nsize);
  void *p = malloc(nsize);
  if (p && ptr) {
    memcpy(p, ptr, osize);
    small_free(a, ptr, class_of(osize));
  }
  return p;
}

/* The fast paths, a new or freed small block, call nothing, so they need
** no register saves; the rest is a tail call. */
static void *l_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  aiolua_alloc_t *a = ud;
  if (ptr == NULL) {
    if (nsize - 1 < MAX_SMALL) {         /* 1..MAX_SMALL */
      size_t cls = class_of(nsize);
      freeblock_t *b = a->free[cls];
      if (b) {
        a->free[cls] = b->next;
        return b;
      }
      size_t size = cls << CLASS_SHIFT;
      if ((size_t)(a->bump_end - a->bump) >= size) {
        void *p = a->bump;
        a->bump += size;
        return p;
      }
    }
  } else if (nsize == 0 && osize <= MAX_SMALL) {
    small_free(a, ptr, class_of(osize));
    return NULL;
  }
  return alloc_slow(a, ptr, osize, nsize);
}

static void *l_alloc_plain(void *ud, void *ptr, size_t osize, size_t nsize) {
  (void)ud;
  (void)osize;
  if (nsize == 0) {
    free(ptr);
    return NULL;
  }
  return realloc(ptr, nsize);
}

#if defined(__SANITIZE_ADDRESS__)
#define USE_PLAIN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define USE_PLAIN 1
#endif
#endif

lua_State *aiolua__newstate(aiolua_alloc_t **ap) {
#ifdef USE_PLAIN
  (void)l_alloc;
  *ap = NULL;
  return lua_newstate(l_alloc_plain, NULL);
#else
  (void)l_alloc_plain;
  aiolua_alloc_t *a = calloc(1, sizeof *a);
  if (a == NULL) return NULL;
  lua_State *L = lua_newstate(l_alloc, a);
  if (L == NULL) free(a);
  *ap = L ? a : NULL;
  return L;
#endif
}

/* Frees the slabs; call after lua_close. */
void aiolua__alloc_free(aiolua_alloc_t *a) {
  if (a == NULL) return;
  for (slab_t *s = a->slabs, *next; s; s = next) {
    next = s->next;
    munmap(s, SLAB_SIZE);
  }
  free(a);
}
