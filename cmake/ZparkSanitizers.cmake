# Checked builds, each in its own build directory:
#
#   ZPARK_SANITIZE=ON  AddressSanitizer + UndefinedBehaviorSanitizer on every target (the tests,
#                      the zpark binary, the emulator): any finding aborts the process, so the
#                      test that ran it fails. Works with g++ and clang.
#   ZPARK_FUZZ=ON      the libFuzzer targets in test/fuzz (clang only), with the same
#                      sanitizers, and coverage instrumentation on all of Zpark's code.
#
# CI (deploy/test.sh --sanitize) turns on both with clang at -O0 in build-asan/: one build for
# the sanitized test suite and the fuzz targets, about 3x faster to compile than at -O1.
# bench/fuzz.sh builds the fuzz targets alone at -O1 in build-fuzz/, where they run faster.
#
# Included before ZparkDeps: a sanitized build links its dependencies shared (see below).
option(ZPARK_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
option(ZPARK_FUZZ "Build the libFuzzer targets in test/fuzz (clang only; implies the sanitizers)" OFF)
set(ZPARK_SANITIZE_OPT -O1 CACHE STRING
  "Optimisation of ZPARK_SANITIZE/ZPARK_FUZZ builds: -O1 runs faster, -O0 compiles ~3x faster")

if(ZPARK_FUZZ AND NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "ZPARK_FUZZ needs clang (libFuzzer): configure with -DCMAKE_CXX_COMPILER=clang++ "
    "(Debian: apt-get install clang libclang-rt-14-dev)")
endif()

if(ZPARK_SANITIZE OR ZPARK_FUZZ)
  # The service binary's -static-libstdc++ would give it its own operator new/delete, which
  # ASan must intercept; static Boost/OpenSSL/SQLite archives gain nothing here either.
  if(NOT DEFINED ZPARK_STATIC_DEPS)
    set(ZPARK_STATIC_DEPS OFF)  # option() in ZparkDeps keeps this (policy CMP0077)
  elseif(ZPARK_STATIC_DEPS)
    message(FATAL_ERROR "ZPARK_SANITIZE/ZPARK_FUZZ need -DZPARK_STATIC_DEPS=OFF")
  endif()
  # Line tables: stacks that name file and line. Frame pointers make ASan's fast unwinder give
  # whole stacks. Assertions stay on (configure with CMAKE_BUILD_TYPE=Debug: no NDEBUG).
  set(ZPARK_SANITIZER_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=all)
  add_compile_options(${ZPARK_SANITIZER_FLAGS} ${ZPARK_SANITIZE_OPT} -g1 -fno-omit-frame-pointer
    -fno-optimize-sibling-calls)
  add_link_options(${ZPARK_SANITIZER_FLAGS})
  # Bounds checks in std::vector/string/... (ABI-compatible, unlike _GLIBCXX_DEBUG).
  add_compile_definitions(_GLIBCXX_ASSERTIONS)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # Part of clang's -fsanitize=undefined, not of g++'s: a double out of an integer's range
    # converted to it (e.g. a JSON number from Zabbix).
    add_compile_options(-fsanitize=float-cast-overflow)
    add_link_options(-fsanitize=float-cast-overflow)
  endif()
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    add_compile_options(-Wno-unknown-warning-option)  # ZparkWarnings' g++-only -Wno-* flags
    find_program(ZPARK_LLD ld.lld)
    if(ZPARK_LLD)
      add_link_options(-fuse-ld=lld)  # links the big instrumented test programs much faster
    endif()
  endif()
endif()

if(ZPARK_FUZZ)
  # clang 14 cannot emit a coroutine with both coverage and UBSan's function check ("error:
  # Cannot represent a difference across sections"); that check (calls through a function
  # pointer of the wrong type) is the one left out.
  add_compile_options(-fno-sanitize=function)
  add_link_options(-fno-sanitize=function)
  # Coverage feedback (-fsanitize=fuzzer-no-link) on Zpark's own code: every target outside
  # test/ and bench/, added once all directories are read. The tests, the emulator and the
  # benchmarks gain nothing from it and build about 30% faster without it; test/fuzz adds it
  # to each fuzz target itself, whose main() comes from libFuzzer.
  function(zpark_fuzz_coverage dir)
    get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
    foreach(t IN LISTS targets)
      get_target_property(type ${t} TYPE)
      if(type MATCHES "^(STATIC_LIBRARY|OBJECT_LIBRARY|SHARED_LIBRARY|EXECUTABLE)$")
        target_compile_options(${t} PRIVATE -fsanitize=fuzzer-no-link)
      endif()
    endforeach()
    get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
    foreach(d IN LISTS subdirs)
      if(NOT d MATCHES "^${CMAKE_SOURCE_DIR}/(test|bench)(/|$)")
        zpark_fuzz_coverage(${d})
      endif()
    endforeach()
  endfunction()
  cmake_language(DEFER CALL zpark_fuzz_coverage ${CMAKE_SOURCE_DIR})
endif()
