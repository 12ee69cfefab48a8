"""What runs with compiled code: arrays, buffers, PRNG keys, pytrees, artifact loading. Imports neither the frontend nor LLVM."""
