// cxx_objects.cc - C++ containers as services use them: a std::map of
// std::string keys to std::vector values, and a std::unordered_map of
// records held by std::unique_ptr, with entries replaced at random.  Every
// allocation is an operator new (tree and hash nodes, strings past their
// inline 15 bytes, vector growth), every free an operator delete: the C++
// operators' own paths, where the C workloads call malloc.
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common.h"

struct record {
	uint64_t id;
	std::string name;
	std::vector<uint32_t> tags;
};

static std::string key_of(uint64_t k)
{
	return "key-" + std::to_string(k) + "-" + std::string(k % 40, 'x');
}

int main()
{
	const long steps = (long)(1e6 * bench_scale());
	const uint64_t keys = 40000;
	uint64_t rng = 7, sum = 0;
	std::map<std::string, std::vector<uint32_t>> m;
	std::unordered_map<uint64_t, std::unique_ptr<record>> u;

	for (long s = 0; s < steps; s++) {
		/* the map: a random key's vector rebuilt */
		std::vector<uint32_t> &v = m[key_of(rng_next(&rng) % keys)];
		if (!v.empty())
			sum = sum * 31 + v.back() + v.size();
		std::vector<uint32_t>().swap(v);
		size_t n = rng_size(&rng, 1, 48);
		for (size_t i = 0; i < n; i++)
			v.push_back((uint32_t)(s + i));

		/* the hash: a random record replaced */
		uint64_t j = rng_next(&rng) % keys;
		auto it = u.find(j);
		if (it != u.end()) {
			sum = sum * 31 + it->second->name.size() + it->second->tags.size();
			u.erase(it);
		}
		std::unique_ptr<record> r(new record);
		r->id = (uint64_t)s;
		r->name = key_of((uint64_t)s);
		r->tags.assign(rng_size(&rng, 0, 24), (uint32_t)s);
		u.emplace(j, std::move(r));
	}
	for (const auto &e : m)
		sum = sum * 31 + e.second.size();
	printf("result: checksum=%016llx\n", (unsigned long long)sum);
	return 0;
}
