# Cortex-M4F, single-precision FPU (qemu's mps2-an386 board), Debian's gcc-arm-none-eabi and
# newlib (nano). Use: cmake -DCMAKE_TOOLCHAIN_FILE=<ctformer>/cmake/toolchains/cortex-m4.cmake
set(CTFORMER_MCU_FLAGS "-mcpu=cortex-m4 -mfpu=fpv4-sp-d16 -mfloat-abi=hard -mthumb")
set(CTFORMER_QEMU_BOARD mps2-an386)
include(${CMAKE_CURRENT_LIST_DIR}/arm-none-eabi.cmake)
