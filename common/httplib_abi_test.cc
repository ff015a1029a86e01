// Our objects of cpp-httplib's classes are as large as the installed library thinks they are.
// The library (Debian's libcpp-httplib.so) is compiled with CPPHTTPLIB_OPENSSL_SUPPORT, zlib and
// brotli; code that includes httplib.h without the same macros gets smaller classes, and the
// library's constructors then write past the end of our objects (heap or stack corruption that
// ASan cannot see, since the writes come from uninstrumented code). Each object is built inside a
// buffer of canary bytes: every byte after sizeof(T) must survive construction and destruction.
#include <gtest/gtest.h>
#include <httplib.h>

#include <cstddef>
#include <cstring>
#include <new>

namespace {

constexpr unsigned char kCanary = 0xA5;
constexpr size_t kSlack = 512;

template <typename T, typename Make>
size_t BytesWrittenPastTheObject(Make make) {
  alignas(std::max_align_t) unsigned char buffer[sizeof(T) + kSlack];
  std::memset(buffer, kCanary, sizeof buffer);
  T* object = make(buffer);
  object->~T();
  size_t touched = 0;
  for (size_t i = sizeof(T); i < sizeof buffer; ++i) touched += buffer[i] != kCanary;
  return touched;
}

TEST(HttplibAbiTest, TheLibrarysClientStaysInsideOurClient) {
  EXPECT_EQ(BytesWrittenPastTheObject<httplib::Client>(
                [](void* at) { return new (at) httplib::Client("127.0.0.1", 1); }),
            0u)
      << "httplib.h is compiled with other CPPHTTPLIB_* macros than libcpp-httplib.so "
         "(see the top-level CMakeLists.txt)";
}

TEST(HttplibAbiTest, TheLibrarysServerStaysInsideOurServer) {
  EXPECT_EQ(BytesWrittenPastTheObject<httplib::Server>(
                [](void* at) { return new (at) httplib::Server(); }),
            0u);
}

}  // namespace
