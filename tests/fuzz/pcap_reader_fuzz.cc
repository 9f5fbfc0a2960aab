// Fuzz target: pcap input (also gzip/zstd-wrapped) through open_capture; the
// seeds in corpus/pcap_reader_fuzz steer it to the pcap reader.
#include "capture_reader_fuzz_body.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) { return fuzz_capture_reader(data, size); }
