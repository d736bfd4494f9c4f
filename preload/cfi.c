/*
 * cfi.c - the unwind rule of a code address, from .eh_frame (cfi.h).
 *
 * The module that holds pc is found with dl_iterate_phdr; its
 * PT_GNU_EH_FRAME segment (.eh_frame_hdr) has a table of every function's
 * start, sorted, which a binary search turns into pc's FDE.  The FDE's
 * call frame instructions, after its CIE's initial ones, are run up to pc,
 * tracking only what the walk needs: the CFA, the return address (DWARF
 * register 16) and RBP (6).  Every read stays inside the module's loaded
 * segment that holds the table or the entry; anything malformed or
 * unexpected gives PT_CFI_NONE.
 */
#include <link.h>
#include <string.h>

#include "cfi.h"
#include "trace_format.h"

enum {
	REG_RBP = 6, REG_RSP = 7, REG_RA = 16,
	STATE_STACK = 8,     /* DW_CFA_remember_state nesting kept */
};

/* DW_EH_PE pointer encodings */
enum {
	PE_ABSPTR = 0x00, PE_ULEB = 0x01, PE_UDATA2 = 0x02, PE_UDATA4 = 0x03, PE_UDATA8 = 0x04,
	PE_SLEB = 0x09, PE_SDATA2 = 0x0a, PE_SDATA4 = 0x0b, PE_SDATA8 = 0x0c,
	PE_PCREL = 0x10, PE_DATAREL = 0x30, PE_INDIRECT = 0x80, PE_OMIT = 0xff,
};

/* a bounded reader; ok drops to 0 at the first read past the end */
struct rd {
	const uint8_t *p, *end;
	int ok;
};

static uint64_t rd_n(struct rd *r, unsigned n)
{
	if (!r->ok || (size_t)(r->end - r->p) < n) {
		r->ok = 0;
		return 0;
	}
	uint64_t v = 0;
	memcpy(&v, r->p, n);   /* little-endian */
	r->p += n;
	return v;
}

/* DWARF's unsigned LEB128 is the trace's varint (trace_format.h). */
static uint64_t rd_uleb(struct rd *r)
{
	uint64_t v = 0;
	if (r->ok && pt_get_u(&r->p, r->end, &v) != 0)
		r->ok = 0;
	return r->ok ? v : 0;
}

/* Signed LEB128: the unsigned bits, sign-extended from the last byte's bit 6. */
static int64_t rd_sleb(struct rd *r)
{
	const uint8_t *at = r->p;
	uint64_t v = rd_uleb(r);
	unsigned shift = 7 * (unsigned)(r->p - at);
	if (r->ok && shift < 64 && (r->p[-1] & 0x40))
		v |= ~(uint64_t)0 << shift;
	return (int64_t)v;
}

/* Skip n bytes; 0, or -1 (and ok 0) past the end. */
static int rd_skip(struct rd *r, uint64_t n)
{
	if (!r->ok || n > (uint64_t)(r->end - r->p)) {
		r->ok = 0;
		return -1;
	}
	r->p += n;
	return 0;
}

/* A pointer in encoding enc; datarel is relative to data_base.  Indirect
 * pointers (personality routines) are skipped, not followed: 0. */
static uintptr_t rd_ptr(struct rd *r, uint8_t enc, uintptr_t data_base)
{
	uintptr_t here = (uintptr_t)r->p, v;
	switch (enc & 0x0f) {
	case PE_ABSPTR: case PE_UDATA8: case PE_SDATA8: v = (uintptr_t)rd_n(r, 8); break;
	case PE_ULEB: v = (uintptr_t)rd_uleb(r); break;
	case PE_SLEB: v = (uintptr_t)rd_sleb(r); break;
	case PE_UDATA2: v = (uintptr_t)rd_n(r, 2); break;
	case PE_SDATA2: v = (uintptr_t)(int64_t)(int16_t)rd_n(r, 2); break;
	case PE_UDATA4: v = (uintptr_t)rd_n(r, 4); break;
	case PE_SDATA4: v = (uintptr_t)(int64_t)(int32_t)rd_n(r, 4); break;
	default: r->ok = 0; return 0;
	}
	switch (enc & 0x70) {
	case 0: break;
	case PE_PCREL: v += here; break;
	case PE_DATAREL: v += data_base; break;
	default: r->ok = 0; return 0;   /* textrel, funcrel, aligned: not on x86-64 */
	}
	return enc & PE_INDIRECT ? 0 : v;
}

/* ---- the module's tables ----------------------------------------------------- */

