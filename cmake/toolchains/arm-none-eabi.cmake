# What cortex-m4.cmake and cortex-m7.cmake share: a bare-metal arm-none-eabi toolchain with
# newlib-nano, no exceptions and no RTTI, one section per function so unused code is dropped.
# The including file sets CTFORMER_MCU_FLAGS and CTFORMER_QEMU_BOARD.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_CXX_COMPILER arm-none-eabi-g++)
set(CMAKE_ASM_COMPILER arm-none-eabi-gcc)
# Compiler checks link no program: a bare-metal link needs the start-up code and linker script.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

set(CMAKE_C_FLAGS_INIT "${CTFORMER_MCU_FLAGS} -ffunction-sections -fdata-sections")
set(CMAKE_CXX_FLAGS_INIT "${CTFORMER_MCU_FLAGS} -fno-exceptions -fno-rtti -fno-threadsafe-statics -ffunction-sections -fdata-sections")
# Firmware is measured at -O2 (the size / speed trade-off of most MCU projects).
set(CMAKE_CXX_FLAGS_RELEASE_INIT "-O2 -DNDEBUG")
set(CMAKE_C_FLAGS_RELEASE_INIT "-O2 -DNDEBUG")
set(CMAKE_EXE_LINKER_FLAGS_INIT "${CTFORMER_MCU_FLAGS} --specs=nano.specs -nostartfiles -Wl,--gc-sections")

# Programs and libraries of the target only; headers and CMake packages are found on the host
# (ctformer's CMakeLists takes only fmt's headers from there).
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE NEVER)

set(CTFORMER_QEMU_BOARD ${CTFORMER_QEMU_BOARD} CACHE STRING "qemu-system-arm machine the firmware runs on")
