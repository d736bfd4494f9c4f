#!/bin/sh
# test_exports.sh BUILD - what libpooltrace.so puts into the program it is
# loaded into: its dynamic symbols are exactly the version script's list,
# each of them documented in libpooltrace(3); it depends on the dynamic
# linker, libc and libm only (libunwind is loaded privately when a mode
# needs it, zstd is linked in with its symbols hidden); every symbol it
# imports is glibc's, so that nothing the program defines can be bound
# into it by accident.
set -u
B=${1:-build}
. "$(dirname "$0")/lib.sh"
SRC=$(dirname "$0")/..
SO="$B/libpooltrace.so"

# the names under global: in the version script
sed -e 's|/\*.*\*/||' -e '/local:/,$d' "$SRC/preload/libpooltrace.map" |
	sed -e '1,/global:/d' | tr ';' '\n' | tr -d ' \t' | grep . | sort > "$TMP/map"
nm -D --defined-only "$SO" | awk '{ print $3 }' | sed 's/@.*//' | sort > "$TMP/exported"
if cmp -s "$TMP/map" "$TMP/exported" && [ -s "$TMP/map" ]; then
	pass "exports: the $(wc -l < "$TMP/map") symbols of the version script, no other"
else
	diff "$TMP/map" "$TMP/exported" > "$TMP/diff"
	fail "exports differ from the version script (< map, > exported)" "$TMP/diff"
fi

: > "$TMP/undoc"
while read -r s; do
	grep -q "\\\\fB$s\\\\fR\|^\.B[IR]* \"*[a-z_ ]*\**$s(" "$SRC/man/libpooltrace.3" ||
		echo "$s" >> "$TMP/undoc"
done < "$TMP/exported"
if [ ! -s "$TMP/undoc" ]; then
	pass "exports: each one named in libpooltrace(3)"
else
	fail "exports not named in libpooltrace(3)" "$TMP/undoc"
fi

readelf -d "$SO" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort > "$TMP/needed"
printf 'ld-linux-x86-64.so.2\nlibc.so.6\nlibm.so.6\n' > "$TMP/want"
if cmp -s "$TMP/needed" "$TMP/want"; then
	pass "needed: the dynamic linker, libc.so.6 and libm.so.6 only"
else
	fail "needed libraries: $(tr '\n' ' ' < "$TMP/needed")" "$TMP/needed"
fi

# imports: versioned glibc symbols, or the weak hooks every object has
nm -D --undefined-only "$SO" | awk '{ print $NF }' |
	grep -v -e '@GLIBC_' -e '^__gmon_start__$' -e '^_ITM_deregisterTMCloneTable$' \
		-e '^_ITM_registerTMCloneTable$' > "$TMP/imports"
if [ ! -s "$TMP/imports" ]; then
	pass "imports: glibc's only"
else
	fail "imports that the program could define" "$TMP/imports"
fi

nm -D "$SO" | grep -i -e '_Unwind_' -e ' unw_' -e '_UL' -e 'ZSTD' -e 'lzma' > "$TMP/private"
if [ ! -s "$TMP/private" ]; then
	pass "no unwinder, zstd or lzma symbol in the dynamic table"
else
	fail "private library symbols in the dynamic table" "$TMP/private"
fi
summary
