// unwind_cxx.cc - C++ exceptions and cancellation as a preloaded library
// must leave them: thrown through a callback of a C library function
// (qsort, bsearch), through many frames with destructors to run,
// rethrown, carried between threads, and a thread cancelled in a C++
// frame (its destructors run, catch (...) sees the forced unwind).
// Prints "CASE: ok" and exits 0, or says what went wrong and exits 1;
// an alarm turns a hang into a failure.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <pthread.h>
#include <stdexcept>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#define CHECK(c) do { if (!(c)) { \
	std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); \
	std::exit(1); } } while (0)

namespace {

int live;   // Tracked objects alive

struct Tracked {
	std::vector<int> v;
	explicit Tracked(int n) : v(static_cast<size_t>(n) + 1, n) { live++; }
	~Tracked() { live--; }
};

struct Found {
	int value;
};

int cmp_throwing(const void *a, const void *b)
{
	Tracked t(*static_cast<const int *>(a));
	int x = *static_cast<const int *>(a), y = *static_cast<const int *>(b);
	if (x == 4242 || y == 4242)
		throw Found{4242};
	return (x > y) - (x < y);
}

void through_qsort()
{
	for (int round = 0; round < 200; round++) {
		std::vector<int> v(1000 + round);
		for (size_t i = 0; i < v.size(); i++)
			v[i] = static_cast<int>((i * 7919) % 5000);
		v[static_cast<size_t>(round) * 3] = 4242;
		bool caught = false;
		try {
			std::qsort(v.data(), v.size(), sizeof(int), cmp_throwing);
		} catch (const Found &f) {
			caught = f.value == 4242;
		}
		CHECK(caught);
		int key = 4242;
		caught = false;
		try {
			std::bsearch(&key, v.data(), v.size(), sizeof(int), cmp_throwing);
		} catch (const Found &) {
			caught = true;
		}
		CHECK(caught);
		CHECK(live == 0);
	}
}

__attribute__((noinline)) int descend(int n, int at)
{
	Tracked t(n);
	auto owned = std::make_unique<std::string>(static_cast<size_t>(n % 100 + 1), 'a');
	if (n == at)
		throw std::runtime_error("depth " + std::to_string(n));
	return descend(n + 1, at) + static_cast<int>(owned->size());
}

void through_frames()
{
	for (int at = 0; at < 300; at += 7) {
		try {
			descend(0, at);
			CHECK(false);
		} catch (const std::runtime_error &e) {
			CHECK(e.what() == "depth " + std::to_string(at));
		}
		CHECK(live == 0);
	}
	// rethrow, nested, and std::exception_ptr
	int n = 0;
	try {
		try {
			descend(0, 50);
		} catch (...) {
			n++;
			throw;
		}
	} catch (const std::runtime_error &) {
		n++;
	}
	CHECK(n == 2);
	try {
		try {
			throw std::logic_error("inner");
		} catch (...) {
			std::throw_with_nested(std::runtime_error("outer"));
		}
	} catch (const std::runtime_error &e) {
		try {
			std::rethrow_if_nested(e);
		} catch (const std::logic_error &inner) {
			n++;
		}
	}
	CHECK(n == 3);
	CHECK(live == 0);
}

void across_threads()
{
	std::vector<std::exception_ptr> errors(8);
	std::vector<std::thread> threads;
	for (int i = 0; i < 8; i++)
		threads.emplace_back([i, &errors] {
			for (int k = 0; k < 200; k++) {
				try {
					descend(0, (i + k) % 40);
				} catch (...) {
					errors[i] = std::current_exception();
				}
			}
		});
	for (auto &t : threads)
		t.join();
	for (auto &e : errors) {
		CHECK(e);
		try {
			std::rethrow_exception(e);
		} catch (const std::runtime_error &) {
		}
	}
}

// cancellation in a C++ frame: destructors run, catch (...) must rethrow
int pipe_fds[2];
bool saw_forced_unwind;

void *cancelled(void *)
{
	Tracked t(5);
	try {
		char c;
		for (;;)
			if (read(pipe_fds[0], &c, 1) <= 0)   // cancellation point
				break;
	} catch (...) {
		saw_forced_unwind = true;
		throw;   // the forced unwind must go on
	}
	return nullptr;
}

void cancel()
{
	CHECK(pipe(pipe_fds) == 0);
	pthread_t t;
	CHECK(pthread_create(&t, nullptr, cancelled, nullptr) == 0);
	CHECK(pthread_cancel(t) == 0);
	void *ret;
	CHECK(pthread_join(t, &ret) == 0);
	CHECK(ret == PTHREAD_CANCELED);
	CHECK(saw_forced_unwind);
	CHECK(live == 0);
}

} // namespace

int main(int argc, char **argv)
{
	alarm(60);
	if (argc != 2)
		return 2;
	std::string what = argv[1];
	if (what == "qsort")
		through_qsort();
	else if (what == "frames")
		through_frames();
	else if (what == "threads")
		across_threads();
	else if (what == "cancel")
		cancel();
	else
		return 2;
	std::printf("%s: ok\n", argv[1]);
	return 0;
}
