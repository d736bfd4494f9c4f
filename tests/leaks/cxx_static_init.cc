// cxx_static_init.cc - allocations in C++ static initializers, the
// program's and a library's (lib_cxx_init.so, whose initializers run
// before main and maybe before the profiler's constructor): what globals
// keep is reachable (and libstdc++'s own emergency pool), the library's
// lost int[25] (100 B) and the program's lost char[77] are definitely
// lost, and a lost std::string (32 B) is definitely lost with its 41 B
// buffer indirectly lost.
//
// expect: definite 209/3 indirect 41/1
#include <cstring>
#include <string>
#include <vector>

extern std::vector<std::string> *lib_names;
static std::string *volatile sink;
static char *volatile csink;
std::vector<std::string> names = { "a string too long for the small buffer" };

namespace {
struct prog_leaker {
	prog_leaker()
	{
		char *p = new char[77];
		std::memset(p, 0x5a, 77);
		csink = p;
		csink = nullptr;
		sink = new std::string("forty characters, on the heap, not SSO!!");
		sink = nullptr;
	}
} the_prog_leaker;
}

__attribute__((noinline)) static void clobber_stack()
{
	volatile char buf[32768];
	std::memset(const_cast<char *>(buf), 0, sizeof buf);
}

int main()
{
	lib_names->push_back("one more string, long enough for the heap");
	clobber_stack();
	return names.size() != 1;
}
