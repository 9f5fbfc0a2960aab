// Fuzz target: pcapng input (also gzip/zstd-wrapped) through open_capture; the
// seeds in corpus/pcapng_reader_fuzz steer it to the pcapng reader.
#include "capture_reader_fuzz_body.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) { return fuzz_capture_reader(data, size); }
