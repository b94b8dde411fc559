# Wrong: a serial loop dressed as the parallel version: the right image, no speedup.
# breaks: blur.cpu.performance
blur_cpu = blur_serial
