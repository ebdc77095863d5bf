#if canImport(Glibc)
import Glibc
#endif

/// A regex table entry compiled once, matched as upstream table.c `table_regex_match` does: POSIX extended,
/// no sub-matches, `(?i)` prefix for case-insensitive; a pattern that does not compile never matches.
///
/// Regex entries cannot be indexed: a regex lookup tests every entry, like smtpd, but compiles each only once.
///
/// Sendable: the compiled `regex_t` is never changed after `init`, and glibc's regexec(3) may be called on one
/// compiled pattern from several threads at once (it locks the pattern's matcher state itself).
final class RegexPattern: @unchecked Sendable {
    private let regex = UnsafeMutablePointer<regex_t>.allocate(capacity: 1)
    let isValid: Bool

    init(pattern: [UInt8]) {
        var flags = REG_EXTENDED | REG_NOSUB
        var body = pattern[...]
        if body.starts(with: Array("(?i)".utf8)) {
            flags |= REG_ICASE
            body = body.dropFirst(4)
        }
        if body.contains(0) || RegexPattern.cost(of: body) == nil {
            isValid = false
            return
        }
        let regex = self.regex
        let code = (Array(body) + [0]).withUnsafeBufferPointer { p in
            p.withMemoryRebound(to: CChar.self) { regcomp(regex, $0.baseAddress, flags) }
        }
        isValid = code == 0
    }

    /// The largest `cost(of:)` compiled: real patterns stay in the hundreds.
    static let maxCost = 10_000

    /// An estimate of the automaton glibc's regcomp builds for an extended regex (atoms, with each repetition
    /// multiplying what it repeats: `x{100}` costs 100, `*`, `+` and `?` double; an interval's optional copies,
    /// `x{0,k}`, nest, and regcomp's closure tables grow as k squared: `l{0,4000}` takes 124 MB, `l{0,9916}`
    /// 758 MB, so they add k*k/200), or nil when the pattern must
    /// not reach glibc: over `maxCost`, three or more repetition operators in a row (`x+++`: regcomp's
    /// closure computation is exponential in their number; POSIX leaves adjacent ones undefined), or a
    /// back-reference `\1`-`\9` (not POSIX ERE; glibc's matcher then backtracks exponentially).
    /// smtpd hands such patterns to regcomp/regexec as they are and hangs or exhausts memory; here they are
    /// refused, and a refused pattern never matches, like one regcomp rejects.
    static func cost(of pattern: ArraySlice<UInt8>) -> Int? {
        let b = Array(pattern)
        var totals = [0]           // per open group: the cost of its atoms so far (alternatives added)
        var last: Int? = nil       // the cost of the atom a repetition operator would repeat
        var repeats = 0            // repetition operators in a row
        var i = 0

        func add(_ atom: Int) {
            totals[totals.count - 1] = min(totals[totals.count - 1] + atom, maxCost + 1)
            last = atom
            repeats = 0
        }
        func repeatLast(_ times: Int, optional: Int = 0) -> Bool {
            repeats += 1
            guard repeats <= 2 else { return false }
            guard let atom = last else { return true }    // nothing to repeat: glibc takes it literally or fails
            let grown = min(atom * max(times, 1), maxCost + 1)
            let nesting = optional * optional / 200        // `interval` caps its numbers at 2^20: no overflow
            totals[totals.count - 1] = min(totals[totals.count - 1] + grown - atom + nesting, maxCost + 1)
            last = grown
            return true
        }

        while i < b.count {
            let c = b[i]
            switch c {
            case UInt8(ascii: "\\"):
                if i + 1 < b.count, b[i + 1] >= UInt8(ascii: "1"), b[i + 1] <= UInt8(ascii: "9") { return nil }
                add(1)
                i += 2
                continue
            case UInt8(ascii: "["):
                i = bracketEnd(b, from: i)
                add(1)
                continue
            case UInt8(ascii: "("):
                totals.append(0)
                last = nil
                repeats = 0
            case UInt8(ascii: ")"):
                if totals.count > 1 {
                    let group = max(totals.removeLast(), 1)
                    add(group)
                } else {
                    add(1)
                }
            case UInt8(ascii: "|"):
                last = nil
                repeats = 0
            case UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "?"):
                guard repeatLast(2) else { return nil }
            case UInt8(ascii: "{"):
                if let (times, optional, end) = interval(b, from: i) {
                    guard repeatLast(times, optional: optional) else { return nil }
                    i = end
                    continue
                }
                add(1)
            default:
                add(1)
            }
            if totals[totals.count - 1] > maxCost { return nil }
            i += 1
        }
        let total = totals.reduce(0) { min($0 + $1, maxCost + 1) }
        return total > maxCost ? nil : total
    }

    /// The index just past the bracket expression that starts at `start` (`]` first is a member; `[:`, `[.`
    /// and `[=` open classes, collating elements and equivalence classes).
    private static func bracketEnd(_ b: [UInt8], from start: Int) -> Int {
        var j = start + 1
        if j < b.count, b[j] == UInt8(ascii: "^") { j += 1 }
        if j < b.count, b[j] == UInt8(ascii: "]") { j += 1 }
        while j < b.count {
            if b[j] == UInt8(ascii: "]") { return j + 1 }
            if b[j] == UInt8(ascii: "["), j + 1 < b.count,
               b[j + 1] == UInt8(ascii: ":") || b[j + 1] == UInt8(ascii: ".") || b[j + 1] == UInt8(ascii: "=") {
                let kind = b[j + 1]
                var k = j + 2
                while k + 1 < b.count, !(b[k] == kind && b[k + 1] == UInt8(ascii: "]")) { k += 1 }
                j = k + 2
                continue
            }
            j += 1
        }
        return b.count
    }

    /// An interval `{m}`, `{m,}` or `{m,n}` at `start`: how many copies it makes, how many of them are optional
    /// (n - m, nested in one another), and the index past it.
    private static func interval(_ b: [UInt8], from start: Int) -> (Int, Int, Int)? {
        var j = start + 1
        func number() -> Int? {
            var n: Int? = nil
            while j < b.count, isASCIIDigit(b[j]) {
                n = min((n ?? 0) * 10 + Int(b[j] - 0x30), 1 << 20)
                j += 1
            }
            return n
        }
        let low = number()
        var high = low
        var optional = 0
        if j < b.count, b[j] == UInt8(ascii: ",") {
            j += 1
            if let n = number() {
                high = n
                optional = max(n - (low ?? 0), 0)
            } else {
                high = (low ?? 0) + 1               // `{m,}`: m copies and a star
            }
        }
        guard j < b.count, b[j] == UInt8(ascii: "}"), low != nil || high != nil else { return nil }
        return (max(low ?? 0, high ?? 0), optional, j + 1)
    }

    deinit {
        if isValid { regfree(regex) }
        regex.deallocate()
    }

    func matches(_ subject: ArraySlice<UInt8>) -> Bool {
        guard isValid, !subject.contains(0) else { return false }
        return (Array(subject) + [0]).withUnsafeBufferPointer { p in
            p.withMemoryRebound(to: CChar.self) { regexec(regex, $0.baseAddress, 0, nil, 0) == 0 }
        }
    }
}
