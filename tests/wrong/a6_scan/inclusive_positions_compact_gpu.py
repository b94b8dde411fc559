# Wrong: the inclusive/exclusive slip in compaction. The flags are scanned inclusively, but the
# scatter uses the scan as if it were exclusive: every kept element lands one place too far, the
# first slot stays unwritten and the last kept element falls off the end.
# breaks: compact.gpu.correctness


@cuda.jit
def scatter_kernel(x, threshold, positions, out):
    i = cuda.grid(1)
    if i < x.shape[0] and x[i] > threshold:
        out[positions[i]] = x[i]
