#if canImport(Glibc)
import Glibc
#endif

/// A fast, non-cryptographic hash of a byte string (8 bytes a step, multiply-xorshift mixing).
@inline(__always)
func hashBytes(_ p: UnsafeRawBufferPointer) -> UInt64 {
    let n = p.count
    var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ (UInt64(truncatingIfNeeded: n) &* 0xA076_1D64_78BD_642F)
    var i = 0
    while i + 8 <= n {
        let w = p.loadUnaligned(fromByteOffset: i, as: UInt64.self)
        h = (h ^ w) &* 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 32
        i += 8
    }
    var tail: UInt64 = 0
    var shift: UInt64 = 0
    while i < n {
        tail |= UInt64(p[i]) << shift
        shift += 8
        i += 1
    }
    h = (h ^ tail) &* 0xC4CE_B9FE_1A85_EC53
    h ^= h >> 29
    return h
}

/// An open-addressing hash index from byte strings (spans of one shared storage buffer) to Int32 payloads.
///
/// It stores no key bytes of its own: each item is a (start, length) span of the storage it was built over,
/// which must be passed again to every lookup. Items with equal bytes either replace each other (`unique`)
/// or are all kept (`multi`), and a lookup visits every item equal to the query.
struct ByteSpanIndex {
    private var slots: [UInt32]          // 0 = empty, else item number + 1
    private var mask: Int
    private(set) var starts: [UInt32] = []
    private(set) var lengths: [UInt32] = []
    private(set) var payloads: [Int32] = []
    private var hashes: [UInt32] = []     // low bits of each item's hash, to skip most byte compares
    let unique: Bool

    init(expectedCount: Int, unique: Bool) {
        var capacity = 16
        while capacity < expectedCount * 2 { capacity <<= 1 }
        slots = [UInt32](repeating: 0, count: capacity)
        mask = capacity - 1
        self.unique = unique
        starts.reserveCapacity(expectedCount)
        lengths.reserveCapacity(expectedCount)
        payloads.reserveCapacity(expectedCount)
        hashes.reserveCapacity(expectedCount)
    }

    var count: Int { payloads.count }

    /// Adds the span `[start, start+length)` of `storage` with `payload`. In a unique index an equal item's
    /// payload is replaced (the later entry wins, as in smtpd's dict_set).
    mutating func insert(start: Int, length: Int, payload: Int32, storage: UnsafeRawBufferPointer) {
        if (payloads.count + 1) * 2 > slots.count { grow(storage: storage) }
        let key = UnsafeRawBufferPointer(rebasing: storage[start..<(start + length)])
        let h = hashBytes(key)
        var slot = Int(truncatingIfNeeded: h) & mask
        while true {
            let s = slots[slot]
            if s == 0 { break }
            if unique {
                let item = Int(s - 1)
                if hashes[item] == UInt32(truncatingIfNeeded: h), equal(item, key, storage) {
                    payloads[item] = payload
                    return
                }
            }
            slot = (slot + 1) & mask
        }
        starts.append(UInt32(start))
        lengths.append(UInt32(length))
        payloads.append(payload)
        hashes.append(UInt32(truncatingIfNeeded: h))
        slots[slot] = UInt32(payloads.count)
    }

    /// Calls `body` with the payload of every item whose bytes equal `key`.
    @inline(__always)
    func forEach(matching key: UnsafeRawBufferPointer, storage: UnsafeRawBufferPointer, _ body: (Int32) -> Void) {
        let h = hashBytes(key)
        var slot = Int(truncatingIfNeeded: h) & mask
        while true {
            let s = slots[slot]
            if s == 0 { return }
            let item = Int(s - 1)
            if hashes[item] == UInt32(truncatingIfNeeded: h), equal(item, key, storage) {
                body(payloads[item])
                if unique { return }
            }
            slot = (slot + 1) & mask
        }
    }

    /// The payload of the item equal to `key` (the only one in a unique index, any one otherwise).
    @inline(__always)
    func first(matching key: UnsafeRawBufferPointer, storage: UnsafeRawBufferPointer) -> Int32? {
        var found: Int32?
        forEach(matching: key, storage: storage) { p in if found == nil { found = p } }
        return found
    }

    @inline(__always)
    private func equal(_ item: Int, _ key: UnsafeRawBufferPointer, _ storage: UnsafeRawBufferPointer) -> Bool {
        let length = Int(lengths[item])
        guard length == key.count else { return false }
        if length == 0 { return true }
        guard let a = storage.baseAddress, let b = key.baseAddress else { return false }
        return memcmp(a + Int(starts[item]), b, length) == 0
    }

    private mutating func grow(storage: UnsafeRawBufferPointer) {
        let capacity = slots.count * 2
        slots = [UInt32](repeating: 0, count: capacity)
        mask = capacity - 1
        for item in 0..<payloads.count {
            // `hashes` keeps 32 bits only: re-derive the full hash so that probing agrees with lookups.
            let start = Int(starts[item])
            let key = UnsafeRawBufferPointer(rebasing: storage[start..<(start + Int(lengths[item]))])
            var slot = Int(truncatingIfNeeded: hashBytes(key)) & mask
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            slots[slot] = UInt32(item + 1)
        }
    }
}
