# Configures and builds the firmware for one board (TOOLCHAIN) in BINARY, then runs
# firmware_fp32.elf and firmware_int8.elf under qemu (QEMU) and fails unless both exit 0 and say
# that their tokens match the host's; and firmware_train.elf and firmware_finetune.elf, which
# must report the host's training losses. The board comes from the toolchain file's
# CTFORMER_QEMU_BOARD.
foreach(v SOURCE BINARY TOOLCHAIN MODEL_DIR QEMU)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "run_firmware.cmake: -D${v}=... missing")
  endif()
endforeach()
if(NOT EXISTS ${MODEL_DIR}/model_fp32.hpp OR NOT EXISTS ${MODEL_DIR}/model_int8.hpp OR NOT EXISTS ${MODEL_DIR}/train_fp32.hpp
   OR NOT EXISTS ${MODEL_DIR}/finetune_fp32.hpp)
  message(FATAL_ERROR "no model headers in ${MODEL_DIR}: build the host target firmware_fp32 first")
endif()

execute_process(COMMAND ${CMAKE_COMMAND} -S ${SOURCE} -B ${BINARY} -DCMAKE_TOOLCHAIN_FILE=${TOOLCHAIN}
                        -DCMAKE_BUILD_TYPE=Release -DCTFORMER_FIRMWARE_MODEL_DIR=${MODEL_DIR}
                RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "configuring the firmware build failed (${rc})")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${BINARY} -j1 --target firmware_fp32 firmware_int8 firmware_train
                        firmware_finetune RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "building the firmware failed (${rc})")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -L -N ${BINARY} OUTPUT_VARIABLE cache)
string(REGEX MATCH "CTFORMER_QEMU_BOARD:STRING=([^\n]*)" _ "${cache}")
set(board ${CMAKE_MATCH_1})

foreach(precision fp32 int8 train finetune)
  set(elf ${BINARY}/examples/firmware/firmware_${precision}.elf)
  set(expect "firmware output matches the in-memory model token for token")
  if(precision STREQUAL "train")
    set(expect "on-device training matches the host's losses")
  elseif(precision STREQUAL "finetune")
    set(expect "on-device fine-tuning matches the host's losses")
  endif()
  message(STATUS "${QEMU} -M ${board} -nographic -semihosting-config enable=on,target=native -kernel ${elf}")
  execute_process(COMMAND ${QEMU} -M ${board} -nographic -semihosting-config enable=on,target=native -kernel ${elf}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 300)
  message("${out}${err}")
  if(NOT rc STREQUAL "0")
    message(FATAL_ERROR "firmware_${precision} on ${board}: exit status ${rc}")
  endif()
  if(NOT out MATCHES "${expect}")
    message(FATAL_ERROR "firmware_${precision} on ${board}: no '${expect}' reported")
  endif()
endforeach()
message(STATUS "firmware_fp32, firmware_int8, firmware_train and firmware_finetune match the host on ${board}")
