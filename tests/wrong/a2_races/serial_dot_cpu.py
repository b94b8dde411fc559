# Wrong: a serial loop dressed as the parallel version: the right value, no speedup.
# breaks: dot.cpu.performance
dot_cpu = dot_serial