struct module {
	uintptr_t pc;
	const uint8_t *hdr;                /* .eh_frame_hdr */
	size_t hdr_len;
	const ElfW(Phdr) *phdr;
	unsigned phnum;
	uintptr_t base;
};

static int module_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct module *m = arg;
	const ElfW(Phdr) *eh = NULL;
	int holds = 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type == PT_LOAD && m->pc - (info->dlpi_addr + ph->p_vaddr) < ph->p_memsz)
			holds = 1;
		else if (ph->p_type == PT_GNU_EH_FRAME)
			eh = ph;
	}
	if (!holds)
		return 0;
	if (eh) {
		m->hdr = (const uint8_t *)(info->dlpi_addr + eh->p_vaddr);
		m->hdr_len = eh->p_memsz;
	}
	m->phdr = info->dlpi_phdr;
	m->phnum = (unsigned)info->dlpi_phnum;
	m->base = info->dlpi_addr;
	return 1;
}

/* A reader over the .eh_frame entry (CIE or FDE) at a, its length word:
 * from after that word to the entry's end, inside the loaded segment of m
 * that holds it; ok 0 if it is not all there. */
static struct rd entry_reader(const struct module *m, uintptr_t a)
{
	struct rd r = { NULL, NULL, 0 };
	for (unsigned i = 0; i < m->phnum; i++) {
		const ElfW(Phdr) *ph = &m->phdr[i];
		uintptr_t lo = m->base + ph->p_vaddr;
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_R) && a - lo < ph->p_filesz) {
			r = (struct rd){ (const uint8_t *)a, (const uint8_t *)(lo + ph->p_filesz), 1 };
			break;
		}
	}
	uint64_t len = rd_n(&r, 4);
	if (len == 0xffffffffu)
		len = rd_n(&r, 8);
	if (r.ok && len <= (uint64_t)(r.end - r.p))
		r.end = r.p + len;
	else
		r.ok = 0;
	return r;
}

/* The address of pc's FDE from the binary search table; 0 if none. */
static uintptr_t find_fde(const struct module *m)
{
	struct rd r = { m->hdr, m->hdr + m->hdr_len, 1 };
	uint8_t version = (uint8_t)rd_n(&r, 1), frame_enc = (uint8_t)rd_n(&r, 1);
	uint8_t count_enc = (uint8_t)rd_n(&r, 1), table_enc = (uint8_t)rd_n(&r, 1);
	uintptr_t hdr = (uintptr_t)m->hdr;
	rd_ptr(&r, frame_enc, hdr);
	if (!r.ok || version != 1 || count_enc == PE_OMIT ||
	    table_enc != (PE_DATAREL | PE_SDATA4))   /* what every linker writes */
		return 0;
	uintptr_t count = rd_ptr(&r, count_enc, hdr);
	if (!r.ok || count == 0 || count > (size_t)(r.end - r.p) / 8)
		return 0;
	const int32_t *t = (const int32_t *)r.p;   /* pairs: start, FDE; hdr-relative */
	size_t lo = 0, hi = count;
	while (hi - lo > 1) {   /* the last entry whose start is <= pc */
		size_t mid = lo + (hi - lo) / 2;
		if (hdr + (intptr_t)t[2 * mid] <= m->pc)
			lo = mid;
		else
			hi = mid;
	}
	if (hdr + (intptr_t)t[2 * lo] > m->pc)
		return 0;
	return hdr + (intptr_t)t[2 * lo + 1];
}

/* ---- running the call frame instructions ------------------------------------- */

enum { R_SAME, R_OFFSET, R_UNDEF, R_OTHER };   /* a register's rule */

struct rule_row {
	int cfa_reg;          /* -1: an expression */
	int64_t cfa_off;
	uint8_t rbp, ra;      /* rules */
	int64_t rbp_off, ra_off;
};

struct cie {
	uint64_t code_align;
	int64_t data_align;
	uint64_t ra_reg;
	uint8_t fde_enc;
	int has_z, signal;
	struct rd insns;      /* its initial instructions */
};

static void set_reg(struct rule_row *s, uint64_t reg, uint8_t rule, int64_t off)
{
	if (reg == REG_RBP) {
		s->rbp = rule;
		s->rbp_off = off;
	} else if (reg == REG_RA) {
		s->ra = rule;
		s->ra_off = off;
	}
}

/*
 * Run instructions from r over row s, starting at code address *loc,
 * until the row for pc is reached (an advance past pc) or r ends.  init:
 * the row after the CIE's instructions (DW_CFA_restore).  0, or -1 for an
 * instruction we cannot follow.
 */
