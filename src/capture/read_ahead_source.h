// ReadAheadSource: reads (and decompresses) a ByteSource on its own thread,
// a few chunks ahead of the consumer, so the kernel copy and inflate run in
// parallel with decoding. Bounded: at most kChunks x kChunkBytes buffered.
#pragma once

#include <memory>

#include "capture/packet_reader.h"

namespace trawl::capture {

std::unique_ptr<ByteSource> make_read_ahead(std::unique_ptr<ByteSource> inner);

}  // namespace trawl::capture
