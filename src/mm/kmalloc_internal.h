/* kmalloc_internal.h - the files of kmalloc's layer among themselves
 * (kmalloc.c and its failure window, kmalloc_window.c). Mm lock held. */
#ifndef TALLY_KMALLOC_INTERNAL_H
#define TALLY_KMALLOC_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include "mm/kmalloc.h"

/* The failure window (kmalloc_window.c): reset at kmalloc_init; a failed
 * request noted by its number; a checkpoint of the request count when a
 * second began since the last (km_window_due says whether one has); read
 * as of now for `requests` so far; n failures forgotten (excused). */
void km_window_reset(void);
void km_window_fail(uint64_t request);
bool km_window_due(unsigned long long now);
void km_window_note(unsigned long long now, uint64_t requests);
void km_window_get(uint64_t requests, struct kmalloc_window *out);
void km_window_forget(uint64_t n);

#endif
