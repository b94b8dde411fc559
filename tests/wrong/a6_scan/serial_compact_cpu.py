# Wrong: a serial loop dressed as the parallel version: compact_cpu is the serial reference under
# another name. The right elements in the right order, no speedup.
# breaks: compact.cpu.performance
compact_cpu = compact_serial
