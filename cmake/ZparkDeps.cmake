# Boost 1.81 from Debian: Asio/Beast are header-only but compiled once (net/asio_impl.cpp),
# JSON and URL need their -dev packages for the CMake configs.
find_package(Boost 1.81 REQUIRED COMPONENTS json url unit_test_framework)
find_package(OpenSSL 3 REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(fmt REQUIRED)
find_package(Threads REQUIRED)

# One interface target that every module links: Boost headers + separate compilation flags.
add_library(zpark_boost INTERFACE)
target_link_libraries(zpark_boost INTERFACE Boost::boost Boost::json Boost::url
  OpenSSL::SSL OpenSSL::Crypto fmt::fmt Threads::Threads)
target_compile_definitions(zpark_boost INTERFACE
  BOOST_ASIO_SEPARATE_COMPILATION BOOST_BEAST_SEPARATE_COMPILATION
  BOOST_ASIO_NO_DEPRECATED BOOST_BEAST_USE_STD_STRING_VIEW)
