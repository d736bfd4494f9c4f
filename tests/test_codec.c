/*
 * test_codec.c - the trace codec (preload/trace_codec.h): every record
 * kind encoded as the writer does and decoded as the reader does gives
 * back its fields; extreme values survive; a record cut anywhere is
 * reported as bad and never read past its end; lists whose count comes
 * last close their gap.
 */
#include "testutil.h"

#include <string.h>

#include "../preload/trace_codec.h"

static uint8_t buf[4096];

/* Decode [buf, end) from the start; the decoder must end exactly there. */
static struct pt_dec dec_of(const uint8_t *end)
{
	return (struct pt_dec){ buf, end, 0 };
}

#define ROUND_TRIP(type, LIST, value) do { \
		struct pt_r_##type in_ = value, out_; \
		memset(&out_, 0xa5, sizeof out_); \
		uint8_t *p_ = buf; \
		PT_ENCODE(p_, &in_, LIST); \
		assert_true((size_t)(p_ - buf) <= PT_FIELDS_MAX(LIST) + 0u + bytes_extra(&in_)); \
		struct pt_dec d_ = dec_of(p_); \
		PT_DECODE(&d_, &out_, LIST); \
		assert_false(d_.bad); \
		assert_ptr_equal(d_.p, p_); \
		LIST(CHECK_FIELD) \
		check_cut((size_t)(p_ - buf), sizeof out_, decode_##type); \
	} while (0)

