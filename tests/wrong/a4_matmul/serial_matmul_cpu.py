# Wrong: a serial loop dressed as the parallel version: the right values, no speedup.
# breaks: matmul.cpu.performance
matmul_cpu = matmul_serial
