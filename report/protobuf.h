/*
 * protobuf.h - the protocol buffers wire format, written by hand for
 * pprof.c: varints, tags, length-delimited fields, packed repeated ones
 * (https://protobuf.dev/programming-guides/encoding/).  A message is built
 * in a pt_buf; a nested one is built in a buffer of its own and appended
 * as a length-delimited field.
 */
#ifndef POOLTRACE_PROTOBUF_H
#define POOLTRACE_PROTOBUF_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

void pt_pb_varint(struct pt_buf *b, uint64_t v);
/* field as a varint (int64, uint64, bool; a negative int64 as its two's
 * complement, 10 bytes); proto3 leaves out zeros, so do we */
void pt_pb_uint(struct pt_buf *b, unsigned field, uint64_t v);
/* field as length-delimited bytes: a string, or an encoded message */
void pt_pb_bytes(struct pt_buf *b, unsigned field, const void *data, size_t len);
/* repeated varints, packed (proto3's default for them) */
void pt_pb_packed(struct pt_buf *b, unsigned field, const uint64_t *v, size_t n);

#endif
