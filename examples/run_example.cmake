# Runs an example for ctest (cmake -P): skips with "SKIPPED:" when the data file it needs is absent;
# fails on a non-zero exit or when the output lacks one of the expected regexes.
#   -DEXE=program -DDATA=file -DARGS="--a 1 --b 2" -DEXPECT="regex1%%regex2"
if(NOT EXISTS "${DATA}")
  message("SKIPPED: ${DATA} not found")
  return()
endif()
separate_arguments(args UNIX_COMMAND "${ARGS}")
execute_process(COMMAND "${EXE}" ${args} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${EXE} exited with ${rc}")
endif()
string(REPLACE "%%" ";" expect "${EXPECT}")
foreach(re IN LISTS expect)
  if(NOT out MATCHES "${re}")
    message(FATAL_ERROR "the output lacks /${re}/")
  endif()
endforeach()
