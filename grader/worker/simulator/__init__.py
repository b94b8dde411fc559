"""The strict CUDA simulator: races, poison, warps and streams as a GPU would punish them."""
