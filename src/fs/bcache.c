/* bcache.c - the block cache (fs/bcache.h).
 *
 * Layout and invariants:
 *  - Every buffer is on bc->all. A buffer with refs == 0 is on bc->lru
 *    (most recently used at the head); a held buffer (refs > 0) is on no
 *    LRU list and is never freed or recycled.
 *  - A buffer is on a hash chain iff valid: its data is block `blockno` as
 *    the device returned it. Buffers that are not valid sit at the LRU
 *    tail, so they are reused before any cached block is evicted.
 *  - A read fills a buffer that is off every list; only on success does
 *    it become valid and hashed. A failed read leaves it invalid: bad data
 *    is never found by a lookup.
 *  - Reserve buffers are ordinary buffers the shrinker skips, so the
 *    cache never shrinks below `reserve` buffers.
 * New buffers are allocated with GFP_NOSHRINK (the cache recycles its own
 * LRU buffer rather than ask the shrinkers, itself among them), and before
 * any list is touched, so even a shrinker run would see consistent lists.
 *
 * Locking: the lists, the counts and a buffer's refs are guarded by the
 * cache's own lock (bc->lock, an mm_spinlock_t), since the shrinker runs
 * on whatever hart runs out of memory. It is never held across a device
 * read or an allocation (both can wait: for the device, for another
 * hart's reclaim walk), which is why a buffer being filled is on no list:
 * nobody else can reach it. Lock order: bc->lock, then the mm lock (a
 * buffer is freed with it held); the reclaim walk calls the shrinker with
 * no lock held. */
#include "fs/bcache.h"
#include "lib/list.h"
#include "mm/kmalloc.h"
#include "mm/mm_env.h"
#include "mm/shrinker.h"

#include <stdbool.h>
#include <string.h>

#define BCACHE_HASH 64u                 /* buckets, a power of two */
#define BCACHE_MAX_BLOCK (64u * 1024)

struct bcache_buf {
	struct list_head all;
	struct list_head lru;
	struct list_head hash;
	uint64_t blockno;
	uint8_t *data;
	unsigned refs;
	bool valid;
	bool reserve;
};

struct bcache {
	struct blkdev *dev;
	uint32_t block_size;
	uint32_t spb;                 /* device sectors per block */
	uint64_t nr_blocks;
	struct list_head all, lru;
	struct list_head hash[BCACHE_HASH];
	struct shrinker shrinker;
	mm_spinlock_t lock;           /* the lists, counts and refs */
	struct bcache_stats st;
};

static struct list_head *bucket(struct bcache *bc, uint64_t blockno)
{
	uint64_t h = blockno * 0x9E3779B97F4A7C15ull;

	return &bc->hash[(h >> 32) & (BCACHE_HASH - 1)];
}

static unsigned long buf_bytes(const struct bcache *bc)
{
	return bc->block_size + sizeof(struct bcache_buf);
}

/* A new invalid buffer, on no list; NULL when memory runs out. The cache
 * does not ask the shrinkers (itself among them) to make room for its own
 * growth: when memory is short it reuses its least recently used buffer. */
static struct bcache_buf *buf_alloc(struct bcache *bc)
{
	struct bcache_buf *b;
	void *data;

	if (kmem_try_alloc(sizeof(*b), 0, GFP_ZERO | GFP_NOSHRINK, (void **)&b))
		return NULL;
	if (kmem_try_alloc(bc->block_size, 0, GFP_NOSHRINK, &data)) {
		kfree(b);
		return NULL;
	}
	b->data = data;
	list_init(&b->all);
	list_init(&b->lru);
	list_init(&b->hash);
	return b;
}

/* Free a buffer that is on no list and not counted. */
static void buf_destroy(struct bcache_buf *b)
{
	kfree(b->data);
	kfree(b);
}

static void buf_free(struct bcache *bc, struct bcache_buf *b)
{
	list_del(&b->hash);
	list_del(&b->lru);
	list_del(&b->all);
	buf_destroy(b);
	bc->st.buffers--;
}

/* Forget the block b holds (it stays on its LRU position). */
static void buf_unhash(struct bcache_buf *b)
{
	list_del(&b->hash);
	b->valid = false;
}

static unsigned long lru_count(struct shrinker *s)
{
	struct bcache *bc = container_of(s, struct bcache, shrinker);
	unsigned long n = 0, f = mm_spin_lock(&bc->lock);
	struct list_head *p;

	list_for_each(p, &bc->lru)
		if (!list_entry(p, struct bcache_buf, lru)->reserve)
			n++;
	mm_spin_unlock(&bc->lock, f);
	return n * buf_bytes(bc);
}

/* The shrinker: free up to nr_bytes of unused, non-reserve buffers, LRU
 * first. Returns the bytes freed. */