static int run_insns(struct rd *r, const struct cie *c, struct rule_row *s,
                     const struct rule_row *init, uintptr_t *loc, uintptr_t pc)
{
	struct rule_row saved[STATE_STACK];
	unsigned depth = 0;
	while (r->ok && r->p < r->end) {
		uint8_t op = (uint8_t)rd_n(r, 1);
		uint64_t reg, delta = 0;
		switch (op >> 6) {
		case 1:   /* DW_CFA_advance_loc */
			delta = op & 0x3f;
			goto advance;
		case 2:   /* DW_CFA_offset */
			set_reg(s, op & 0x3f, R_OFFSET, (int64_t)rd_uleb(r) * c->data_align);
			continue;
		case 3:   /* DW_CFA_restore */
			reg = op & 0x3f;
			goto restore;
		}
		switch (op) {
		case 0x00:   /* nop */
			continue;
		case 0x01: { /* set_loc */
			uintptr_t a = rd_ptr(r, c->fde_enc, 0);
			if (a > pc)
				return 0;
			*loc = a;
			continue;
		}
		case 0x02: delta = rd_n(r, 1); goto advance;
		case 0x03: delta = rd_n(r, 2); goto advance;
		case 0x04: delta = rd_n(r, 4); goto advance;
		case 0x05:   /* offset_extended */
			reg = rd_uleb(r);
			set_reg(s, reg, R_OFFSET, (int64_t)rd_uleb(r) * c->data_align);
			continue;
		case 0x06:   /* restore_extended */
			reg = rd_uleb(r);
			goto restore;
		case 0x07:   /* undefined */
			set_reg(s, rd_uleb(r), R_UNDEF, 0);
			continue;
		case 0x08:   /* same_value */
			set_reg(s, rd_uleb(r), R_SAME, 0);
			continue;
		case 0x09:   /* register */
			reg = rd_uleb(r);
			rd_uleb(r);
			set_reg(s, reg, R_OTHER, 0);
			continue;
		case 0x0a:   /* remember_state */
			if (depth == STATE_STACK)
				return -1;
			saved[depth++] = *s;
			continue;
		case 0x0b:   /* restore_state, the CFA's rule too (what GCC's
			               epilogues in mid-function expect, and libgcc does) */
			if (depth == 0)
				return -1;
			*s = saved[--depth];
			continue;
		case 0x0c:   /* def_cfa */
			s->cfa_reg = (int)rd_uleb(r);
			s->cfa_off = (int64_t)rd_uleb(r);
			continue;
		case 0x0d:   /* def_cfa_register */
			s->cfa_reg = (int)rd_uleb(r);
			continue;
		case 0x0e:   /* def_cfa_offset */
			s->cfa_off = (int64_t)rd_uleb(r);
			continue;
		case 0x0f:   /* def_cfa_expression */
			return -1;
		case 0x10:   /* expression */
		case 0x16:   /* val_expression */
			reg = rd_uleb(r);
			if (rd_skip(r, rd_uleb(r)))
				return -1;
			set_reg(s, reg, R_OTHER, 0);
			continue;
		case 0x11:   /* offset_extended_sf */
			reg = rd_uleb(r);
			set_reg(s, reg, R_OFFSET, rd_sleb(r) * c->data_align);
			continue;
		case 0x12:   /* def_cfa_sf */
			s->cfa_reg = (int)rd_uleb(r);
			s->cfa_off = rd_sleb(r) * c->data_align;
			continue;
		case 0x13:   /* def_cfa_offset_sf */
			s->cfa_off = rd_sleb(r) * c->data_align;
			continue;
		case 0x14:   /* val_offset */
			reg = rd_uleb(r);
			rd_uleb(r);
			set_reg(s, reg, R_OTHER, 0);
			continue;
		case 0x15:   /* val_offset_sf */
			reg = rd_uleb(r);
			rd_sleb(r);
			set_reg(s, reg, R_OTHER, 0);
			continue;
		case 0x2e:   /* GNU_args_size */
			rd_uleb(r);
			continue;
		case 0x2f:   /* GNU_negative_offset_extended */
			reg = rd_uleb(r);
			set_reg(s, reg, R_OFFSET, -(int64_t)rd_uleb(r) * c->data_align);
			continue;
		default:
			return -1;
		}
advance:
		if (*loc + delta * c->code_align > pc)
			return 0;   /* the row in force at pc */
		*loc += delta * c->code_align;
		continue;
restore:
		if (!init)
			return -1;   /* DW_CFA_restore inside a CIE */
		if (reg == REG_RBP)
			set_reg(s, reg, init->rbp, init->rbp_off);
		else if (reg == REG_RA)
			set_reg(s, reg, init->ra, init->ra_off);
		continue;
	}
	return r->ok ? 0 : -1;
}

