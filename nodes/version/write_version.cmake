# Writes version.cpp from version.cpp.in with the commit checked out now.
# Run at every build; configure_file leaves the file untouched when nothing
# changed, so a new commit recompiles this one file and relinks, no more.
#
# In: SOURCE_DIR, GIT, IN, OUT, SWITCHBOARD_VERSION, SWITCHBOARD_BUILD_TYPE.
set(SWITCHBOARD_COMMIT unknown)
if(GIT)
  execute_process(
    COMMAND "${GIT}" -C "${SOURCE_DIR}" rev-parse --short HEAD
    OUTPUT_VARIABLE commit
    OUTPUT_STRIP_TRAILING_WHITESPACE
    RESULT_VARIABLE status
    ERROR_QUIET)
  if(status EQUAL 0 AND NOT commit STREQUAL "")
    set(SWITCHBOARD_COMMIT "${commit}")
  endif()
endif()
if(SWITCHBOARD_BUILD_TYPE STREQUAL "")
  set(SWITCHBOARD_BUILD_TYPE "unspecified")
endif()
configure_file("${IN}" "${OUT}" @ONLY)
