// cxx_new_delete.cc - leaks through new and new[]: a lost list of 3 nodes
// (32 B each: the head definitely lost, 2 indirectly), a lost int[10], a
// pointer released from a unique_ptr and dropped (4 B).  An array of
// objects with destructors (its pointer is 8 bytes into the block, past
// the element count) and an object kept through its second base class (a
// pointer into its middle) are reachable.  What is deleted is gone.
//
// expect: definite 76/3 indirect 64/2
#include <cstring>
#include <memory>
#include <string>
#include <vector>

struct node {
	node *next;
	char pad[24];
};

struct with_dtor {
	~with_dtor() { v = 0; }
	long v = 1;
};

struct base1 {
	virtual ~base1() {}
	long a = 1;
};
struct base2 {
	virtual ~base2() {}
	long b = 2;
};
struct both : base1, base2 {
	long c = 3;
};

static void *volatile sink;
static with_dtor *volatile kept_array;
static base2 *volatile kept_base2;

__attribute__((noinline)) static void lose_all()
{
	node *head = nullptr;
	for (int i = 0; i < 3; i++) {
		node *n = new node;
		std::memset(n->pad, 0x5a, sizeof n->pad);
		n->next = head;
		head = n;
	}
	sink = head;
	int *a = new int[10];
	std::memset(a, 0x5a, 10 * sizeof *a);
	sink = a;
	sink = std::unique_ptr<int>(new int(5)).release();
	sink = nullptr;
}

__attribute__((noinline)) static void balanced()
{
	std::vector<std::string> v;
	for (int i = 0; i < 20; i++)
		v.push_back(std::string(20 + i, 'x'));
	delete new node;
	delete[] new with_dtor[4];
	base2 *b = new both;
	delete b;
}

__attribute__((noinline)) static void clobber_stack()
{
	volatile char buf[32768];
	std::memset(const_cast<char *>(buf), 0, sizeof buf);
}

int main()
{
	kept_array = new with_dtor[3];
	kept_base2 = new both;
	balanced();
	lose_all();
	clobber_stack();
	return 0;
}
