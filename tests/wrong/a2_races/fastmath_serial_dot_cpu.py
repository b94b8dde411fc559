# Wrong: a serial loop with fastmath, which lets the compiler reorder the sum into SIMD lanes:
# faster than dot_serial on one core (~1.5x), and the same value within rounding, but serial.
# breaks: dot.cpu.performance
@njit(fastmath=True)
def dot_cpu(a, b):
    acc = 0.0
    for i in range(a.shape[0]):
        acc += a[i] * b[i]
    return acc
