#if canImport(Glibc)
import Glibc
#endif

/// Asks the kernel to back a large, not yet touched buffer with transparent huge pages (madvise(2)
/// `MADV_HUGEPAGE`, for systems whose THP mode is `madvise`, Debian's default).
///
/// A loaded table is probed at random: each lookup of a million-key table reads a hash slot, an entry and the
/// key's bytes, each on a different 4 KiB page, and the page-table walks cost as much as the cache misses.
/// With 2 MiB pages those walks mostly vanish. Only whole 2 MiB pages inside the buffer are advised; buffers
/// under 4 MiB are left alone. Purely a hint: failures are ignored and nothing else changes.
func adviseHugePages(_ start: UnsafeMutableRawPointer?, byteCount: Int) {
    let huge = 2 << 20
    guard let start, byteCount >= 2 * huge else { return }
    let first = (Int(bitPattern: start) + huge - 1) & ~(huge - 1)
    let end = (Int(bitPattern: start) + byteCount) & ~(huge - 1)
    guard end > first, let p = UnsafeMutableRawPointer(bitPattern: first) else { return }
    _ = madvise(p, end - first, MADV_HUGEPAGE)
}
