# Wrong: serial, with the sines of the odd multiples from the angle-addition recurrence
# (sin((n+2)x) = sin(nx)cos(2x) + cos(nx)sin(2x)) instead of one sin() per term: several times
# faster than fourier_serial on one core and as accurate for these term counts, but serial.
# breaks: fourier.cpu.performance
@njit
def fourier_cpu(x, terms):
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        s, c = math.sin(x[i]), math.cos(x[i])
        s2, c2 = math.sin(2.0 * x[i]), math.cos(2.0 * x[i])
        acc = 0.0
        for k in range(terms):
            acc += s / (2 * k + 1)
            s, c = s * c2 + c * s2, c * c2 - s * s2
        out[i] = acc * (4.0 / math.pi)
    return out