#define CHECK_FIELD(kind, name) CHECK_##kind(name)
#define CHECK_u(n)   assert_int_equal(out_.n, in_.n);
#define CHECK_u32(n) assert_int_equal(out_.n, in_.n);
#define CHECK_d(n)   assert_int_equal(out_.n, in_.n);
#define CHECK_b(n)   assert_int_equal(out_.n##_len, in_.n##_len); \
                     assert_memory_equal(out_.n, in_.n, in_.n##_len);

static size_t bytes_extra(const void *r)
{
	(void)r;
	return 0;
}

/*
 * Every prefix of an encoded record, decoded, is bad (or, for a prefix
 * that ends on a field boundary, is simply shorter: then a later field
 * reads as cut), and the decoder never moves past the prefix's end.
 */
static void check_cut(size_t len, size_t size, void (*decode)(struct pt_dec *d, void *out))
{
	uint8_t out[512];
	assert_true(size <= sizeof out);
	for (size_t cut = 0; cut < len; cut++) {
		struct pt_dec d = { buf, buf + cut, 0 };
		decode(&d, out);
		assert_true(d.bad);
		assert_true(d.p <= buf + cut);
	}
}

#define DECODER(type, LIST) \
	static void decode_##type(struct pt_dec *d, void *out) \
	{ \
		PT_DECODE(d, (struct pt_r_##type *)out, LIST); \
	}
DECODER(alloc, PT_FIELDS_ALLOC)
DECODER(free, PT_FIELDS_FREE)
DECODER(realloc, PT_FIELDS_REALLOC)
DECODER(thread_exit, PT_FIELDS_THREAD_EXIT)
DECODER(info, PT_FIELDS_INFO)
DECODER(stack, PT_FIELDS_STACK)
DECODER(info_v2, PT_FIELDS_INFO_V2)
DECODER(stack_v2, PT_FIELDS_STACK_V2)
DECODER(modules, PT_FIELDS_MODULES)
DECODER(segment, PT_FIELDS_SEGMENT)
DECODER(snapshot, PT_FIELDS_SNAPSHOT)
DECODER(snap_pools, PT_FIELDS_SNAP_POOLS)
DECODER(snap_class, PT_FIELDS_SNAP_CLASS)
DECODER(end, PT_FIELDS_END)
DECODER(lost, PT_FIELDS_LOST)
DECODER(leaks, PT_FIELDS_LEAKS)
DECODER(leak, PT_FIELDS_LEAK)
DECODER(pinned, PT_FIELDS_PINNED)
DECODER(pinned_info, PT_FIELDS_PINNED_INFO)
DECODER(ext, PT_FIELDS_EXT)
DECODER(ext_python, PT_FIELDS_EXT_PYTHON)
DECODER(ext_pyobjects, PT_FIELDS_EXT_PYOBJECTS)
DECODER(ext_infos, PT_FIELDS_EXT_INFOS)
DECODER(pyobject, PT_FIELDS_PYOBJECT)

static void test_every_flat_record_round_trips(void **st)
{
	(void)st;
	ROUND_TRIP(alloc, PT_FIELDS_ALLOC, { .info = 1 });
	ROUND_TRIP(alloc, PT_FIELDS_ALLOC, { .info = UINT32_MAX });
	ROUND_TRIP(free, PT_FIELDS_FREE, { .info = 0 });
	ROUND_TRIP(free, PT_FIELDS_FREE, { .info = 300 });
	ROUND_TRIP(realloc, PT_FIELDS_REALLOC, ((struct pt_r_realloc){ .old_info = 7, .info = 1u << 31 }));
	ROUND_TRIP(thread_exit, PT_FIELDS_THREAD_EXIT, { .tid = 4194303 });
	ROUND_TRIP(info, PT_FIELDS_INFO,
	           ((struct pt_r_info){ .size = UINT64_MAX, .kind = 1, .stack = 99 }));
	ROUND_TRIP(stack, PT_FIELDS_STACK,
	           ((struct pt_r_stack){ .id = 1u << 20, .gen = 3, .nframes = 257, .back = 1,
	                                 .shared = 200 }));
	ROUND_TRIP(info_v2, PT_FIELDS_INFO_V2,
	           ((struct pt_r_info_v2){ .id = 12, .size = UINT64_MAX, .stack = 99, .kind = 1 }));
	ROUND_TRIP(stack_v2, PT_FIELDS_STACK_V2,
	           ((struct pt_r_stack_v2){ .id = 1u << 20, .gen = 3, .nframes = 256 }));
	ROUND_TRIP(modules, PT_FIELDS_MODULES,
	           ((struct pt_r_modules){ .seq = 1ull << 40, .gen = 9, .count = 48 }));
	ROUND_TRIP(segment, PT_FIELDS_SEGMENT,
	           ((struct pt_r_segment){ .vaddr = 0x7fff00001000ull, .memsz = 4096, .flags = 5 }));
	ROUND_TRIP(snapshot, PT_FIELDS_SNAPSHOT,
	           ((struct pt_r_snapshot){ .seq = 5, .kind = PT_SNAP_LIGHT, .time_ns = 123456789,
	                                    .rss = 1ull << 33, .live = 17, .n_malloc = 1, .n_free = 2,
	                                    .n_realloc = 3, .bytes_alloc = UINT64_MAX, .n_pool = 4,
	                                    .bytes_pool = 5, .glibc_in_use = 6 }));
	ROUND_TRIP(snap_pools, PT_FIELDS_SNAP_POOLS,
	           ((struct pt_r_snap_pools){ 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }));
	ROUND_TRIP(snap_class, PT_FIELDS_SNAP_CLASS,
	           ((struct pt_r_snap_class){ 10, 20, 30, 40, 50, 60, 70, UINT64_MAX }));
	ROUND_TRIP(end, PT_FIELDS_END, ((struct pt_r_end){ .seq = 77, .reason = 1, .code = 11 }));
	ROUND_TRIP(lost, PT_FIELDS_LOST, { .lost = 1000000 });
	ROUND_TRIP(leaks, PT_FIELDS_LEAKS, ((struct pt_r_leaks){ .seq = 8, .roots_bytes = 1 << 20 }));
	ROUND_TRIP(leak, PT_FIELDS_LEAK,
	           ((struct pt_r_leak){ .info = 3, .cls = PT_LEAK_INDIRECT, .blocks = 2, .bytes = 96 }));
	ROUND_TRIP(pinned, PT_FIELDS_PINNED, ((struct pt_r_pinned){ .seq = 9, .snap_kind = 2 }));
	ROUND_TRIP(pinned_info, PT_FIELDS_PINNED_INFO, ((struct pt_r_pinned_info){ 4, 16 }));
	ROUND_TRIP(ext, PT_FIELDS_EXT, ((struct pt_r_ext){ .ext = PT_EXT_PYOBJECTS, .len = 70000 }));
	ROUND_TRIP(ext_python, PT_FIELDS_EXT_PYTHON,
	           ((struct pt_r_ext_python){ .hexversion = 0x030b02f0, .flags = PT_PY_F_OWN_ALLOC,
	                                      .eval_addr = 0x7ffff7a01234ull }));
	ROUND_TRIP(ext_pyobjects, PT_FIELDS_EXT_PYOBJECTS,
	           ((struct pt_r_ext_pyobjects){ .seq = 1ull << 50, .when = 1 }));
	ROUND_TRIP(ext_infos, PT_FIELDS_EXT_INFOS, ((struct pt_r_ext_infos){ .next = 1u << 21 }));
	ROUND_TRIP(pyobject, PT_FIELDS_PYOBJECT,
	           ((struct pt_r_pyobject){ .info = 5, .cls = PT_LEAK_REACHABLE, .type = 2,
	                                    .objects = 1000, .bytes = 56000 }));
}

/* A CODE record: strings and the line table as bytes, any of them empty. */
static void test_code_record_round_trips(void **st)
{
	(void)st;
	static const uint8_t lines[] = { 0x80, 0x00, 0xd8, 0x04, 0x07, 0xf8 };
	const char *name = "Holder.fill", *file = "/tmp/caf\xc3\xa9/app.py";
	struct pt_r_code c = { .id = PT_FRAME_CODE_MAX, .firstline = 12, .name = (const uint8_t *)name,
	                       .name_len = strlen(name), .file = (const uint8_t *)file,
	                       .file_len = strlen(file), .lines = lines, .lines_len = sizeof lines };
	for (int empty = 0; empty < 2; empty++) {
		if (empty)
			c.name_len = c.file_len = c.lines_len = 0;
		uint8_t *p = buf;
		PT_ENCODE(p, &c, PT_FIELDS_CODE);
		struct pt_dec d = dec_of(p);
		struct pt_r_code r;
		PT_DECODE(&d, &r, PT_FIELDS_CODE);
		assert_false(d.bad);
		assert_ptr_equal(d.p, p);
		assert_int_equal(r.id, c.id);
		assert_int_equal(r.firstline, 12);
		assert_int_equal(r.name_len, c.name_len);
		assert_memory_equal(r.name, name, c.name_len);
		assert_int_equal(r.file_len, c.file_len);
		assert_memory_equal(r.file, file, c.file_len);
		assert_int_equal(r.lines_len, c.lines_len);
		assert_memory_equal(r.lines, lines, c.lines_len);
		for (size_t cut = 0; cut < (size_t)(p - buf); cut++) {
			d = (struct pt_dec){ buf, buf + cut, 0 };
			PT_DECODE(&d, &r, PT_FIELDS_CODE);
			assert_true(d.bad);
			assert_true(d.p <= buf + cut);
		}
	}
}

/* Frames of a stack record: return addresses, Python frames and the mark
 * in any order, each kind against its own; what a Python frame packs;
 * every cut of the list is bad. */
static void test_frames_round_trip_by_kind(void **st)
{
	(void)st;
	uint64_t ip[] = { 0x7ffff7a00456ull, pt_frame_py(1, 0), pt_frame_py(PT_FRAME_CODE_MAX, UINT32_MAX),
	                  0x401234, pt_frame_py(77, 43), 0x7ffff7a00400ull, pt_frame_py(3, 9),
	                  0x10, PT_FRAME_TRUNCATED };
	size_t n = sizeof ip / sizeof ip[0];
	uint8_t *p = buf;
	struct pt_frame_state s = { 0, 0 };
	for (size_t i = 0; i < n; i++) {
		uint8_t *q = pt_enc_frame(p, &s, ip[i]);
		assert_true(q - p <= PT_FRAME_MAX_BYTES);
		p = q;
	}
	struct pt_dec d = dec_of(p);
	s = (struct pt_frame_state){ 0, 0 };
	for (size_t i = 0; i < n; i++)
		assert_int_equal(pt_dec_frame(&d, &s), ip[i]);
	assert_false(d.bad);
	assert_ptr_equal(d.p, p);
	for (size_t cut = 0; cut < (size_t)(p - buf); cut++) {
		d = (struct pt_dec){ buf, buf + cut, 0 };
		s = (struct pt_frame_state){ 0, 0 };
		for (size_t i = 0; i < n; i++)
			pt_dec_frame(&d, &s);
		assert_true(d.bad);
		assert_true(d.p <= buf + cut);
	}
	assert_false(pt_frame_is_py(ip[0]));
	assert_true(pt_frame_is_py(ip[1]));
	assert_int_equal(pt_frame_py_code(ip[1]), 1);
	assert_int_equal(pt_frame_py_offset(ip[1]), -1);
	assert_int_equal(pt_frame_py_code(ip[2]), PT_FRAME_CODE_MAX);
	assert_int_equal(pt_frame_py_offset(ip[2]), (int64_t)UINT32_MAX - 1);
	assert_int_equal(pt_frame_py_code(ip[4]), 77);
	assert_int_equal(pt_frame_py_offset(ip[4]), 42);
	assert_false(pt_frame_is_py(PT_FRAME_TRUNCATED));
}

/* A u32 field holding more than 32 bits is damage, not a truncation. */
static void test_u32_field_over_32_bits_is_bad(void **st)
{
	(void)st;
	uint8_t *p = pt_put_u(buf, 1ull << 32);
	struct pt_dec d = dec_of(p);
	struct pt_r_alloc r;
	PT_DECODE(&d, &r, PT_FIELDS_ALLOC);
	assert_true(d.bad);
}

/* d fields: a list of addresses as differences, up and down. */
static void test_delta_lists_round_trip_in_any_order(void **st)
{
	(void)st;
	static const uint64_t base[] = { 0x7f0000040000ull, 0x7f0000000000ull, 0x10000,
	                                 0x7fffffffffffull, 0x7f0000040000ull };
	uint8_t *p = buf;
	uint64_t prev = 0;
	for (size_t i = 0; i < 5; i++) {
		struct pt_r_snap_arena a = { .base = base[i], .pools_used = i, .pools_empty = 63 - i,
		                             .pools_untouched = 0, .blocks_used = i * 100,
		                             .bytes_in_blocks = i << 12 };
		PT_ENCODE_FIELDS(p, &a, prev, PT_FIELDS_SNAP_ARENA);
	}
	struct pt_dec d = dec_of(p);
	prev = 0;
	for (size_t i = 0; i < 5; i++) {
		struct pt_r_snap_arena a;
		PT_DECODE_FIELDS(&d, &a, prev, PT_FIELDS_SNAP_ARENA);
		assert_int_equal(a.base, base[i]);
		assert_int_equal(a.pools_empty, 63 - i);
		assert_int_equal(a.bytes_in_blocks, i << 12);
	}
	assert_false(d.bad);
	assert_ptr_equal(d.p, p);

	/* a stack's frames: the first from 0 */
	p = buf;
	prev = 0;
	static const uint64_t ip[] = { 0x55555555a123ull, 0x7ffff7a00456ull, 0x55555555a000ull };
	for (size_t i = 0; i < 3; i++) {
		struct pt_r_frame_v2 f = { ip[i] };
		PT_ENCODE_FIELDS(p, &f, prev, PT_FIELDS_FRAME_V2);
	}
	d = dec_of(p);
	prev = 0;
	for (size_t i = 0; i < 3; i++) {
		struct pt_r_frame_v2 f;
		PT_DECODE_FIELDS(&d, &f, prev, PT_FIELDS_FRAME_V2);
		assert_int_equal(f.ip, ip[i]);
	}
	assert_false(d.bad);
}

/* b fields: bytes pointed to in place; a length beyond the end is bad. */
static void test_byte_fields_round_trip_and_cut_lengths_are_bad(void **st)
{
	(void)st;
	static const uint8_t id[20] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17 };
	const char *path = "/usr/lib/x86_64-linux-gnu/libc.so.6";
	struct pt_r_module m = { .base = 0x7ffff7c00000ull, .path = (const uint8_t *)path,
	                         .path_len = strlen(path), .build_id = id, .build_id_len = 20,
	                         .nseg = 4 };
	uint8_t *p = buf;
	PT_ENCODE(p, &m, PT_FIELDS_MODULE);
	assert_true((size_t)(p - buf) <= PT_FIELDS_MAX(PT_FIELDS_MODULE) + m.path_len + 20);
	struct pt_dec d = dec_of(p);
	struct pt_r_module r;
	PT_DECODE(&d, &r, PT_FIELDS_MODULE);
	assert_false(d.bad);
	assert_int_equal(r.base, m.base);
	assert_int_equal(r.path_len, m.path_len);
	assert_memory_equal(r.path, path, m.path_len);
	assert_int_equal(r.build_id_len, 20);
	assert_memory_equal(r.build_id, id, 20);
	assert_int_equal(r.nseg, 4);
	for (size_t cut = 0; cut < (size_t)(p - buf); cut++) {
		d = (struct pt_dec){ buf, buf + cut, 0 };
		PT_DECODE(&d, &r, PT_FIELDS_MODULE);
		assert_true(d.bad);
		assert_true(d.p <= buf + cut);
	}
}

/* An event's seq: in the type byte for deltas 1..15, after it otherwise
 * (0 and deltas that wrap, a realloc's seq taken before its neighbour's). */
static void test_event_seq_deltas_in_and_after_the_type_byte(void **st)
{
	(void)st;
	static const uint64_t deltas[] = { 1, 15, 16, 0, 1000000, UINT64_MAX };
	uint8_t *p = buf;
	for (size_t i = 0; i < 6; i++) {
		uint8_t *q = pt_enc_event(p, PT_REC_FREE_TEMP, deltas[i]);
		assert_int_equal(PT_REC_TYPE(*p), PT_REC_FREE_TEMP);
		if (deltas[i] >= 1 && deltas[i] <= 15) {
			assert_int_equal(q - p, 1);
			assert_int_equal(PT_REC_SEQ(*p), deltas[i]);
		} else {
			assert_true(q - p > 1);
			assert_int_equal(PT_REC_SEQ(*p), 0);
		}
		p = q;
	}
	struct pt_dec d = dec_of(p);
	uint64_t seq = 100;
	for (size_t i = 0; i < 6; i++) {
		uint8_t b = *d.p++;
		uint64_t want = seq + deltas[i];
		assert_int_equal(pt_dec_event_seq(&d, b, &seq), want);
	}
	assert_false(d.bad);
	assert_ptr_equal(d.p, p);
}

/* A count known only after its list: the gap of PT_COUNT_ROOM bytes
 * closes to the count's own length, the list moved up behind it. */
static void test_count_written_after_its_list_closes_the_gap(void **st)
{
	(void)st;
	static const uint64_t counts[] = { 0, 3, 200, 1ull << 40 };
	for (size_t k = 0; k < 4; k++) {
		uint8_t *p = pt_enc_type(buf, PT_REC_LEAKS);
		struct pt_r_leaks head = { .seq = 42, .roots_bytes = 4096 };
		PT_ENCODE(p, &head, PT_FIELDS_LEAKS);
		uint8_t *count_at = p;
		p = pt_enc_count_open(p);
		for (uint32_t i = 1; i <= 3; i++) {
			struct pt_r_leak e = { .info = i, .cls = i % 3, .blocks = i, .bytes = 16 * i };
			PT_ENCODE(p, &e, PT_FIELDS_LEAK);
		}
		p = pt_enc_count_close(count_at, p, counts[k]);
		struct pt_dec d = { buf + 1, p, 0 };
		struct pt_r_leaks h;
		PT_DECODE(&d, &h, PT_FIELDS_LEAKS);
		assert_int_equal(h.seq, 42);
		assert_int_equal(pt_dec_u(&d), counts[k]);
		for (uint32_t i = 1; i <= 3; i++) {
			struct pt_r_leak e;
			PT_DECODE(&d, &e, PT_FIELDS_LEAK);
			assert_int_equal(e.info, i);
			assert_int_equal(e.bytes, 16 * i);
		}
		assert_false(d.bad);
		assert_ptr_equal(d.p, p);
	}
}

/* A hostile count cannot ask for more entries than the rest could hold. */
static void test_count_fits_bounds_hostile_counts(void **st)
{
	(void)st;
	struct pt_dec d = { buf, buf + 100, 0 };
	assert_true(pt_dec_count_fits(&d, 25, 4));
	assert_false(pt_dec_count_fits(&d, 26, 4));
	assert_false(pt_dec_count_fits(&d, UINT64_MAX, 1));
	d.bad = 1;
	assert_false(pt_dec_count_fits(&d, 0, 4));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_flat_record_round_trips),
		cmocka_unit_test(test_code_record_round_trips),
		cmocka_unit_test(test_frames_round_trip_by_kind),
		cmocka_unit_test(test_u32_field_over_32_bits_is_bad),
		cmocka_unit_test(test_delta_lists_round_trip_in_any_order),
		cmocka_unit_test(test_byte_fields_round_trip_and_cut_lengths_are_bad),
		cmocka_unit_test(test_event_seq_deltas_in_and_after_the_type_byte),
		cmocka_unit_test(test_count_written_after_its_list_closes_the_gap),
		cmocka_unit_test(test_count_fits_bounds_hostile_counts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
