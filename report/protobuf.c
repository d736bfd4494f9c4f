/*
 * protobuf.c - the protocol buffers wire format (protobuf.h).
 */
#include <stdlib.h>

#include "protobuf.h"

enum { WIRE_VARINT = 0, WIRE_LEN = 2 };

void pt_pb_varint(struct pt_buf *b, uint64_t v)
{
	char out[10];
	size_t n = 0;
	while (v >= 0x80) {
		out[n++] = (char)(v | 0x80);
		v >>= 7;
	}
	out[n++] = (char)v;
	pt_buf_put(b, out, n);
}

static void tag(struct pt_buf *b, unsigned field, unsigned wire)
{
	pt_pb_varint(b, (uint64_t)field << 3 | wire);
}

void pt_pb_uint(struct pt_buf *b, unsigned field, uint64_t v)
{
	if (!v)
		return;
	tag(b, field, WIRE_VARINT);
	pt_pb_varint(b, v);
}

void pt_pb_bytes(struct pt_buf *b, unsigned field, const void *data, size_t len)
{
	tag(b, field, WIRE_LEN);
	pt_pb_varint(b, len);
	pt_buf_put(b, data, len);
}

void pt_pb_packed(struct pt_buf *b, unsigned field, const uint64_t *v, size_t n)
{
	struct pt_buf p = { 0 };
	if (!n)
		return;
	for (size_t i = 0; i < n; i++)
		pt_pb_varint(&p, v[i]);
	pt_pb_bytes(b, field, p.s, p.len);
	free(p.s);
}
