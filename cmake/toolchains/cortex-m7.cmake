# Cortex-M7 with double-precision FPU (qemu's mps2-an500 board), Debian's gcc-arm-none-eabi and
# newlib (nano). Use: cmake -DCMAKE_TOOLCHAIN_FILE=<ctformer>/cmake/toolchains/cortex-m7.cmake
set(CTFORMER_MCU_FLAGS "-mcpu=cortex-m7 -mfpu=fpv5-d16 -mfloat-abi=hard -mthumb")
set(CTFORMER_QEMU_BOARD mps2-an500)
include(${CMAKE_CURRENT_LIST_DIR}/arm-none-eabi.cmake)
