# The examples on bad input (cmake -P, for ctest): each must exit 1 with a message naming the
# file and line (and the byte, for invalid UTF-8) - never abort - and tokenize must keep one
# output line per input line. Files are made under WORK.
#   -DTOKENIZE=... -DSENTIMENT=... -DSHAKESPEARE=... -DDEMO=... -DWORK=folder
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})

# expect_failure(<name> <regex> <command...>): exit status 1 and stderr matching regex.
function(expect_failure name regex)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc STREQUAL "1")
    message(FATAL_ERROR "${name}: exit status '${rc}', expected 1\n${out}${err}")
  endif()
  if(NOT err MATCHES "${regex}")
    message(FATAL_ERROR "${name}: stderr lacks /${regex}/:\n${err}")
  endif()
  message(STATUS "${name}: ${err}")
endfunction()

# tokenize: three lines in (text, empty, blank), three lines out.
file(WRITE ${WORK}/vocab.txt "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\nworld\n")
file(WRITE ${WORK}/in.jsonl "{\"text\": \"hello world\"}\n\n  \n")
execute_process(COMMAND ${TOKENIZE} --bert-vocab ${WORK}/vocab.txt INPUT_FILE ${WORK}/in.jsonl
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR NOT out STREQUAL "{\"ids\": [5, 6]}\n{\"ids\": []}\n{\"ids\": []}\n")
  message(FATAL_ERROR "tokenize: exit ${rc}, output:\n${out}${err}")
endif()

# sentiment_cv: a missing folder, an empty file, invalid UTF-8.
expect_failure("sentiment_cv, missing files" "cannot open file '.*amazon_cells_labelled.txt'"
               ${SENTIMENT} ${WORK}/nowhere ${WORK}/out)
file(MAKE_DIRECTORY ${WORK}/empty)
file(WRITE ${WORK}/empty/amazon_cells_labelled.txt "")
expect_failure("sentiment_cv, empty file" "'.*amazon_cells_labelled.txt' is an empty file"
               ${SENTIMENT} ${WORK}/empty ${WORK}/out)
file(MAKE_DIRECTORY ${WORK}/bad)
string(ASCII 255 ff)
file(WRITE ${WORK}/bad/amazon_cells_labelled.txt "Good phone.\t1\nBad${ff} phone.\t0\n")
expect_failure("sentiment_cv, invalid UTF-8" "invalid UTF-8 at byte offset 3 in .*amazon_cells_labelled.txt line 2"
               ${SENTIMENT} ${WORK}/bad ${WORK}/out)

# shakespeare_char: invalid UTF-8 names the file and line.
file(WRITE ${WORK}/text.txt "First Citizen:\nBefore we proceed${ff} any further\n")
expect_failure("shakespeare_char, invalid UTF-8" "invalid UTF-8 at byte offset 32 in '.*text.txt' line 2"
               ${SHAKESPEARE} ${WORK}/text.txt)

# demo: a bad argument is a message, not a crash.
expect_failure("demo, bad argument" "usage: demo" ${DEMO} lots)
file(REMOVE_RECURSE ${WORK})
