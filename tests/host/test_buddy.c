/* test_buddy.c - host tests of the frame array, zones and buddy allocator.
 *
 * RAM is a host buffer that pretends to sit at a physical base (virt =
 * phys + virt_offset), so zones split as on the board: layout A is 64 MiB
 * at 0x80000000 (DMA + Normal), layout B 48 MiB at 0xFE000000 (DMA, Normal
 * and High across 4 GiB), layout C has a hole and a fully reserved first
 * region. Seeds are fixed and printed. */
#include "tap.h"
#include "kerrno.h"
#include "mm/buddy.h"
#include "mm/page.h"
#include "../../src/host/mm_host.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define MiB (1ULL << 20)
#define MAX_RESV 160

struct fixture {
	uint64_t base, size;           /* physical span the buffer backs */
	unsigned char *mem;
	struct mm_region ram[2];
	struct mm_region resv[MAX_RESV];
	struct mm_layout l;
};

static struct fixture fx_a, fx_b, fx_c;

/* ---- helpers ------------------------------------------------------------- */

static unsigned char *buffer_for(struct fixture *f, uint64_t base, uint64_t size)
{
	if (!f->mem) {
		f->mem = aligned_alloc(1 << 22, size);
		if (!f->mem) {
			perror("aligned_alloc");
			exit(2);
		}
	}
	f->base = base;
	f->size = size;
	f->l.virt_offset = (uintptr_t)f->mem - (uintptr_t)base;
	return f->mem;
}

/* A: 64 MiB at 2 GiB; firmware 2 MiB, kernel, an unaligned DTB. */
static struct fixture *layout_a(void)
{
	struct fixture *f = &fx_a;

	buffer_for(f, 0x80000000ULL, 64 * MiB);
	f->ram[0] = (struct mm_region){ 0x80000000ULL, 64 * MiB };
	f->resv[0] = (struct mm_region){ 0x80000000ULL, 2 * MiB };
	f->resv[1] = (struct mm_region){ 0x83e00123ULL, 0x1800 };
	f->l.ram = f->ram;
	f->l.nram = 1;
	f->l.reserved = f->resv;
	f->l.nreserved = 2;
	f->l.kernel = (struct mm_region){ 0x80200000ULL, 0x63456 };
	return f;
}

/* B: 48 MiB at 0xFE000000: DMA 16 MiB, Normal 16 MiB, High 16 MiB. */
static struct fixture *layout_b(void)
{
	struct fixture *f = &fx_b;

	buffer_for(f, 0xFE000000ULL, 48 * MiB);
	f->ram[0] = (struct mm_region){ 0xFE000000ULL, 48 * MiB };
	f->resv[0] = (struct mm_region){ 0xFE000000ULL, 2 * MiB };
	f->l.ram = f->ram;
	f->l.nram = 1;
	f->l.reserved = f->resv;
	f->l.nreserved = 1;
	f->l.kernel = (struct mm_region){ 0xFE200000ULL, 0x40000 };
	return f;
}

/* C: two RAM regions with a hole; the first is all reserved, the second
 * starts and ends off any block alignment and crosses the DMA boundary. */
static struct fixture *layout_c(void)
{
	struct fixture *f = &fx_c;

	buffer_for(f, 0x80000000ULL, 24 * MiB);
	f->ram[0] = (struct mm_region){ 0x80000000ULL, 6 * MiB };
	f->ram[1] = (struct mm_region){ 0x80903000ULL, 0x817ff800ULL - 0x80903000ULL };
	f->resv[0] = (struct mm_region){ 0x80000000ULL, 6 * MiB };
	f->l.ram = f->ram;
	f->l.nram = 2;
	f->l.reserved = f->resv;
	f->l.nreserved = 1;
	f->l.kernel = (struct mm_region){ 0, 0 };
	return f;
}

static int init(struct fixture *f)
{
	return page_alloc_init(&f->l);
}

/* Every case: the fixtures as new (their buffers kept), reports printed,
 * and a fresh allocator on layout A; a case wanting another layout (or
 * none) initialises it itself. */
static void before(void)
{
	struct fixture *fx[] = { &fx_a, &fx_b, &fx_c };

	for (unsigned i = 0; i < sizeof(fx) / sizeof(fx[0]); i++) {
		unsigned char *mem = fx[i]->mem;

		memset(fx[i], 0, sizeof(*fx[i]));
		fx[i]->mem = mem;
	}
	mm_host_quiet = 0;
	if (init(layout_a()) != 0) {
		printf("Bail out! page_alloc_init on layout A failed\n");
		exit(1);
	}
}

static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

static void seed(const char *test, uint64_t s)
{
	tap_seed(test, s);
	rng_state = s ? s : 1;
}

struct snap {
	unsigned long nr_free[NR_ZONES][MAX_ORDER + 1];
	unsigned long free[NR_ZONES];
};

static void snap_take(struct snap *s)
{
	for (int z = 0; z < NR_ZONES; z++) {
		const struct zone *zn = zone_get(z);

		s->free[z] = zn->free_pages;
		for (int o = 0; o <= MAX_ORDER; o++)
			s->nr_free[z][o] = zn->area[o].nr_free;
	}
}

