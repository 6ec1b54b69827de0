/* classic.c - allocator benchmarks in the spirit of the literature, as a
 * program of its own, so each allocator is tried as a drop-in (LD_PRELOAD)
 * by tools/bench/realprog.py (make bench-real):
 *
 *   classic larson THREADS ROUNDS   Larson & Krishnan's server workload
 *       (ISMM 1998): each thread owns an array of SLOTS blocks and, for
 *       OPS_PER_ROUND operations, frees a random one and allocates a new
 *       one of a random size (16..1024 bytes); then every thread ends and
 *       new ones take over the arrays, each its neighbour's, so most
 *       blocks are freed by a thread that did not allocate them.
 *   classic pc THREADS ITEMS        producer/consumer: THREADS/2 producers
 *       allocate and fill blocks (16..4096 bytes) and pass them through
 *       bounded rings to as many consumers, which check and free them.
 *   classic single ROUNDS           an allocation-heavy single thread, as
 *       a compiler or an interpreter is: build a tree of nodes with
 *       string payloads of random sizes, rebuild parts of it, drop it.
 *
 * Each prints "checksum: N" (from the sizes and contents it saw: the same
 * under every allocator, for realprog's output check) and exits 0; a
 * pattern that did not survive prints "corrupt: N" and exits 1. Seeds
 * are fixed. Wall time is measured by the caller. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

/* A block: its size in the first word, a tag byte at the end. */
static void *make(size_t n, uint64_t tag)
{
	unsigned char *p = malloc(n);

	if (!p) {
		fprintf(stderr, "classic: out of memory\n");
		exit(2);
	}
	*(size_t *)p = n;
	p[n - 1] = (unsigned char)tag;
	return p;
}

static int check(const void *v, uint64_t tag)
{
	const unsigned char *p = v;

	return p[*(const size_t *)p - 1] == (unsigned char)tag;
}

static _Atomic uint64_t sum, corrupt;

/* ---- larson ----------------------------------------------------------- */

#define SLOTS 1000
#define OPS_PER_ROUND 20000

struct arr {
	void *slot[SLOTS];
	uint64_t tag[SLOTS];
	uint64_t seed;
};

static void *larson_thread(void *v)
{
	struct arr *a = v;
	uint64_t local = 0;

	for (int i = 0; i < OPS_PER_ROUND; i++) {
		uint64_t r = next(&a->seed);
		unsigned s = (unsigned)(r % SLOTS);
		size_t n = 16 + (r >> 16) % 1009;

		if (a->slot[s]) {
			corrupt += !check(a->slot[s], a->tag[s]);
			local += *(size_t *)a->slot[s];
			free(a->slot[s]);
		}
		a->tag[s] = r >> 40;
		a->slot[s] = make(n, a->tag[s]);
	}
	sum += local;
	return NULL;
}

static int larson(int threads, int rounds)
{
	struct arr *a = calloc((size_t)threads, sizeof(*a));
	pthread_t *t = calloc((size_t)threads, sizeof(*t));

	for (int i = 0; i < threads; i++) {
		a[i].seed = 0x1a250ull + (uint64_t)i * 7919;
		for (int s = 0; s < SLOTS; s++) {
			a[i].tag[s] = (uint64_t)s;
			a[i].slot[s] = make(16 + (size_t)(s * 37) % 1009, (uint64_t)s);
		}
	}
	for (int r = 0; r < rounds; r++) {
		/* the arrays move on: thread i of this round works on array i + r */
		for (int i = 0; i < threads; i++)
			pthread_create(&t[i], NULL, larson_thread, &a[(i + r) % threads]);
		for (int i = 0; i < threads; i++)
			pthread_join(t[i], NULL);
	}
	for (int i = 0; i < threads; i++)
		for (int s = 0; s < SLOTS; s++) {
			corrupt += !check(a[i].slot[s], a[i].tag[s]);
			free(a[i].slot[s]);
		}
	free(a);
	free(t);
	return 0;
}

/* ---- producer / consumer ------------------------------------------------- */

#define RING 256

struct ring {
	void *_Atomic item[RING];
	_Atomic uint64_t head, tail;   /* producer writes head, consumer tail */
};

struct pc_arg {
	struct ring *ring;
	long items;
	uint64_t seed;
};

