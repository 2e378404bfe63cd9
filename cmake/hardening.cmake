# Hardening that a distribution's own flags may already carry. What the
# caller's CFLAGS set is left alone; the rest is added where the compiler and
# linker take it. FG_EXPECT_FORTIFY tells the binary check in tests/ what to
# expect.
include(CheckCCompilerFlag)
include(CheckCSourceCompiles)
include(CheckLinkerFlag)

string(TOUPPER "${CMAKE_BUILD_TYPE}" fg_build_type)
set(fg_flags "${CMAKE_C_FLAGS} ${CMAKE_C_FLAGS_${fg_build_type}}")

# _FORTIFY_SOURCE: Fedora passes =3 through -Wp,-D..., Debian's dpkg through
# CPPFLAGS, and some compilers define it themselves. A second definition
# would be a redefinition warning (an error with FG_WERROR), and glibc warns
# about it without optimisation; the sanitizers replace its checks anyway.
string(REGEX MATCHALL "(^| )-O[^ ]*" fg_opt_flags "${fg_flags}")
list(POP_BACK fg_opt_flags fg_last_opt)
string(STRIP "${fg_last_opt}" fg_last_opt)
set(CMAKE_REQUIRED_FLAGS "${fg_flags}")
check_c_source_compiles("#ifdef _FORTIFY_SOURCE\n#error given\n#endif\nint main(void) { return 0; }"
                        FG_FORTIFY_NOT_PREDEFINED)
unset(CMAKE_REQUIRED_FLAGS)
if(FG_SANITIZE OR fg_last_opt STREQUAL "" OR fg_last_opt STREQUAL "-O0")
  set(fg_optimised OFF)
else()
  set(fg_optimised ON)
endif()
if(fg_flags MATCHES "_FORTIFY_SOURCE" OR NOT FG_FORTIFY_NOT_PREDEFINED)
  set(FG_HARDENING_FORTIFY "as the caller's flags say")
  # What the binary check expects: the compiler's own, or the last -D/-U
  # of the flags (Fedora's is "-Wp,-U_FORTIFY_SOURCE,-D_FORTIFY_SOURCE=3").
  string(REGEX MATCHALL "-[DU] *_FORTIFY_SOURCE[=0-9]*" fg_fortify_flags "${fg_flags}")
  list(POP_BACK fg_fortify_flags fg_last_fortify)
  if(fg_optimised AND (NOT fg_last_fortify OR fg_last_fortify MATCHES "^-D *_FORTIFY_SOURCE=[1-9]"))
    set(FG_EXPECT_FORTIFY ON)
  else()
    set(FG_EXPECT_FORTIFY OFF)
  endif()
elseif(fg_optimised)
  set(FG_HARDENING_FORTIFY 2)
  set(FG_EXPECT_FORTIFY ON)
  add_compile_definitions(_FORTIFY_SOURCE=2)
else()
  set(FG_HARDENING_FORTIFY "off (no optimisation, or sanitizers)")
  set(FG_EXPECT_FORTIFY OFF)
endif()
message(STATUS "_FORTIFY_SOURCE: ${FG_HARDENING_FORTIFY}")

foreach(flag -fstack-protector-strong -fstack-clash-protection)
  string(MAKE_C_IDENTIFIER "FG_CC_HAS${flag}" var)
  check_c_compiler_flag(${flag} ${var})
  if(${var})
    add_compile_options(${flag})
  endif()
endforeach()

# PIE for the executables (policy CMP0083: -pie at link too).
include(CheckPIESupported)
check_pie_supported()
set(CMAKE_POSITION_INDEPENDENT_CODE ON)

# Full RELRO: the GOT is read-only before main() runs.
check_linker_flag(C "-Wl,-z,relro,-z,now" FG_LD_HAS_RELRO_NOW)
if(FG_LD_HAS_RELRO_NOW)
  add_link_options(-Wl,-z,relro,-z,now)
endif()