static unsigned long lru_scan(struct shrinker *s, unsigned long nr_bytes)
{
	struct bcache *bc = container_of(s, struct bcache, shrinker);
	unsigned long freed = 0, f = mm_spin_lock(&bc->lock);   /* kfree under it */
	struct list_head *p = bc->lru.prev, *prev;

	bc->st.shrinker_calls++;
	while (p != &bc->lru && freed < nr_bytes) {
		struct bcache_buf *b = list_entry(p, struct bcache_buf, lru);

		prev = p->prev;
		if (!b->reserve) {
			buf_free(bc, b);
			bc->st.shrinker_freed++;
			freed += buf_bytes(bc);
		}
		p = prev;
	}
	mm_spin_unlock(&bc->lock, f);
	return freed;
}

static bool block_size_ok(const struct blkdev *dev, uint32_t bs)
{
	if (dev->sector_size == 0 || bs < dev->sector_size ||
	    bs > BCACHE_MAX_BLOCK || (bs & (bs - 1)) ||
	    bs % dev->sector_size)
		return false;
	return true;
}

/* Allocate the reserve buffers onto the LRU; false when memory runs out. */
static bool reserve_fill(struct bcache *bc, unsigned reserve)
{
	for (unsigned i = 0; i < reserve; i++) {
		struct bcache_buf *b = buf_alloc(bc);

		if (!b)
			return false;
		b->reserve = true;
		list_add_tail(&b->all, &bc->all);
		list_add_tail(&b->lru, &bc->lru);
		bc->st.buffers++;
	}
	return true;
}

int bcache_create(struct blkdev *dev, uint32_t block_size, unsigned reserve,
		  struct bcache **out)
{
	struct bcache *bc;

	if (!dev || !out || !dev->read || !block_size_ok(dev, block_size) ||
	    reserve == 0 || reserve > BCACHE_DEFAULT_LIMIT)
		return -EINVAL;
	if (kmem_try_alloc(sizeof(*bc), 0, GFP_ZERO, (void **)&bc))
		return -ENOMEM;
	bc->dev = dev;
	bc->block_size = block_size;
	bc->spb = block_size / dev->sector_size;
	bc->nr_blocks = dev->capacity / bc->spb;
	mm_spin_init(&bc->lock, "bcache");
	list_init(&bc->all);
	list_init(&bc->lru);
	for (unsigned i = 0; i < BCACHE_HASH; i++)
		list_init(&bc->hash[i]);
	bc->st.block_size = block_size;
	bc->st.limit = BCACHE_DEFAULT_LIMIT;
	bc->st.reserve = reserve;
	if (!reserve_fill(bc, reserve))
		goto undo_buffers;
	bc->shrinker.count = lru_count;
	bc->shrinker.scan = lru_scan;
	shrinker_register(&bc->shrinker);
	*out = bc;
	return 0;

undo_buffers:
	while (!list_empty(&bc->all))
		buf_free(bc, list_first_entry(&bc->all, struct bcache_buf, all));
	kfree(bc);
	return -ENOMEM;
}

void bcache_destroy(struct bcache *bc)
{
	if (!bc)
		return;
	shrinker_unregister(&bc->shrinker);
	if (bc->st.held)
		mm_report("bcache_destroy: %lu buffers of %s still held",
			  bc->st.held, bc->dev->name ? bc->dev->name : "?");
	while (!list_empty(&bc->all))
		buf_free(bc, list_first_entry(&bc->all, struct bcache_buf, all));
	kfree(bc);
}

int bcache_set_limit(struct bcache *bc, unsigned long limit)
{
	struct list_head *p, *prev;

	unsigned long f;

	if (!bc || limit < bc->st.reserve)
		return -EINVAL;
	f = mm_spin_lock(&bc->lock);
	bc->st.limit = limit;
	for (p = bc->lru.prev; p != &bc->lru && bc->st.buffers > limit; p = prev) {
		struct bcache_buf *b = list_entry(p, struct bcache_buf, lru);

		prev = p->prev;
		if (!b->reserve)
			buf_free(bc, b);
	}
	mm_spin_unlock(&bc->lock, f);
	return 0;
}

static struct bcache_buf *lookup(struct bcache *bc, uint64_t blockno)
{
	struct list_head *head = bucket(bc, blockno), *p;

	list_for_each(p, head) {
		struct bcache_buf *b = list_entry(p, struct bcache_buf, hash);

		if (b->blockno == blockno)
			return b;
	}
	return NULL;
}

/* The LRU's last buffer taken off it if it is empty (invalid), or, when
 * evict, whatever it holds (forgotten); NULL otherwise. bc->lock held. */
