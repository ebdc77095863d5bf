// Byte classes of the C library's "C" locale, which is what smtpd's isspace/isalnum/tolower see.

@inline(__always)
func isCSpace(_ b: UInt8) -> Bool { b == 0x20 || (b >= 0x09 && b <= 0x0D) }

@inline(__always)
func isBlank(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 }

@inline(__always)
func asciiLower(_ b: UInt8) -> UInt8 { (b &- 0x41) < 26 ? b | 0x20 : b }

@inline(__always)
func isASCIIDigit(_ b: UInt8) -> Bool { (b &- 0x30) < 10 }

@inline(__always)
func isASCIIAlpha(_ b: UInt8) -> Bool { ((b | 0x20) &- 0x61) < 26 }

@inline(__always)
func isASCIIAlnum(_ b: UInt8) -> Bool { isASCIIDigit(b) || isASCIIAlpha(b) }

extension Array where Element == UInt8 {
    /// The bytes folded to lower case the way smtpd folds table keys (ASCII only).
    func asciiLowercased() -> [UInt8] { map(asciiLower) }
}

/// Case-insensitive (ASCII) equality of two byte sequences, as strcasecmp(3) == 0.
func asciiCaseEqual<A: Collection, B: Collection>(_ a: A, _ b: B) -> Bool
where A.Element == UInt8, B.Element == UInt8 {
    guard a.count == b.count else { return false }
    return zip(a, b).allSatisfy { asciiLower($0) == asciiLower($1) }
}

/// Trims C-locale white space from both ends, as smtpd's strip().
func trimmedCSpace(_ s: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
    var lo = s.startIndex, hi = s.endIndex
    while lo < hi, isCSpace(s[lo]) { lo += 1 }
    while hi > lo, isCSpace(s[hi - 1]) { hi -= 1 }
    return s[lo..<hi]
}

/// Compares byte strings the way strcmp(3) orders them (unsigned bytes, shorter prefix first).
func lexicographicallyPrecedes(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    let n = Swift.min(a.count, b.count)
    if n > 0, let pa = a.baseAddress, let pb = b.baseAddress {
        let r = memcmp(pa, pb, n)
        if r != 0 { return r < 0 }
    }
    return a.count < b.count
}

#if canImport(Glibc)
import Glibc
#endif

extension String {
    /// Builds a String from bytes that may not be UTF-8, replacing invalid sequences (for messages only).
    init<C: Collection>(lossyBytes bytes: C) where C.Element == UInt8 {
        self = String(decoding: bytes, as: UTF8.self)
    }
}

/// A String from a NUL-terminated C character array (the part before the first NUL).
func stringFromCBuffer(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
