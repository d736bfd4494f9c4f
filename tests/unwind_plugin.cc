// unwind_plugin.cc - a C++ plugin for unwind_prog (dlopen'ed by a C
// program): throws and catches inside itself, through its own frames and
// through a C frame of the host, with destructors to run on the way.
#include <stdexcept>
#include <string>

namespace {

int live;   // objects constructed and not yet destroyed

struct Guard {
	std::string name;
	explicit Guard(int i) : name("guard " + std::to_string(i)) { live++; }
	~Guard() { live--; }
};

__attribute__((noinline)) void deep(int n)
{
	Guard g(n);
	if (n == 0)
		throw std::runtime_error("from the bottom");
	deep(n - 1);
}

void thrower(int v)
{
	Guard g(v);
	throw v;
}

} // namespace

// Throws and catches n times; returns the number caught, -1 if a
// destructor did not run.
extern "C" int plugin_run(void (*callback)(void (*)(int), int), int n)
{
	int caught = 0;
	for (int i = 0; i < n; i++) {
		try {
			if (i % 2)
				deep(i % 17);
			else
				callback(thrower, i);   // through the host's C frame
		} catch (const std::runtime_error &e) {
			caught += std::string(e.what()) == "from the bottom";
		} catch (int v) {
			caught += v == i;
		}
		if (live != 0)
			return -1;
	}
	return caught;
}
