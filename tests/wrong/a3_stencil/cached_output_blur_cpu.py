# Wrong: blur_cpu remembers the first `out` it is given for each image shape and blurs into that
# buffer on every later call, copying the result across: the next call overwrites the image an
# earlier caller still holds.
# breaks: blur.cpu.correctness
_buffers = {}
_right_blur_cpu = blur_cpu


def blur_cpu(image, out):
    buffer = _buffers.setdefault(image.shape, out)
    _right_blur_cpu(image, buffer)
    if buffer is not out:
        out[...] = buffer
