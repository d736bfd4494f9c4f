// cxx_prog.cc - a C++ program for the report tests: its allocation sites
// are methods in a namespace, so reports must show demangled names
// (shapes::Grid::grow(unsigned long)), and operator new's frames.
#include <cstdio>
#include <memory>
#include <vector>

namespace shapes {

class Grid {
public:
	__attribute__((noinline)) void grow(unsigned long n)
	{
		for (unsigned long i = 0; i < n; i++)
			cells_.push_back(std::make_unique<double[]>(8));
	}
	__attribute__((noinline)) size_t size() const { return cells_.size(); }

private:
	std::vector<std::unique_ptr<double[]>> cells_;
};

} // namespace shapes

int main()
{
	shapes::Grid g;
	g.grow(1000);
	std::printf("%zu cells\n", g.size());
	return 0;
}
