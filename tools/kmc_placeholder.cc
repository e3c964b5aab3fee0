// TEMPORARY placeholder for //tools:kmc until the real tool lands.
#include <cstdio>

int main() {
  std::fputs("kmc: not built yet\n", stderr);
  return 1;
}
