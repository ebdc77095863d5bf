#if canImport(Glibc)
import Glibc
#endif

/// The exact-key index of a loaded table: an open-addressing hash whose slots name the entries themselves.
///
/// A slot is 12 bytes: the upper half of the key's hash, the entry number (+1; 0 is empty) and where the key's
/// bytes start. A probe compares hashes without touching anything else, and on a hit the key's bytes and its
/// `EntrySpan` are both addressed by the slot, so the two reads overlap: a lookup in a table of a million keys
/// waits for two cache misses (slot, then key and entry together) rather than three. No key bytes are copied.
/// There are 1.5 slots a key (18 bytes a key, whatever the count: the slot is picked by multiplying the hash
/// by the slot count, so any count works), and linear probing over 12-byte slots keeps the extra probes of
/// that load factor inside the cache line already read. Entries with equal keys replace each other (the later
/// entry wins, as in smtpd's dict_set).
struct KeyIndex {
    private struct Slot {
        var tag: UInt32
        var entry: UInt32          // entry number + 1; 0: empty
        var keyStart: UInt32
    }

    private var slots: [Slot]
    /// The number of distinct keys.
    private(set) var count = 0

    @inline(__always)
    private static func tag(_ h: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: h) }

    /// The home slot of hash `h` among `capacity` slots (the high half of h * capacity: the upper bits of the
    /// hash pick the slot, the lower ones are the tag).
    @inline(__always)
    private static func home(_ h: UInt64, _ capacity: Int) -> Int {
        Int(truncatingIfNeeded: h.multipliedFullWidth(by: UInt64(capacity)).high)
    }

    /// Indexes the keys of `entries` (spans of `storage`).
    init(entries: [EntrySpan], storage: UnsafeRawBufferPointer) {
        let capacity = max(16, entries.count + entries.count / 2)
        slots = [Slot](unsafeUninitializedCapacity: capacity) { buffer, initialized in
            adviseHugePages(buffer.baseAddress, byteCount: capacity * MemoryLayout<Slot>.stride)
            buffer.initialize(repeating: Slot(tag: 0, entry: 0, keyStart: 0))
            initialized = capacity
        }
        var count = 0
        let base = storage.baseAddress
        slots.withUnsafeMutableBufferPointer { slots in
            entries.withUnsafeBufferPointer { entries in
                for i in 0..<entries.count {
                    let e = entries[i]
                    let key = UnsafeRawBufferPointer(start: base.map { $0 + Int(e.keyStart) }, count: Int(e.keyLength))
                    let h = hashBytes(key)
                    let tag = KeyIndex.tag(h)
                    let new = Slot(tag: tag, entry: UInt32(i + 1), keyStart: e.keyStart)
                    var slot = KeyIndex.home(h, capacity)
                    while true {
                        let s = slots[slot]
                        if s.entry == 0 {
                            slots[slot] = new
                            count += 1
                            break
                        }
                        if s.tag == tag, entries[Int(s.entry) - 1].keyLength == e.keyLength,
                           key.count == 0 || memcmp(base! + Int(s.keyStart), key.baseAddress!, key.count) == 0 {
                            slots[slot] = new
                            break
                        }
                        slot += 1
                        if slot == capacity { slot = 0 }
                    }
                }
            }
        }
        self.count = count
    }

    /// The entry whose key equals `key`, or nil.
    @inline(__always)
    func find(_ key: UnsafeRawBufferPointer, entries: UnsafeBufferPointer<EntrySpan>,
              storage: UnsafeRawBufferPointer) -> Int32? {
        let h = hashBytes(key)
        let tag = KeyIndex.tag(h)
        return slots.withUnsafeBufferPointer { slots -> Int32? in
            var slot = KeyIndex.home(h, slots.count)
            while true {
                let s = slots[slot]
                if s.entry == 0 { return nil }
                if s.tag == tag {
                    // The length is checked before the bytes, so that a longer query never reads past the stored
                    // key (and past the storage, for the last key of a file); the CPU still fetches both ahead.
                    let e = entries[Int(s.entry) - 1]
                    if Int(e.keyLength) == key.count,
                       key.count == 0 || memcmp(storage.baseAddress! + Int(s.keyStart), key.baseAddress!, key.count) == 0 {
                        return Int32(s.entry) - 1
                    }
                }
                slot += 1
                if slot == slots.count { slot = 0 }
            }
        }
    }

    /// The entries in force (one per distinct key), in no particular order.
    var entryNumbers: [Int32] {
        var out: [Int32] = []
        out.reserveCapacity(count)
        for s in slots where s.entry != 0 { out.append(Int32(s.entry) - 1) }
        return out
    }
}
