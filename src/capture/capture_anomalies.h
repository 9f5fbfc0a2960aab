// Named anomalies the capture readers count (see core/anomalies.h). Damage in a
// capture file is counted here and skipped; only unrecoverable damage ends a file.
#pragma once

#include "core/anomalies.h"

namespace trawl::capture {

// The file ends inside a record (header or data): the partial record is dropped.
inline const core::AnomalyId kAnomalyTruncatedPacket{"capture.truncated_packet"};
// A record holds more bytes than the file's (or interface's) snaplen; delivered.
inline const core::AnomalyId kAnomalyCaplenExceedsSnaplen{"capture.caplen_exceeds_snaplen"};
// A record holds more bytes than were on the wire; delivered with wirelen = caplen.
inline const core::AnomalyId kAnomalyCaplenExceedsWirelen{"capture.caplen_exceeds_wirelen"};
// A record or block length no capture tool writes (caplen > 256 KiB, block > 16 MiB).
inline const core::AnomalyId kAnomalyImpossibleLength{"capture.impossible_length"};
// The reader lost record framing and found it again by scanning forward.
inline const core::AnomalyId kAnomalyResync{"capture.resync"};
// A packet is older than the one before it in the same file.
inline const core::AnomalyId kAnomalyTimestampBackwards{"capture.timestamp_backwards"};
// A pcapng block with a bad length, mismatched trailing length or bad contents.
inline const core::AnomalyId kAnomalyPcapngCorruptBlock{"capture.pcapng_corrupt_block"};
// A pcapng packet names an interface that its section did not describe.
inline const core::AnomalyId kAnomalyPcapngBadInterface{"capture.pcapng_bad_interface"};
// A malformed option in an interface description; the rest of its options are ignored.
inline const core::AnomalyId kAnomalyPcapngBadOption{"capture.pcapng_bad_option"};
// A gzip/zstd stream cut short: what came before was read, then the capture
// ends as if the file ended there.
inline const core::AnomalyId kAnomalyTruncatedCompressed{"capture.truncated_compressed_data"};
// Corrupt gzip/zstd data: the capture stops there (the reader reports an error).
inline const core::AnomalyId kAnomalyCorruptCompressed{"capture.corrupt_compressed_data"};
// More interfaces in one section than the reader keeps (kMaxInterfaces); extra ones are ignored.
inline const core::AnomalyId kAnomalyPcapngTooManyInterfaces{"capture.pcapng_too_many_interfaces"};

// Limits. A caplen above kMaxCaplen (libpcap's MAXIMUM_SNAPLEN) or a pcapng
// block above kMaxBlockLength is treated as damage, never allocated.
constexpr uint32_t kMaxCaplen = 262144;
constexpr uint32_t kMaxBlockLength = 16u * 1024 * 1024;
constexpr size_t kMaxInterfaces = 65536;
// How far the readers scan for the next plausible record after losing framing.
constexpr uint64_t kResyncWindow = 16u * 1024 * 1024;

}  // namespace trawl::capture