/* Parse the CIE at a (its length word). */
static int parse_cie(const struct module *m, uintptr_t a, struct cie *c)
{
	struct rd r = entry_reader(m, a);
	if (rd_n(&r, 4) != 0)   /* a CIE's id in .eh_frame */
		return -1;
	uint8_t version = (uint8_t)rd_n(&r, 1);
	const char *aug = (const char *)r.p;
	size_t aug_len = strnlen(aug, (size_t)(r.end - r.p));
	if (!r.ok || (version != 1 && version != 3) || aug_len == (size_t)(r.end - r.p))
		return -1;
	r.p += aug_len + 1;
	c->code_align = rd_uleb(&r);
	c->data_align = rd_sleb(&r);
	c->ra_reg = version == 1 ? rd_n(&r, 1) : rd_uleb(&r);
	c->fde_enc = PE_ABSPTR;
	c->has_z = aug[0] == 'z';
	c->signal = 0;
	if (aug_len && !c->has_z)
		return -1;   /* "eh" and other old forms */
	if (c->has_z) {   /* its augmentation data: read apart, skipped here */
		uint64_t n = rd_uleb(&r);
		struct rd d = { r.p, r.p, r.ok };
		if (rd_skip(&r, n))
			return -1;
		d.end = r.p;
		for (size_t i = 1; i < aug_len; i++) {
			switch (aug[i]) {
			case 'L': rd_n(&d, 1); break;
			case 'R': c->fde_enc = (uint8_t)rd_n(&d, 1); break;
			case 'P': rd_ptr(&d, (uint8_t)rd_n(&d, 1), 0); break;
			case 'S': c->signal = 1; break;
			default: i = aug_len; break;   /* unknown: the length skips it */
			}
		}
		if (!d.ok)
			return -1;
	}
	c->insns = r;
	return r.ok && c->code_align ? 0 : -1;
}

struct pt_cfi_rule pt__cfi_rule(uintptr_t pc)
{
	struct pt_cfi_rule none = { 0, 0, 0, PT_CFI_NONE };
	struct module m = { .pc = pc };
	if (!dl_iterate_phdr(module_cb, &m) || !m.hdr)
		return none;
	uintptr_t fde = find_fde(&m);
	if (!fde)
		return none;

	struct rd r = entry_reader(&m, fde);
	uintptr_t id_at = (uintptr_t)r.p;
	uint32_t cie_off = (uint32_t)rd_n(&r, 4);
	struct cie c;
	if (!r.ok || cie_off == 0 || parse_cie(&m, id_at - cie_off, &c) != 0 || c.signal ||
	    c.ra_reg != REG_RA)
		return none;
	uintptr_t start = rd_ptr(&r, c.fde_enc, 0);
	uintptr_t range = rd_ptr(&r, c.fde_enc & 0x0f, 0);
	if (c.has_z)
		rd_skip(&r, rd_uleb(&r));   /* its augmentation data */
	if (!r.ok || pc < start || pc - start >= range)
		return none;

	struct rule_row s = { .cfa_reg = -1, .rbp = R_SAME, .ra = R_SAME }, init;
	uintptr_t loc = start;
	if (run_insns(&c.insns, &c, &s, NULL, &loc, pc) != 0)
		return none;
	init = s;
	loc = start;
	if (run_insns(&r, &c, &s, &init, &loc, pc) != 0)
		return none;

	struct pt_cfi_rule rule = { 0, 0, 0, PT_CFI_NONE };
	if (s.ra == R_UNDEF) {
		rule.kind = PT_CFI_LAST;
		return rule;
	}
	if ((s.cfa_reg != REG_RSP && s.cfa_reg != REG_RBP) || s.ra != R_OFFSET ||
	    (s.rbp != R_SAME && s.rbp != R_OFFSET))
		return none;
	if (s.cfa_off < 8 || s.cfa_off > INT32_MAX || (s.ra_off & 7) || s.ra_off < -1024 ||
	    s.ra_off >= 0 || (s.rbp == R_OFFSET && (s.rbp_off >= 0 || s.rbp_off < INT16_MIN)))
		return none;
	rule.kind = s.cfa_reg == REG_RSP ? PT_CFI_RSP : PT_CFI_RBP;
	rule.cfa_off = (int32_t)s.cfa_off;
	rule.ra_off8 = (int8_t)(s.ra_off / 8);
	rule.rbp_off = s.rbp == R_OFFSET ? (int16_t)s.rbp_off : 0;
	return rule;
}
