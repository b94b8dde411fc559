# Wrong: the serial search handed in as the parallel one: the right counts, no speedup.
# breaks: neighbours.cpu.performance
neighbours_cpu = neighbours_serial