static void *producer(void *v)
{
	struct pc_arg *a = v;

	for (long i = 0; i < a->items; i++) {
		uint64_t r = next(&a->seed);
		size_t n = 16 + r % 4081;
		unsigned char *p = make(n, n);

		memset(p + sizeof(size_t), (int)(n & 0xff), n - sizeof(size_t) - 1);
		while (a->ring->head - a->ring->tail == RING)
			sched_yield();
		a->ring->item[a->ring->head % RING] = p;
		a->ring->head++;
	}
	return NULL;
}

static void *consumer(void *v)
{
	struct pc_arg *a = v;
	uint64_t local = 0;

	for (long i = 0; i < a->items; i++) {
		unsigned char *p;
		size_t n;

		while (a->ring->tail == a->ring->head)
			sched_yield();
		p = a->ring->item[a->ring->tail % RING];
		a->ring->tail++;
		n = *(size_t *)p;
		corrupt += !check(p, n) || p[n / 2 + 4] != (unsigned char)(n & 0xff);
		local += n;
		free(p);
	}
	sum += local;
	return NULL;
}

static int pc(int threads, long items)
{
	int pairs = threads > 1 ? threads / 2 : 1;
	struct ring *rings = calloc((size_t)pairs, sizeof(*rings));
	struct pc_arg *args = calloc((size_t)pairs, sizeof(*args));
	pthread_t *t = calloc((size_t)pairs * 2, sizeof(*t));

	for (int i = 0; i < pairs; i++) {
		args[i] = (struct pc_arg){ &rings[i], items / pairs, 0x9c0ull + (uint64_t)i };
		pthread_create(&t[2 * i], NULL, producer, &args[i]);
		pthread_create(&t[2 * i + 1], NULL, consumer, &args[i]);
	}
	for (int i = 0; i < 2 * pairs; i++)
		pthread_join(t[i], NULL);
	free(rings);
	free(args);
	free(t);
	return 0;
}

/* ---- single ----------------------------------------------------------------- */

struct node {
	struct node *kid[2];
	char *name;
	size_t len;
};

static struct node *grow(int depth, uint64_t *seed)
{
	struct node *n = malloc(sizeof(*n));
	uint64_t r = next(seed);

	if (!n)
		exit(2);
	n->len = 8 + r % 120;
	n->name = malloc(n->len);
	if (!n->name)
		exit(2);
	memset(n->name, 'a' + (int)(r % 26), n->len - 1);
	n->name[n->len - 1] = '\0';
	n->kid[0] = depth ? grow(depth - 1, seed) : NULL;
	n->kid[1] = depth ? grow(depth - 1, seed) : NULL;
	return n;
}

static uint64_t walk_free(struct node *n)
{
	uint64_t s;

	if (!n)
		return 0;
	if (strlen(n->name) + 1 != n->len)
		corrupt++;
	s = n->len;
	s += walk_free(n->kid[0]) + walk_free(n->kid[1]);
	free(n->name);
	free(n);
	return s;
}

static int single(int rounds)
{
	uint64_t seed = 0x5171ull;

	for (int r = 0; r < rounds; r++) {
		struct node *root = grow(15, &seed);

		for (int i = 0; i < 8; i++) {   /* rebuild a subtree at a time */
			struct node **at = &root->kid[i & 1];

			for (int d = 0; d < 3 && *at; d++)
				at = &(*at)->kid[(i >> (d + 1)) & 1];
			sum += walk_free(*at);
			*at = grow(11, &seed);
		}
		sum += walk_free(root);
	}
	return 0;
}

int main(int argc, char **argv)
{
	int rc = 2;

	if (argc == 4 && !strcmp(argv[1], "larson"))
		rc = larson(atoi(argv[2]), atoi(argv[3]));
	else if (argc == 4 && !strcmp(argv[1], "pc"))
		rc = pc(atoi(argv[2]), atol(argv[3]));
	else if (argc == 3 && !strcmp(argv[1], "single"))
		rc = single(atoi(argv[2]));
	else
		fprintf(stderr, "usage: classic larson THREADS ROUNDS | pc THREADS ITEMS | single ROUNDS\n");
	if (rc)
		return rc;
	if (corrupt) {
		printf("corrupt: %llu\n", (unsigned long long)corrupt);
		return 1;
	}
	printf("checksum: %llu\n", (unsigned long long)sum);
	return 0;
}