static struct bcache_buf *lru_take(struct bcache *bc, bool evict)
{
	struct bcache_buf *b;

	if (list_empty(&bc->lru))
		return NULL;
	b = list_entry(bc->lru.prev, struct bcache_buf, lru);
	if (b->valid && !evict)
		return NULL;
	if (b->valid) {
		buf_unhash(b);
		bc->st.evictions++;
	}
	list_del(&b->lru);
	return b;
}

/* A buffer for a new block, on no list (refs still 0): an empty one, else
 * a newly allocated one, else the least recently used. Called without
 * bc->lock (an allocation may wait); what was decided before the
 * allocation is looked at again after it, since other harts ran. */
static struct bcache_buf *buf_obtain(struct bcache *bc)
{
	unsigned long f = mm_spin_lock(&bc->lock);
	struct bcache_buf *b = lru_take(bc, false);
	bool grow = !b && bc->st.buffers < bc->st.limit;

	mm_spin_unlock(&bc->lock, f);
	if (b || !grow)
		goto evict;
	b = buf_alloc(bc);
	f = mm_spin_lock(&bc->lock);
	if (b && bc->st.buffers >= bc->st.limit) {
		/* Others grew the cache to its limit while the lock was
		 * dropped (or the limit came down): no growth past it. */
		buf_destroy(b);
		b = NULL;
	} else if (b) {
		list_add_tail(&b->all, &bc->all);
		bc->st.buffers++;
	} else {
		bc->st.alloc_failures++;
	}
	mm_spin_unlock(&bc->lock, f);
evict:
	if (!b) {
		f = mm_spin_lock(&bc->lock);
		b = lru_take(bc, true);
		mm_spin_unlock(&bc->lock, f);
	}
	return b;
}

/* Take a reference on a cached buffer (off the LRU on its first).
 * bc->lock held. */
static void buf_hold(struct bcache *bc, struct bcache_buf *b)
{
	if (b->refs++ == 0) {
		list_del(&b->lru);
		bc->st.held++;
	}
}

/* A read of blockno into b, off every list, has succeeded: cache it and
 * hold it, unless another reader (another hart, with the lock dropped
 * for its own read) cached the block meanwhile; then hold that one and
 * give b back to the LRU as an empty buffer, so a block is never cached
 * twice. Returns the buffer to hand out. bc->lock held. */
static struct bcache_buf *buf_publish(struct bcache *bc, struct bcache_buf *b,
				      uint64_t blockno)
{
	struct bcache_buf *have = lookup(bc, blockno);

	if (have) {
		bc->st.read_races++;
		list_add_tail(&b->lru, &bc->lru);   /* invalid: reused first */
		buf_hold(bc, have);
		return have;
	}
	b->blockno = blockno;
	b->valid = true;
	b->refs = 1;
	bc->st.held++;
	list_add(&b->hash, bucket(bc, blockno));
	return b;
}

int bcache_get(struct bcache *bc, uint64_t blockno, struct bcache_buf **out)
{
	struct bcache_buf *b;
	unsigned long f;
	int ret;

	if (!bc || !out || blockno >= bc->nr_blocks)
		return -EINVAL;
	f = mm_spin_lock(&bc->lock);
	b = lookup(bc, blockno);
	if (b) {
		bc->st.hits++;
		buf_hold(bc, b);
		mm_spin_unlock(&bc->lock, f);
		*out = b;
		return 0;
	}
	bc->st.misses++;
	mm_spin_unlock(&bc->lock, f);
	b = buf_obtain(bc);
	if (!b)
		return -ENOMEM;
	ret = blk_read(bc->dev, blockno * bc->spb, bc->spb, b->data);
	f = mm_spin_lock(&bc->lock);
	bc->st.reads++;
	if (ret) {
		bc->st.read_errors++;
		list_add_tail(&b->lru, &bc->lru);  /* invalid: reused first */
		mm_spin_unlock(&bc->lock, f);
		return ret == -EINVAL ? -EINVAL : -EIO;
	}
	*out = buf_publish(bc, b, blockno);
	mm_spin_unlock(&bc->lock, f);
	return 0;
}

void bcache_put(struct bcache *bc, struct bcache_buf *b)
{
	unsigned long f;

	if (!bc || !b)
		return;
	f = mm_spin_lock(&bc->lock);
	if (b->refs == 0) {
		mm_spin_unlock(&bc->lock, f);
		mm_report("bcache_put: buffer of block %lu not held",
			  (unsigned long)b->blockno);
		return;
	}
	if (--b->refs == 0) {
		list_add(&b->lru, &bc->lru);
		bc->st.held--;
	}
	mm_spin_unlock(&bc->lock, f);
}

