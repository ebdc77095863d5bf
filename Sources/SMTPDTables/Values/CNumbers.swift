/// strtonum(3) as OpenBSD defines it (strtoll base 10, whole string, range-checked), over bytes.
///
/// Leading C white space and one sign are accepted, as strtoll does; anything after the digits, an empty
/// number or a value outside `range` fails.
func strtonum<C: Collection>(_ text: C, in range: ClosedRange<Int64>) -> Int64? where C.Element == UInt8 {
    var it = Array(text)[...]
    while let c = it.first, isCSpace(c) { it = it.dropFirst() }
    var negative = false
    if let c = it.first, c == UInt8(ascii: "+") || c == UInt8(ascii: "-") {
        negative = c == UInt8(ascii: "-")
        it = it.dropFirst()
    }
    guard !it.isEmpty else { return nil }
    var value: Int64 = 0
    for c in it {
        guard isASCIIDigit(c) else { return nil }
        let (m, o1) = value.multipliedReportingOverflow(by: 10)
        let (a, o2) = m.addingReportingOverflow(Int64(c - 0x30))
        if o1 || o2 { return nil }
        value = a
    }
    if negative { value = -value }
    return range.contains(value) ? value : nil
}
