# Boost 1.81 from Debian: Asio/Beast are header-only but compiled once (net/asio_impl.cpp),
# JSON and URL need their -dev packages for the CMake configs.
option(ZPARK_STATIC_DEPS "Link Boost.JSON/URL, OpenSSL, SQLite, fmt and libstdc++ statically" ON)
find_package(Boost 1.81 REQUIRED COMPONENTS unit_test_framework)  # tests link it shared
if(ZPARK_STATIC_DEPS)
  set(Boost_USE_STATIC_LIBS ON)
endif()
find_package(Boost 1.81 REQUIRED COMPONENTS json url)
# Static dependencies (ZPARK_STATIC_DEPS): only the code Zpark uses is mapped and no
# relocations touch whole shared libraries at start-up: idle RSS 9 instead of 13.8 MiB.
if(ZPARK_STATIC_DEPS)
  set(OPENSSL_USE_STATIC_LIBS TRUE)
endif()
find_package(OpenSSL 3 REQUIRED)
find_package(SQLite3 REQUIRED)
if(ZPARK_STATIC_DEPS)
  find_library(ZPARK_SQLITE3_STATIC NAMES libsqlite3.a)
  if(ZPARK_SQLITE3_STATIC)
    set_target_properties(SQLite::SQLite3 PROPERTIES IMPORTED_LOCATION ${ZPARK_SQLITE3_STATIC})
    set_property(TARGET SQLite::SQLite3 APPEND PROPERTY INTERFACE_LINK_LIBRARIES ${CMAKE_DL_LIBS} m)
  endif()
endif()
find_package(fmt REQUIRED)
find_package(Threads REQUIRED)

# One interface target that every module links: Boost headers + separate compilation flags.
add_library(zpark_boost INTERFACE)
if(ZPARK_STATIC_DEPS)
  set(ZPARK_FMT fmt::fmt-header-only)  # Debian ships no static libfmt
else()
  set(ZPARK_FMT fmt::fmt)
endif()
target_link_libraries(zpark_boost INTERFACE Boost::boost Boost::json Boost::url
  OpenSSL::SSL OpenSSL::Crypto ${ZPARK_FMT} Threads::Threads)
target_compile_definitions(zpark_boost INTERFACE
  BOOST_ASIO_SEPARATE_COMPILATION BOOST_BEAST_SEPARATE_COMPILATION
  BOOST_ASIO_NO_DEPRECATED BOOST_BEAST_USE_STD_STRING_VIEW)