const uint8_t *bcache_data(const struct bcache_buf *b)
{
	return b->data;
}

int bcache_read(struct bcache *bc, uint64_t blockno, uint32_t offset,
		uint32_t len, void *dst)
{
	struct bcache_buf *b;
	int ret;

	if (!bc || (len && !dst) || offset > bc->block_size ||
	    len > bc->block_size - offset)
		return -EINVAL;
	ret = bcache_get(bc, blockno, &b);
	if (ret)
		return ret;
	memcpy(dst, b->data + offset, len);
	bcache_put(bc, b);
	return 0;
}

int bcache_read_direct(struct bcache *bc, uint64_t blockno, uint32_t count,
		       void *dst)
{
	uint8_t *p = dst;
	uint32_t per;

	if (!bc || !dst || count == 0 || blockno >= bc->nr_blocks ||
	    count > bc->nr_blocks - blockno)
		return -EINVAL;
	per = BCACHE_DIRECT_MAX / bc->block_size;   /* >= 4: blocks are at most 64 KiB */
	while (count) {
		uint32_t n = count < per ? count : per;
		int ret;

		unsigned long f;

		ret = blk_read(bc->dev, blockno * bc->spb, n * bc->spb, p);
		f = mm_spin_lock(&bc->lock);
		bc->st.reads++;
		bc->st.direct_reads++;
		if (ret)
			bc->st.read_errors++;
		else
			bc->st.direct_blocks += n;
		mm_spin_unlock(&bc->lock, f);
		if (ret)
			return ret == -EINVAL ? -EINVAL : -EIO;
		blockno += n;
		count -= n;
		p += (size_t)n * bc->block_size;
	}
	return 0;
}

void bcache_invalidate(struct bcache *bc)
{
	unsigned long f = mm_spin_lock(&bc->lock);
	struct list_head *p, *n;

	list_for_each_safe(p, n, &bc->lru) {
		struct bcache_buf *b = list_entry(p, struct bcache_buf, lru);

		if (b->valid) {
			buf_unhash(b);
			list_del(&b->lru);
			list_add_tail(&b->lru, &bc->lru);
		}
	}
	mm_spin_unlock(&bc->lock, f);
}

uint64_t bcache_nr_blocks(const struct bcache *bc)
{
	return bc->nr_blocks;
}

void bcache_get_stats(const struct bcache *bc, struct bcache_stats *out)
{
	struct bcache *w = (struct bcache *)bc;   /* the lock changes, the cache does not */
	unsigned long f = mm_spin_lock(&w->lock);

	*out = bc->st;
	mm_spin_unlock(&w->lock, f);
}

/* Violations in one hash chain: an entry not valid, in the wrong bucket,
 * or for a block an earlier entry of the chain already holds. */
static unsigned long check_chain(struct bcache *bc, struct list_head *head)
{
	unsigned long bad = 0;
	struct list_head *p, *q;

	list_for_each(p, head) {
		struct bcache_buf *b = list_entry(p, struct bcache_buf, hash);

		if (!b->valid || bucket(bc, b->blockno) != head) {
			mm_report("bcache_check: block %lu hashed %s",
				  (unsigned long)b->blockno,
				  b->valid ? "in the wrong bucket" : "but not valid");
			bad++;
		}
		for (q = head->next; q != p; q = q->next)
			if (list_entry(q, struct bcache_buf, hash)->blockno == b->blockno) {
				mm_report("bcache_check: block %lu cached twice",
					  (unsigned long)b->blockno);
				bad++;
				break;
			}
	}
	return bad;
}

unsigned long bcache_check(struct bcache *bc)
{
	unsigned long bad = 0, buffers = 0, held = 0, f;
	struct list_head *p;

	f = mm_spin_lock(&bc->lock);
	for (unsigned i = 0; i < BCACHE_HASH; i++)
		bad += check_chain(bc, &bc->hash[i]);
	list_for_each(p, &bc->all) {
		struct bcache_buf *b = list_entry(p, struct bcache_buf, all);
		bool hashed = !list_empty(&b->hash), on_lru = !list_empty(&b->lru);

		buffers++;
		held += b->refs > 0;
		if (hashed != b->valid || (b->refs && on_lru)) {
			mm_report("bcache_check: buffer of block %lu: valid %d hashed %d refs %u on the LRU %d",
				  (unsigned long)b->blockno, b->valid, hashed, b->refs, on_lru);
			bad++;
		}
	}
	if (buffers != bc->st.buffers || held != bc->st.held) {
		mm_report("bcache_check: %lu buffers, %lu held; counts say %lu, %lu",
			  buffers, held, bc->st.buffers, bc->st.held);
		bad++;
	}
	mm_spin_unlock(&bc->lock, f);
	return bad;
}