static bool snap_eq(const struct snap *a, const struct snap *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

/* Blocks freed onto this CPU's page lists (mm/buddy.h) back to the zones,
 * as the keeper gives them back under pressure: the zones' free lists are
 * then what they would be without the lists. Returns the frames moved. */
static unsigned long settle(void)
{
	return buddy_pcp_drain_all();
}

static unsigned long present_total(void)
{
	unsigned long n = 0;

	for (int z = 0; z < NR_ZONES; z++)
		n += zone_get(z)->present_pages;
	return n;
}

/* Frames that must never be handed out: reserved, kernel, frame array. */
static bool pfn_forbidden(const struct fixture *f, uint64_t pfn)
{
	uint64_t a0 = ((uintptr_t)page_map - f->l.virt_offset) >> PAGE_SHIFT;
	uint64_t a1 = a0 + (page_nr_frames * sizeof(struct page) + PAGE_SIZE - 1) / PAGE_SIZE;
	bool in_ram = false;

	if (pfn >= a0 && pfn < a1)
		return true;
	for (int i = 0; i <= f->l.nreserved; i++) {
		const struct mm_region *r = i < f->l.nreserved ? &f->resv[i] : &f->l.kernel;

		if (r->size && pfn >= r->base >> PAGE_SHIFT &&
		    pfn < (r->base + r->size + PAGE_SIZE - 1) >> PAGE_SHIFT)
			return true;
	}
	for (int i = 0; i < f->l.nram; i++)
		if (pfn >= (f->ram[i].base + PAGE_SIZE - 1) >> PAGE_SHIFT &&
		    pfn < (f->ram[i].base + f->ram[i].size) >> PAGE_SHIFT)
			in_ram = true;
	return !in_ram;
}

static bool block_forbidden(const struct fixture *f, struct page *pg, unsigned order)
{
	uint64_t pfn = page_to_pfn(pg);

	for (uint64_t i = 0; i < (1ULL << order); i++)
		if (pfn_forbidden(f, pfn + i))
			return true;
	return false;
}

/* ---- frame array and zones ------------------------------------------------ */

static void test_init_layout_a(void)
{
	struct fixture *f = layout_a();
	const struct zone *dma, *nor, *high;
	struct page *pg;

	tap_ok(init(f) == 0, "A: page_alloc_init succeeds");
	dma = zone_get(ZONE_DMA);
	nor = zone_get(ZONE_NORMAL);
	high = zone_get(ZONE_HIGH);
	tap_ok(sizeof(struct page) == 48, "struct page is 48 bytes");
	tap_ok(!strcmp(dma->name, "DMA") && !strcmp(nor->name, "Normal") &&
	       !strcmp(high->name, "High"), "zone names");
	tap_ok(dma->start_pfn == 0x80000 && dma->end_pfn == 0x81000 &&
	       nor->start_pfn == 0x81000 && nor->end_pfn == 0x84000,
	       "A: DMA = first 16 MiB, Normal = the rest");
	tap_ok(high->present_pages == 0 && high->start_pfn == high->end_pfn,
	       "A: High absent (present 0, empty span)");
	tap_ok(zone_get(NR_ZONES) == NULL, "zone_get(NR_ZONES) is NULL");
	/* array: 16384 * 48 B = 192 frames, first free spot above DMA (0x81000) */
	tap_ok(virt_to_phys(page_map) == 0x81000000ULL, "A: frame array placed just above the DMA zone");
	tap_ok(dma->present_pages == 4096 - 512 - 100, "A: DMA present = 16 MiB - firmware - kernel");
	tap_ok(nor->present_pages == 12288 - 2 - 192, "A: Normal present = 48 MiB - 2 DTB frames - array");
	tap_ok(buddy_free_pages() == present_total(), "A: everything present is free");
	tap_ok(buddy_check() == 0, "A: buddy_check clean after init");
	tap_ok(pfn_to_page(0x80200)->owner == PAGE_OWNER_KERNEL &&
	       pfn_to_page(0x80000)->owner == PAGE_OWNER_RESERVED &&
	       virt_to_page(page_map)->owner == PAGE_OWNER_RESERVED,
	       "A: owners kernel / reserved / frame array");
	tap_ok((pfn_to_page(0x83e00)->flags & PG_RESERVED) &&
	       (pfn_to_page(0x83e01)->flags & PG_RESERVED) &&
	       !(pfn_to_page(0x83dff)->flags & PG_RESERVED) &&
	       !(pfn_to_page(0x83e02)->flags & PG_RESERVED),
	       "A: unaligned DTB rounded outward to 2 frames");
	/* maximal blocks of the free runs [0x810c0, 0x83e00) and [0x83e02, 0x84000) */
	static const unsigned long want[MAX_ORDER + 1] = { 0, 1, 1, 1, 1, 1, 2, 1, 2, 2, 10 };
	bool shape = true;
	for (int o = 0; o <= MAX_ORDER; o++)
		shape = shape && nor->area[o].nr_free == want[o];
	tap_ok(shape, "A: Normal starts as maximal aligned blocks");
	tap_ok(pfn_to_page(0x7ffff) == NULL && pfn_to_page(0x84000) == NULL &&
	       pfn_to_page(0x80000) == page_map, "pfn_to_page bounds");
	pg = pfn_to_page(0x81234);
	tap_ok(page_to_pfn(pg) == 0x81234 && page_to_phys(pg) == 0x81234000ULL &&
	       page_address(pg) == f->mem + 0x1234000 &&
	       virt_to_page((char *)page_address(pg) + 123) == pg,
	       "page <-> pfn/phys/virt round trip");
	tap_ok(virt_to_page(f->mem - 1) == NULL && virt_to_page(f->mem + 64 * MiB) == NULL &&
	       virt_to_page(&rng_state) == NULL, "virt_to_page NULL outside RAM");
	tap_ok(!strcmp(page_owner_name(PAGE_OWNER_SLAB), "slab") &&
	       !strcmp(page_owner_name(200), "?"), "page_owner_name");
}

static void test_watermark_values(void)
{
	const struct zone *h;

	init(layout_b());
	h = zone_get(ZONE_HIGH);
	tap_ok(zone_get(ZONE_DMA)->end_pfn == 0xFF000 && zone_get(ZONE_NORMAL)->end_pfn == 0x100000 &&
	       h->start_pfn == 0x100000 && h->end_pfn == 0x101000,
	       "B: DMA / Normal / High split at +16 MiB and 4 GiB");
	tap_ok(h->present_pages == 4096 && h->wmark_min == 16 && h->wmark_low == 20 &&
	       h->wmark_high == 24, "B: High watermarks min 16 low 20 high 24");
	tap_ok(buddy_check() == 0, "B: buddy_check clean after init");
}

static void test_init_layout_c(void)
{
	struct fixture *f = layout_c();
	const struct zone *dma = zone_get(ZONE_DMA);
	bool straddle = false;
	struct list_head *pos;

	tap_ok(init(f) == 0, "C: init with a hole and a reserved first region");
	tap_ok(virt_to_phys(page_map) == 0x81000000ULL, "C: array placed above DMA in the second region");
	tap_ok(page_base_pfn == 0x80000 && page_nr_frames == 0x17ff, "C: span lowest..highest RAM frame");
	tap_ok((pfn_to_page(0x80700)->flags & PG_RESERVED) &&
	       pfn_to_page(0x80700)->owner == PAGE_OWNER_RESERVED, "C: hole frames reserved");
	tap_ok(dma->present_pages == 0x81000 - 0x80903 &&
	       zone_get(ZONE_NORMAL)->present_pages == 0x817ff - 0x81000 - 72,
	       "C: present pages exclude hole, reserved, array");
	for (int o = 0; o <= MAX_ORDER; o++)
		list_for_each(pos, &dma->area[o].free_list) {
			uint64_t pfn = page_to_pfn(list_entry(pos, struct page, lru));

			if (pfn + (1ULL << o) > 0x81000)
				straddle = true;
		}
	tap_ok(!straddle, "C: no DMA block crosses into Normal");
	tap_ok(buddy_check() == 0, "C: buddy_check clean");
}

static void test_init_errors(void)
{
	struct fixture *f = layout_a();
	struct mm_layout l = f->l;
	struct mm_region bad[2];
	const struct mm_region *ok_ram = l.ram;

	tap_ok(page_alloc_init(NULL) == -EINVAL, "init(NULL) -EINVAL");
	l.nram = 0;
	tap_ok(page_alloc_init(&l) == -EINVAL, "init without RAM -EINVAL");
	l.nram = 1;
	l.ram = NULL;
	tap_ok(page_alloc_init(&l) == -EINVAL, "init with ram NULL -EINVAL");
	bad[0] = (struct mm_region){ 0x80000000ULL, 8 * MiB };
	bad[1] = (struct mm_region){ 0x80400000ULL, 8 * MiB };
	l.ram = bad;
	l.nram = 2;
	tap_ok(page_alloc_init(&l) == -EINVAL, "init with overlapping RAM -EINVAL");
	bad[0] = (struct mm_region){ 0xFFFFFFFFFFFFF000ULL, 0x2000 };
	l.nram = 1;
	tap_ok(page_alloc_init(&l) == -EINVAL, "init with a wrapping RAM region -EINVAL");
	bad[0] = (struct mm_region){ 0x80000100ULL, 0x800 };
	tap_ok(page_alloc_init(&l) == -EINVAL, "init with less than a frame of RAM -EINVAL");
	l.ram = ok_ram;
	l.virt_offset += 8;
	tap_ok(page_alloc_init(&l) == -EINVAL, "init with unaligned virt_offset -EINVAL");
	l.virt_offset -= 8;
	l.reserved = NULL;
	tap_ok(page_alloc_init(&l) == -EINVAL, "init with nreserved > 0 and NULL -EINVAL");
	bad[0] = (struct mm_region){ 0xFFFFFFFFFFFFF000ULL, 0x2000 };
	l.reserved = bad;
	l.nreserved = 1;
	tap_ok(page_alloc_init(&l) == -EINVAL, "init with a wrapping reserved region -EINVAL");
	bad[0] = (struct mm_region){ 0x7F000000ULL, 128 * MiB };
	tap_ok(page_alloc_init(&l) == -ENOMEM, "init with all RAM reserved -ENOMEM");
}

static void test_init_enomem_fragmented(void)
{
	struct fixture *f = layout_a();
	struct mm_layout l = f->l;
	struct page *pg;
	int rc;

	/* reserve 28 frames in every 128: no 192-frame spot for the array */
	for (int k = 0; k < 128; k++)
		f->resv[k] = (struct mm_region){ 0x80000000ULL + (k * 128ULL + 100) * PAGE_SIZE,
						 28 * PAGE_SIZE };
	l.reserved = f->resv;
	l.nreserved = 128;
	l.kernel = (struct mm_region){ 0, 0 };
	rc = page_alloc_init(&l);
	tap_ok(rc == -ENOMEM, "init -ENOMEM when no free spot holds the frame array");
	pg = alloc_pages(GFP_RESERVE, 0);
	tap_ok(pg == NULL && buddy_free_pages() == 0 && page_map == NULL &&
	       zone_get(ZONE_DMA)->present_pages == 0 && pfn_to_page(0x80000) == NULL,
	       "after a failed init nothing is managed");
	tap_ok(buddy_check() == 0, "buddy_check clean on the empty state");
	tap_ok(init(layout_a()) == 0 && buddy_free_pages() == present_total(),
	       "re-init after a failure works");
}

/* ---- random model test ---------------------------------------------------- */

#define MAX_LIVE 4096

struct live {
	struct page *pg;
	unsigned order;
	unsigned char tag;
};

struct model {
	struct fixture *f;
	struct live live[MAX_LIVE];
	int nlive;
	uint16_t *owner; /* per frame: live index + 1, 0 = not allocated */
	unsigned long used, start_free;
	int errors;
	uint64_t seed;
};

static unsigned pick_order(void)
{
	unsigned r = rnd() % 100;

	if (r < 55)
		return 0;
	if (r < 75)
		return 1 + rnd() % 2;
	if (r < 93)
		return 3 + rnd() % 4;
	return 7 + rnd() % 4;
}

static gfp_t pick_flags(void)
{
	static const gfp_t choice[] = { 0, 0, 0, GFP_DMA, GFP_DMA32, GFP_RESERVE, GFP_ZERO };

	return choice[rnd() % (sizeof(choice) / sizeof(choice[0]))];
}

/* A failed request is legitimate only if no allowed zone could serve it. */
static bool failure_legit(gfp_t flags, unsigned order)
{
	int first = (flags & GFP_DMA) ? ZONE_DMA : (flags & GFP_DMA32) ? ZONE_NORMAL : ZONE_HIGH;

	for (int z = first; z >= 0; z--) {
		const struct zone *zn = zone_get(z);
		bool block = false;

		for (unsigned o = order; o <= MAX_ORDER; o++)
			block = block || zn->area[o].nr_free;
		if (block && ((flags & GFP_RESERVE) || zn->free_pages >= zn->wmark_min + (1UL << order)))
			return false;
	}
	return true;
}

static void model_mark(struct model *m, int idx, uint16_t val)
{
	uint64_t i = page_to_pfn(m->live[idx].pg) - page_base_pfn;

	for (uint64_t j = 0; j < (1ULL << m->live[idx].order); j++)
		m->owner[i + j] = val;
}

static bool model_overlaps(struct model *m, struct page *pg, unsigned order)
{
	uint64_t i = page_to_pfn(pg) - page_base_pfn;

	for (uint64_t j = 0; j < (1ULL << order); j++)
		if (m->owner[i + j])
			return true;
	return false;
}

static void model_alloc(struct model *m)
{
	unsigned order = pick_order();
	gfp_t flags = pick_flags();
	struct page *pg = alloc_pages(flags, order);
	unsigned char *p;
	struct live *lv;

	if (!pg) {
		if (!failure_legit(flags, order))
			m->errors++, tap_diag("illegitimate failure flags %#x order %u", flags, order);
		return;
	}
	p = page_address(pg);
	if ((page_to_pfn(pg) & ((1ULL << order) - 1)) || model_overlaps(m, pg, order) ||
	    block_forbidden(m->f, pg, order) || ((flags & GFP_DMA) && pg->zone != ZONE_DMA) ||
	    ((flags & GFP_DMA32) && pg->zone == ZONE_HIGH) ||
	    ((flags & GFP_ZERO) && (p[0] || p[(PAGE_SIZE << order) - 1])) ||
	    pg->order != order || pg->flags != PG_HEAD || pg->owner != PAGE_OWNER_PAGES) {
		m->errors++;
		tap_diag("bad block pfn %#lx order %u flags %#x", (unsigned long)page_to_pfn(pg), order, flags);
	}
	lv = &m->live[m->nlive];
	*lv = (struct live){ pg, order, (unsigned char)rnd() };
	p[0] = p[(PAGE_SIZE << order) - 1] = lv->tag;
	model_mark(m, m->nlive, (uint16_t)(m->nlive + 1));
	m->nlive++;
	m->used += 1UL << order;
}

static void model_free(struct model *m, int idx)
{
	struct live *lv = &m->live[idx];
	unsigned char *p = page_address(lv->pg);

	if (p[0] != lv->tag || p[(PAGE_SIZE << lv->order) - 1] != lv->tag)
		m->errors++, tap_diag("block %p was overwritten", (void *)p);
	model_mark(m, idx, 0);
	if (free_pages(lv->pg, lv->order) != 0)
		m->errors++, tap_diag("free of a live block refused");
	m->used -= 1UL << lv->order;
	m->nlive--;
	if (idx != m->nlive) {
		m->live[idx] = m->live[m->nlive];
		model_mark(m, idx, (uint16_t)(idx + 1));
	}
}

/* Every free-list block is free in the model too. */
static bool model_free_lists_agree(struct model *m)
{
	for (int z = 0; z < NR_ZONES; z++)
		for (int o = 0; o <= MAX_ORDER; o++) {
			struct list_head *pos;

			list_for_each(pos, &zone_get(z)->area[o].free_list)
				if (model_overlaps(m, list_entry(pos, struct page, lru), o))
					return false;
		}
	return true;
}

static void model_step_check(struct model *m, long op)
{
	if (buddy_free_pages() != m->start_free - m->used) {
		m->errors++;
		tap_diag("op %ld: free pages %lu, model %lu", op, buddy_free_pages(),
			 m->start_free - m->used);
	}
	if (tap_check_every(buddy_check, "buddy random", m->seed, op))
		m->errors++;
	if (op % 2500 == 0 && !model_free_lists_agree(m)) {
		m->errors++;
		tap_diag("op %ld: consistency check failed", op);
	}
}

static void run_random(struct fixture *f, uint64_t s, long ops)
{
	static struct model m;
	struct snap before, after;
	struct buddy_stats st;

	init(f);
	seed("random alloc/free", s);
	memset(&m, 0, sizeof(m));
	m.f = f;
	m.seed = s;
	m.owner = calloc(page_nr_frames, sizeof(*m.owner));
	m.start_free = buddy_free_pages();
	snap_take(&before);
	for (long op = 1; op <= ops; op++) {
		if (m.nlive < MAX_LIVE && (m.nlive == 0 || rnd() % 100 < 52))
			model_alloc(&m);
		else
			model_free(&m, (int)(rnd() % m.nlive));
		model_step_check(&m, op);
	}
	while (m.nlive)
		model_free(&m, (int)(rnd() % m.nlive));
	settle();
	snap_take(&after);
	buddy_get_stats(&st);
	tap_diag("requests %lu, failed %lu (no memory), peak %lu pages in use",
		 st.requests, st.fail_nomem, st.peak_pages_in_use);
	tap_ok(m.errors == 0, "random %ld ops (seed %llu): model agrees, no overlap, counts match, "
	       "buddy_check every %d ops clean", ops, (unsigned long long)s, TAP_CHECK_EVERY);
	tap_ok(snap_eq(&before, &after) && buddy_check() == 0,
	       "random (seed %llu): free lists back to the post-init state", (unsigned long long)s);
	tap_ok(st.requests == st.successes + st.fail_nomem + st.fail_inval &&
	       st.frees == st.successes && st.pages_in_use == 0 && st.wrong_frees == 0 &&
	       st.peak_pages_in_use > 0, "random (seed %llu): counters consistent", (unsigned long long)s);
	free(m.owner);
}

/* ---- exhaustion ------------------------------------------------------------ */

/* Allocate order-0 pages with flags until NULL; returns how many. */
static long grab_all(gfp_t flags, struct page **out, long max)
{
	long n = 0;
	struct page *pg;

	while (n < max && (pg = alloc_pages(flags, 0)))
		out[n++] = pg;
	return n;
}

static void shuffle(struct page **v, long n)
{
	for (long i = n - 1; i > 0; i--) {
		long j = (long)(rnd() % (uint64_t)(i + 1));
		struct page *t = v[i];

		v[i] = v[j];
		v[j] = t;
	}
}

static long free_all(struct page **v, long n, unsigned order)
{
	long bad = 0;

	for (long i = 0; i < n; i++)
		bad += free_pages(v[i], order) != 0;
	return bad;
}

static void test_exhaust_zone_then_free(void)
{
	static struct page *v[20000];
	struct snap before, after;
	unsigned long nor_free;
	long n;

	init(layout_a());
	seed("exhaust DMA then free", 7);
	snap_take(&before);
	nor_free = zone_get(ZONE_NORMAL)->free_pages;
	n = grab_all(GFP_DMA | GFP_RESERVE, v, 20000);
	tap_ok(n == (long)zone_get(ZONE_DMA)->present_pages && zone_get(ZONE_DMA)->free_pages == 0 &&
	       zone_get(ZONE_NORMAL)->free_pages == nor_free, "every DMA page allocated, Normal untouched");
	shuffle(v, n);
	tap_ok(free_all(v, n, 0) == 0, "all DMA pages freed in random order");
	settle();
	snap_take(&after);
	tap_ok(snap_eq(&before, &after) && buddy_check() == 0, "DMA free lists exactly as after init");

	seed("exhaust all then free", 8);
	n = grab_all(GFP_RESERVE, v, 20000);
	tap_ok(n == (long)present_total() && buddy_free_pages() == 0 &&
	       alloc_pages(GFP_RESERVE, 0) == NULL, "every page of every zone allocated");
	tap_ok(buddy_unusable_index(ZONE_NORMAL, 3) == 0, "unusable index 0 with no free pages");
	shuffle(v, n);
	tap_ok(free_all(v, n, 0) == 0, "all pages freed in random order");
	settle();
	snap_take(&after);
	tap_ok(snap_eq(&before, &after) && buddy_check() == 0, "all free lists exactly as after init");
}

/* Allocate everything, largest blocks first; nothing reserved comes back. */
static void check_never_reserved(struct fixture *f, const char *name)
{
	static struct page *v[20000];
	static unsigned ord[20000];
	long n = 0, bad = 0;
	unsigned long pages = 0;

	init(f);
	for (int o = MAX_ORDER; o >= 0; o--) {
		struct page *pg;

		while (n < 20000 && (pg = alloc_pages(GFP_RESERVE, (unsigned)o))) {
			bad += block_forbidden(f, pg, (unsigned)o);
			ord[n] = (unsigned)o;
			v[n++] = pg;
			pages += 1UL << o;
		}
	}
	tap_ok(bad == 0 && pages == present_total() && buddy_free_pages() == 0,
	       "%s: all %lu pages allocated, none reserved / kernel / frame array", name, pages);
	for (long i = 0; i < n; i++)
		bad += free_pages(v[i], ord[i]) != 0;
	tap_ok(bad == 0 && buddy_check() == 0 && buddy_free_pages() == present_total(),
	       "%s: all freed, allocator consistent", name);
}

/* ---- zones and watermarks -------------------------------------------------- */

static void test_fallback_and_watermarks(void)
{
	static struct page *v[20000];
	int seq_ok = 1, last = ZONE_HIGH;
	long n, counts[NR_ZONES] = { 0 };
	struct page *r1, *r2, *r3;

	init(layout_b());
	n = grab_all(0, v, 20000);
	for (long i = 0; i < n; i++) {
		seq_ok &= v[i]->zone <= last;
		last = v[i]->zone;
		counts[v[i]->zone]++;
	}
	tap_ok(seq_ok, "ordinary requests: High first, then Normal, then DMA");
	for (int z = 0; z < NR_ZONES; z++) {
		const struct zone *zn = zone_get(z);

		tap_ok(counts[z] == (long)(zn->present_pages - zn->wmark_min) &&
		       zn->free_pages == zn->wmark_min,
		       "%s: ordinary requests stop at min (%lu free left)", zn->name, zn->free_pages);
	}
	tap_ok(alloc_pages(0, 0) == NULL && alloc_pages(GFP_DMA32, 0) == NULL &&
	       alloc_pages(GFP_DMA, 0) == NULL, "ordinary requests refused below min in every zone");
	r1 = alloc_pages(GFP_RESERVE, 0);
	r2 = alloc_pages(GFP_RESERVE | GFP_DMA32, 0);
	r3 = alloc_pages(GFP_RESERVE | GFP_DMA, 0);
	tap_ok(r1 && r1->zone == ZONE_HIGH && r2 && r2->zone == ZONE_NORMAL && r3 &&
	       r3->zone == ZONE_DMA, "GFP_RESERVE goes below min (High / Normal / DMA)");
	tap_ok(free_pages(r1, 0) == 0 && free_pages(r2, 0) == 0 && free_pages(r3, 0) == 0 &&
	       free_all(v, n, 0) == 0 && buddy_free_pages() == present_total() && buddy_check() == 0,
	       "freed, allocator consistent");

	init(layout_b());
	n = grab_all(GFP_DMA32, v, 20000);
	seq_ok = 1;
	for (long i = 0; i < n; i++)
		seq_ok &= v[i]->zone == (i < (long)(zone_get(ZONE_NORMAL)->present_pages -
						     zone_get(ZONE_NORMAL)->wmark_min) ? ZONE_NORMAL : ZONE_DMA);
	tap_ok(seq_ok && zone_get(ZONE_HIGH)->free_pages == zone_get(ZONE_HIGH)->present_pages,
	       "GFP_DMA32: Normal then DMA, never High");
	free_all(v, n, 0);
}

/* GFP_USER (mm/gfp.h): a user process's frames stop at each zone's high
 * watermark, so the kernel's ordinary requests still find min..high and
 * its reserve requests 0..min, however much user processes took. Through
 * either path: the zones (this CPU's page lists bypassed) or the lists,
 * whose refill for a user request stops at high too, so they cannot lend
 * a user what the zones keep for the kernel (they are empty at the end). */
#define USER_VIA_ZONES 0
#define USER_VIA_LISTS 1

static void test_user_watermark(intptr_t path)
{
	static struct page *v[20000], *k[2000];
	long n, nk, counts[NR_ZONES] = { 0 }, kcounts[NR_ZONES] = { 0 };
	bool stops = true, kstops = true;
	struct buddy_pcp_stats lists;
	struct page *r;

	init(layout_b());
	if (path == USER_VIA_ZONES)
		buddy_pcp_bypass(true);
	n = grab_all(GFP_USER, v, 20000);
	for (long i = 0; i < n; i++)
		counts[v[i]->zone]++;
	for (int z = 0; z < NR_ZONES; z++) {
		const struct zone *zn = zone_get(z);

		stops &= counts[z] == (long)(zn->present_pages - zn->wmark_high) &&
			 zn->free_pages == zn->wmark_high;
	}
	buddy_pcp_get(BUDDY_PCP_ALL, &lists);
	tap_ok(stops && lists.total_pages == 0 && (lists.allocs > 0) == (path == USER_VIA_LISTS),
	       "GFP_USER: every zone taken down to its high watermark, no further, the lists "
	       "empty (and used only on their path)");
	tap_ok(alloc_pages(GFP_USER, 0) == NULL && alloc_pages(GFP_USER | GFP_RESERVE, 0) == NULL &&
	       alloc_pages(GFP_USER | GFP_DMA, 0) == NULL,
	       "GFP_USER refused at high, GFP_RESERVE or not, DMA or not");
	nk = grab_all(0, k, 2000);
	for (long i = 0; i < nk; i++)
		kcounts[k[i]->zone]++;
	for (int z = 0; z < NR_ZONES; z++) {
		const struct zone *zn = zone_get(z);

		kstops &= kcounts[z] == (long)(zn->wmark_high - zn->wmark_min) &&
			  zn->free_pages == zn->wmark_min;
	}
	tap_ok(nk > 0 && kstops, "the kernel's ordinary requests still get high - min pages a zone");
	r = alloc_pages(GFP_RESERVE, 0);
	tap_ok(r && r->zone == ZONE_HIGH, "and its reserve below min");
	free_pages(r, 0);
	tap_ok(free_all(k, nk, 0) == 0 && free_all(v, n, 0) == 0 &&
	       buddy_free_pages() == present_total() && buddy_check() == 0, "freed, allocator consistent");
	if (path == USER_VIA_ZONES)
		buddy_pcp_bypass(false);
}

static void test_dma_only(void)
{
	static struct page *v[20000];
	unsigned long nfree, hfree;
	struct page *pg;
	long n;

	init(layout_b());
	nfree = zone_get(ZONE_NORMAL)->free_pages;
	hfree = zone_get(ZONE_HIGH)->free_pages;
	pg = alloc_pages(GFP_DMA, 4);
	tap_ok(pg && pg->zone == ZONE_DMA && free_pages(pg, 4) == 0, "GFP_DMA order 4 comes from DMA");
	n = grab_all(GFP_DMA | GFP_RESERVE, v, 20000);
	tap_ok(n == (long)zone_get(ZONE_DMA)->present_pages &&
	       zone_get(ZONE_NORMAL)->free_pages == nfree && zone_get(ZONE_HIGH)->free_pages == hfree,
	       "DMA exhausted by DMA-only requests; Normal and High untouched");
	tap_ok(alloc_pages(GFP_DMA, 0) == NULL && alloc_pages(GFP_DMA | GFP_RESERVE, 0) == NULL,
	       "DMA request fails when DMA is exhausted although Normal has room");
	pg = alloc_pages(0, 0);
	tap_ok(pg && pg->zone == ZONE_HIGH && free_pages(pg, 0) == 0, "an ordinary request still succeeds");
	free_all(v, n, 0);
	tap_ok(buddy_check() == 0 && buddy_free_pages() == present_total(), "DMA refilled");
}

/* ---- API details ------------------------------------------------------------ */

static void test_api_details(void)
{
	struct buddy_stats st0, st1;
	struct page *pg = (struct page *)1, *a, *b;
	unsigned char *p;
	int ok = 1;

	init(layout_a());
	buddy_get_stats(&st0);
	tap_ok(alloc_pages(0, MAX_ORDER + 1) == NULL, "alloc_pages order 11 is NULL");
	tap_ok(buddy_try_alloc(0, MAX_ORDER + 1, &pg) == -EINVAL && pg == NULL,
	       "buddy_try_alloc order 11 -EINVAL, *out NULL");
	tap_ok(buddy_try_alloc(0, 0, NULL) == -EINVAL, "buddy_try_alloc(out NULL) -EINVAL");
	tap_ok(buddy_try_alloc(GFP_RESERVE, MAX_ORDER, &pg) == 0 && pg && pg->order == MAX_ORDER,
	       "buddy_try_alloc order 10 succeeds");
	p = page_address(pg);
	memset(p, 0xa5, PAGE_SIZE << MAX_ORDER);
	free_pages(pg, MAX_ORDER);
	pg = alloc_pages(GFP_ZERO | GFP_RESERVE, MAX_ORDER);
	p = page_address(pg);
	for (size_t i = 0; i < (PAGE_SIZE << MAX_ORDER); i++)
		ok &= p[i] == 0;
	tap_ok(pg && ok, "GFP_ZERO zeroes the whole block");
	buddy_get_stats(&st1);
	tap_ok(st1.requests == st0.requests + 5 && st1.fail_inval == st0.fail_inval + 3 &&
	       st1.successes == st0.successes + 2 && st1.pages_in_use == 1024 &&
	       st1.peak_pages_in_use == 1024, "counters: requests, fail_inval, successes, in use, peak");
	free_pages(pg, MAX_ORDER);
	a = alloc_pages(0, 3);
	page_set_compound(a, 3);
	page_set_owner(a, PAGE_OWNER_SLAB);
	tap_ok(compound_head(a + 5) == a && compound_head(a) == a && (a[7].flags & PG_TAIL) &&
	       a->owner == PAGE_OWNER_SLAB, "compound marks map tails to the head; owner set");
	page_clear_compound(a, 3);
	tap_ok(compound_head(a + 5) == a + 5 && a[5].flags == 0 && buddy_check() == 0,
	       "page_clear_compound undoes them");
	page_set_compound(a, 3);
	tap_ok(free_pages(a, 3) == -EINVAL && a->owner == PAGE_OWNER_SLAB && buddy_check() == 0,
	       "free_pages refuses a block another allocator owns (slab)");
	tap_ok(free_pages_owned(a, 3, PAGE_OWNER_HEAP) == -EINVAL,
	       "free_pages_owned refuses the wrong owner");
	tap_ok(free_pages_owned(a, 3, PAGE_OWNER_SLAB) == 0 && buddy_check() == 0,
	       "free of a compound block by its owner clears its tails");
	b = alloc_pages(GFP_DMA, 0);
	tap_ok(b && free_pages_addr(page_address(b), 0) == 0, "free_pages_addr frees by address");
	buddy_get_stats(&st1);
	tap_ok(st1.frees == st0.frees + 4 && st1.pages_in_use == 0 && st1.wrong_frees == st0.wrong_frees + 2,
	       "counters: frees, pages_in_use back to 0, the two refusals counted");
}

static void test_unusable_index(void)
{
	const struct zone *nor;
	struct page *pg;
	unsigned long free, suitable = 0;

	init(layout_a());
	nor = zone_get(ZONE_NORMAL);
	tap_ok(buddy_unusable_index(ZONE_NORMAL, 0) == 0, "unusable index order 0 is 0");
	/* (12094 - 10 * 1024) / 12094 = 153 per mille */
	tap_ok(buddy_unusable_index(ZONE_NORMAL, 10) == 153, "unusable index order 10 is 153");
	tap_ok(buddy_unusable_index(ZONE_NORMAL, MAX_ORDER + 1) == 1000 &&
	       buddy_unusable_index(ZONE_HIGH, 0) == 0 && buddy_unusable_index(NR_ZONES, 0) == 0,
	       "unusable index: 1000 beyond MAX_ORDER, 0 for empty / invalid zones");
	pg = alloc_pages(0, 0);
	free = nor->free_pages;
	for (int o = 5; o <= MAX_ORDER; o++)
		suitable += nor->area[o].nr_free << o;
	tap_ok(buddy_unusable_index(ZONE_NORMAL, 5) == (free - suitable) * 1000 / free,
	       "unusable index follows the formula after a split");
	free_pages(pg, 0);
}

/* ---- bad frees ---------------------------------------------------------------- */

struct bad_ctx {
	struct snap snap;
	struct buddy_stats st;
	unsigned long reports, free;
};

static void bad_before(struct bad_ctx *c)
{
	snap_take(&c->snap);
	buddy_get_stats(&c->st);
	c->reports = mm_host_reports;
	c->free = buddy_free_pages();
}

static void bad_after(struct bad_ctx *c, int rc, const char *what)
{
	struct snap now;
	struct buddy_stats st;
	unsigned long reports = mm_host_reports;
	int check;

	snap_take(&now);
	buddy_get_stats(&st);
	check = buddy_check();
	tap_ok(rc == -EINVAL && st.wrong_frees == c->st.wrong_frees + 1 &&
	       reports == c->reports + 1 && st.frees == c->st.frees && check == 0 &&
	       snap_eq(&now, &c->snap) && buddy_free_pages() == c->free &&
	       st.pages_in_use == c->st.pages_in_use,
	       "bad free refused, counted, reported once, nothing changed: %s", what);
}

#define BAD(expr, what)                               \
	do {                                          \
		struct bad_ctx c_;                    \
		bad_before(&c_);                      \
		bad_after(&c_, (expr), what);         \
	} while (0)

static void test_bad_frees(void)
{
	struct page stack_page, *p4, *x, *y, *odd, *freehead;
	void *outside = aligned_alloc(PAGE_SIZE, PAGE_SIZE);

	init(layout_a());
	memset(&stack_page, 0, sizeof(stack_page));
	stack_page.flags = PG_HEAD;
	p4 = alloc_pages(0, 2);
	x = alloc_pages(0, 0);
	y = alloc_pages(0, 0);
	odd = (page_to_pfn(x) & 1) ? x : y;
	freehead = list_first_entry(&zone_get(ZONE_NORMAL)->area[MAX_ORDER].free_list, struct page, lru);

	BAD(free_pages(NULL, 0), "NULL");
	BAD(free_pages(&stack_page, 0), "struct page not from the frame array");
	BAD(free_pages((struct page *)((char *)p4 + 8), 0), "pointer inside a struct page");
	BAD(free_pages(page_map + page_nr_frames, 0), "one past the frame array");
	BAD(free_pages_addr((char *)page_address(p4) + 100, 2), "address not page aligned");
	BAD(free_pages_addr(outside, 0), "address outside RAM");
	BAD(free_pages(p4, MAX_ORDER + 1), "order above MAX_ORDER");
	BAD(free_pages(odd, 1), "block not aligned to its order");
	BAD(free_pages(freehead, MAX_ORDER), "head of a free block (double free)");
	BAD(free_pages(freehead + 3, 0), "frame inside a free block");
	BAD(free_pages(p4 + 1, 0), "interior frame of an allocated block");
	BAD(free_pages_addr(page_address(p4 + 2), 1), "interior frame by address");
	page_set_compound(p4, 2);
	BAD(free_pages(p4 + 3, 0), "tail of a compound block");
	BAD(free_pages(pfn_to_page(0x80200), 0), "kernel image frame");
	BAD(free_pages(pfn_to_page(0x80000), 0), "firmware (reserved) frame");
	BAD(free_pages(virt_to_page(page_map), 0), "frame of the frame array");
	BAD(free_pages(p4, 1), "wrong order (smaller)");
	BAD(free_pages(p4, 0), "wrong order (order 0)");
	tap_ok(free_pages(odd, 0) == 0, "the right free still works");
	BAD(free_pages(odd, 0), "double free of an order-0 page");
	BAD(free_pages_addr(page_address(odd), 0), "double free by address");
	tap_ok(free_pages(p4, 2) == 0 && free_pages(odd == x ? y : x, 0) == 0 &&
	       buddy_check() == 0 && buddy_free_pages() == present_total(),
	       "after all that, everything frees and the allocator is sound");
	free(outside);
}

/* ---- corruption is detected ------------------------------------------------ */

static void test_corruption_detected(void)
{
	struct zone *nor, *dma;
	struct page *fh, *pg;
	struct list_head *saved;
	unsigned long r0;

	init(layout_a());
	mm_host_quiet = 1;
	nor = (struct zone *)zone_get(ZONE_NORMAL);
	dma = (struct zone *)zone_get(ZONE_DMA);
	fh = list_first_entry(&nor->area[MAX_ORDER].free_list, struct page, lru);
	pg = alloc_pages(0, 1);

	r0 = mm_host_reports;
	fh->flags &= ~PG_BUDDY;
	tap_ok(buddy_check() > 0 && mm_host_reports > r0, "check detects a free-list page without PG_BUDDY");
	fh->flags |= PG_BUDDY;
	tap_ok(buddy_check() == 0, "clean again after restoring");
	dma->area[0].nr_free++;
	tap_ok(buddy_check() > 0, "check detects a wrong nr_free");
	dma->area[0].nr_free--;
	pg->flags |= PG_BUDDY;
	tap_ok(buddy_check() > 0, "check detects PG_BUDDY on an allocated head");
	pg->flags &= ~PG_BUDDY;
	fh[7].flags = PG_HEAD;
	tap_ok(buddy_check() > 0, "check detects a head inside a free block");
	fh[7].flags = 0;
	nor->free_pages += 1;
	tap_ok(buddy_check() > 0, "check detects a wrong free_pages");
	nor->free_pages -= 1;
	saved = fh->lru.next;
	fh->lru.next = (struct list_head *)(uintptr_t)0x1000;
	tap_ok(buddy_check() > 0, "check reports a wild list link without following it");
	fh->lru.next = saved;
	fh->order = 9;
	tap_ok(buddy_check() > 0, "check detects a free block on the wrong order list");
	fh->order = MAX_ORDER;
	tap_ok(buddy_check() == 0 && free_pages(pg, 1) == 0 && buddy_check() == 0,
	       "all restored: clean");
	mm_host_quiet = 0;
}

/* ---- a 3 GiB machine: High zone, fast linear set-up --------------------------- */

static void test_init_3g(void)
{
	const uint64_t size = 3ULL << 30;
	void *mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	struct mm_region ram = { 0x80000000ULL, size }, resv = { 0x80000000ULL, 2 * MiB };
	struct mm_layout l = { .ram = &ram, .nram = 1, .reserved = &resv, .nreserved = 1,
				.kernel = { 0x80200000ULL, 0x100000 } };
	struct timespec t0, t1;
	struct page *pg;
	double ms;
	int rc;

	if (mem == MAP_FAILED) {
		tap_ok(1, "# SKIP 3 GiB mapping not available");
		return;
	}
	l.virt_offset = (uintptr_t)mem - 0x80000000ULL;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = page_alloc_init(&l);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
	tap_diag("3 GiB init (786432 frames): %.1f ms", ms);
	tap_ok(rc == 0 && zone_get(ZONE_HIGH)->present_pages == 262144 &&
	       zone_get(ZONE_NORMAL)->end_pfn == 0x100000, "3 GiB: High zone of 1 GiB present");
	tap_ok(ms < 2000, "3 GiB: set-up is linear and fast (%.1f ms)", ms);
	pg = alloc_pages(0, MAX_ORDER);
	tap_ok(pg && pg->zone == ZONE_HIGH && free_pages(pg, MAX_ORDER) == 0 && buddy_check() == 0,
	       "3 GiB: order-10 block from High, allocator consistent");
	munmap(mem, size);
	init(layout_a()); /* page_map pointed into the mapping */
}

static struct fixture *(*const layouts[])(void) = { layout_a, layout_b, layout_c };

static void never_reserved_row(intptr_t i)
{
	check_never_reserved(layouts[i](), i == 0 ? "A" : i == 1 ? "B" : "C");
}

static const struct { uint64_t seed; long ops; } random_rows[] = {
	{ 0x5eed0001ULL, 50000 }, { 0x5eed0002ULL, 40000 }, { 0x5eed0003ULL, 30000 },
};

static void random_row(intptr_t i)
{
	run_random(layouts[i](), random_rows[i].seed, random_rows[i].ops);
}

static const struct tap_case cases[] = {
	TAP_CASE(test_init_layout_a),
	TAP_CASE(test_watermark_values),
	TAP_CASE(test_init_layout_c),
	TAP_CASE(test_init_errors),
	TAP_CASE(test_init_enomem_fragmented),
	TAP_CASE(test_api_details),
	TAP_CASE(test_unusable_index),
	TAP_CASE(test_bad_frees),
	TAP_CASE(test_corruption_detected),
	TAP_CASE(test_fallback_and_watermarks),
	TAP_CASE_ARG(test_user_watermark, USER_VIA_ZONES),
	TAP_CASE_ARG(test_user_watermark, USER_VIA_LISTS),
	TAP_CASE(test_dma_only),
	TAP_CASE(test_exhaust_zone_then_free),
	TAP_CASE_AS("check_never_reserved(A)", never_reserved_row, 0),
	TAP_CASE_AS("check_never_reserved(B)", never_reserved_row, 1),
	TAP_CASE_AS("check_never_reserved(C)", never_reserved_row, 2),
	TAP_CASE_AS("run_random(A, 0x5eed0001, 50000)", random_row, 0),
	TAP_CASE_AS("run_random(B, 0x5eed0002, 40000)", random_row, 1),
	TAP_CASE_AS("run_random(C, 0x5eed0003, 30000)", random_row, 2),
	TAP_CASE(test_init_3g),
};

int main(void)
{
	return tap_main(TAP_CASES(cases), before, NULL);
}
