// lib_cxx_init.cc - a C++ library whose static initializers allocate
// (cxx_static_init.cc links it): a vector of strings kept by a global
// pointer, a map kept by a global object, an int[25] lost.
#include <cstring>
#include <map>
#include <string>
#include <vector>

std::vector<std::string> *lib_names =
	new std::vector<std::string>{ "a string too long for the small buffer", "short" };
std::map<int, std::string> lib_table = { { 1, "one" }, { 2, "another string longer than 15" } };

static int *volatile lib_sink;

namespace {
struct lib_leaker {
	lib_leaker()
	{
		int *p = new int[25];
		std::memset(p, 0x5a, 25 * sizeof *p);
		lib_sink = p;
		lib_sink = nullptr;
	}
} the_lib_leaker;
}
