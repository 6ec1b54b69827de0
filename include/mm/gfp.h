/* gfp.h - allocation flags shared by every allocator in the mm layer.
 *
 * A flags value of 0 (GFP_KERNEL) is an ordinary request: any zone, never
 * below a zone's min watermark, subject to fault injection.
 *
 * What each kind of request may take of a zone (mm/page.h's watermarks):
 *
 *   free pages   present ....... high ....... min ....... 0
 *   GFP_USER     |<------------->|                          processes' frames
 *   GFP_KERNEL   |<-------------------------->|             the kernel's own
 *   GFP_RESERVE  |<--------------------------------------->| reclaim failed
 *
 * so memory user processes hold can never take from the kernel what lies
 * below a zone's high watermark. */
#ifndef TALLY_MM_GFP_H
#define TALLY_MM_GFP_H

typedef unsigned int gfp_t;

#define GFP_KERNEL     0u
#define GFP_DMA        (1u << 0) /* only from ZONE_DMA (device buffers) */
#define GFP_DMA32      (1u << 1) /* below 4 GiB: ZONE_NORMAL, then ZONE_DMA */
#define GFP_RESERVE    (1u << 2) /* emergency: may take a zone below min */
#define GFP_ZERO       (1u << 3) /* zero the memory before returning it */
#define GFP_NOINJECT   (1u << 4) /* never a target of fault injection */
#define GFP_NOSHRINK   (1u << 5) /* fail rather than ask shrinkers for memory */
#define GFP_COMP       (1u << 6) /* buddy: hand the block out compound (Linux's
				  * __GFP_COMP: page_set_compound done under
				  * the zone's lock, so no reader of the frame
				  * array sees it half marked) */
#define GFP_USER       (1u << 7) /* a user process's frame or page table:
				  * never takes a zone below its high
				  * watermark (Linux's ALLOC_WMARK_HIGH), so
				  * the kernel keeps [min, high) for its own
				  * requests and [0, min) for its reserve;
				  * GFP_RESERVE is ignored with it */

#endif
