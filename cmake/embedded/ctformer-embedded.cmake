# Firmware for qemu's MPS2 boards: ctformer_add_firmware(<name> <sources>...) builds <name>.elf
# with the start-up code, newlib system calls over ARM semihosting and the MPS2 linker script of
# this folder, and prints its flash and RAM (arm-none-eabi-size) after linking. Run it with
#   qemu-system-arm -M <board> -nographic -semihosting-config enable=on,target=native -kernel <name>.elf
# Used by ctformer's own firmware; a user's project may include it or copy this folder.
set(CTFORMER_EMBEDDED_DIR ${CMAKE_CURRENT_LIST_DIR})
find_program(CTFORMER_ARM_SIZE arm-none-eabi-size)

function(ctformer_add_firmware name)
  add_executable(${name} ${ARGN} ${CTFORMER_EMBEDDED_DIR}/startup.cpp ${CTFORMER_EMBEDDED_DIR}/syscalls.cpp)
  set_target_properties(${name} PROPERTIES SUFFIX .elf)
  target_include_directories(${name} PRIVATE ${CTFORMER_EMBEDDED_DIR})
  target_link_options(${name} PRIVATE -T${CTFORMER_EMBEDDED_DIR}/mps2.ld
                      -Wl,-Map=$<TARGET_FILE_DIR:${name}>/${name}.map)
  set_property(TARGET ${name} APPEND PROPERTY LINK_DEPENDS ${CTFORMER_EMBEDDED_DIR}/mps2.ld)
  if(CTFORMER_ARM_SIZE)
    add_custom_command(TARGET ${name} POST_BUILD COMMAND ${CTFORMER_ARM_SIZE} $<TARGET_FILE:${name}>)
  endif()
endfunction()
