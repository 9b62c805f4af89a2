# Warnings on everywhere; errors in CI (ZPARK_WERROR=ON).
option(ZPARK_WERROR "Treat warnings as errors" OFF)
add_compile_options(-Wall -Wextra -Wpedantic -Wno-missing-field-initializers
  -Wno-restrict  # GCC 12 false positives in libstdc++ string code (GCC bug 105329)
  -Wno-mismatched-new-delete)  # GCC 12 false positive on Asio coroutine frame allocation
if(ZPARK_WERROR)
  add_compile_options(-Werror)
endif()
